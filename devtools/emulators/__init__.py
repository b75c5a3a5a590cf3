"""Emulators of the providers' APIs, one module per provider, named after it. A module that
emulates a provider declares it as ``EMULATES``; the stack launcher's stand-ins
(`devtools.stack.stand_ins`) find every declaration, start each emulator and point the
provider's client at it, so a new emulator needs no change there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Emulates:
    """What an emulator module stands in for, and how the stack runs it."""

    provider: str  # the client's name in `workers.providers.registry`, and the module's
    port: int  # where `make run` serves it, unless <PROVIDER>_EMULATOR_PORT says otherwise
    # The settings that point the provider's client at the emulator served at a root URL,
    # with credentials made up from a word (the emulators accept any).
    client_settings: Callable[[str, str], dict[str, str]]
    options: tuple[str, ...] = ()  # its command-line settings under `make run`
