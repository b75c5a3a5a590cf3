"""The provider emulator tests here each serve their emulator as a module-scoped ``server``."""

from __future__ import annotations

import pytest

from tests.support.emulators import EmulatorHandle, ServedEmulator


@pytest.fixture()
def admin(server: ServedEmulator) -> EmulatorHandle:
    """The emulator's admin API, with the emulator emptied and its settings restored."""
    return server.fresh()
