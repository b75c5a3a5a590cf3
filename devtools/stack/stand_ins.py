"""What stands in for the outside services: an emulator of each provider's API, the local
Stripe server and an SMTP sink; and the settings that point the platform at them (nothing
else in the platform knows they are not the real services).

The emulators are found, not listed: every module of `devtools.emulators` that declares
``EMULATES`` (`devtools.emulators.Emulates`) is one, run as ``python -m`` that module.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from devtools.emulators import Emulates
from devtools.stack.ports import port_open
from devtools.stack.processes import Log, Process, python_module

STRIPE_SECRET_KEY = "sk_test_local"
EMULATORS = "devtools.emulators"


def emulated() -> dict[str, Emulates]:
    """What each emulator module declares it emulates, by provider name. A declaration of
    the wrong type, or in a module not named after its provider, stops the stack."""
    found: dict[str, Emulates] = {}
    for module_info in pkgutil.iter_modules(importlib.import_module(EMULATORS).__path__):
        module = importlib.import_module(f"{EMULATORS}.{module_info.name}")
        declared = getattr(module, "EMULATES", None)
        if declared is None:
            continue
        if not isinstance(declared, Emulates):
            raise TypeError(f"{module.__name__}.EMULATES is not an Emulates")
        if declared.provider != module_info.name:
            raise ValueError(f"{module.__name__} emulates {declared.provider!r}: rename it")
        found[declared.provider] = declared
    return found


def emulator_port(provider: str, env: Mapping[str, str] = os.environ) -> int:
    """Where `make run` serves ``provider``'s emulator: <PROVIDER>_EMULATOR_PORT, else the
    port its module declares."""
    return int(env.get(f"{provider.upper()}_EMULATOR_PORT", emulated()[provider].port))


def emulator_settings(
    urls: Mapping[str, str], rdp_port: int, credentials: str = "local"
) -> dict[str, str]:
    """Point each provider's client at its emulator (``urls``: each emulator's root URL,
    without the API's path, by provider name), with credentials made up from
    ``credentials`` (the emulators take any)."""
    declared = emulated()
    unknown = set(urls) - set(declared)
    if unknown:
        raise ValueError(f"no emulator of {', '.join(sorted(unknown))}")
    settings = {"RDP_PORT": str(rdp_port)}
    for provider, url in urls.items():
        settings.update(declared[provider].client_settings(url, credentials))
    return settings


def local_emulators(rdp_port: int, *options: str, env: Mapping[str, str]) -> list[Emulator]:
    """An `Emulator` of every provider on its `emulator_port`, with ``options`` and then
    the ones its module declares for `make run`."""
    return [
        Emulator(provider, emulator_port(provider, env), rdp_port, *options, *declared.options)
        for provider, declared in emulated().items()
    ]


def stripe_settings(stripe_url: str, web_url: str, webhook_secret: str) -> dict[str, str]:
    """Point billing at a local Stripe, which calls the web app at ``web_url`` back."""
    return {
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
        "PUBLIC_BASE_URL": web_url,
    }


def webhook_endpoint(web_url: str, secret: str) -> str:
    """The local Stripe's ``--webhook`` argument for the web app at ``web_url``."""
    return f"{web_url}/api/billing/webhook={secret}"


class Emulator(Process):
    """``python -m devtools.emulators.<provider>`` on ``port``; ``options`` are its
    settings (``--boot-seconds 1 --ip-prefix 127.41`` …)."""

    def __init__(
        self,
        provider: str,
        port: int,
        rdp_port: int,
        *options: str,
        log: Log = None,
        env: Mapping[str, str] = os.environ,
        host: str = "127.0.0.1",
    ) -> None:
        self.label, self.port, self.host = provider, port, host
        self.url = f"http://{host}:{port}"
        rdp = ("--rdp-port", str(rdp_port), "--host", host)
        command = python_module(f"devtools.emulators.{provider}", "--port", str(port), *rdp)
        super().__init__([*command, *options], env, log)

    def ready(self) -> bool:
        return port_open(self.port, self.host)


class LocalStripe(Process):
    """``python -m devtools.stripe_server`` on ``port``, delivering signed webhooks to
    ``webhook`` (URL=SECRET). Its state is kept in ``state_dir`` (a new temporary one by
    default) across `stop` and `start`, or only in memory with ``in_memory``."""

    label = "stripe"
    ready_timeout = 30.0

    def __init__(
        self,
        port: int,
        webhook: str,
        log: Log = None,
        *,
        state_dir: Path | None = None,
        in_memory: bool = False,
        env: Mapping[str, str] = os.environ,
        host: str = "127.0.0.1",
    ) -> None:
        self.port, self.host, self.url = port, host, f"http://{host}:{port}"
        command = python_module("devtools.stripe_server", "--host", host, "--port", str(port))
        command += ["--webhook", webhook]
        if in_memory:
            command.append("--in-memory")
        else:
            state_dir = state_dir or Path(tempfile.mkdtemp(prefix="nemordp-stripe-"))
            command += ["--state-dir", str(state_dir)]
        super().__init__(command, env, log)

    def start(self, *, from_scratch: bool = False) -> None:
        """Start it; ``from_scratch`` discards the saved state first (a later start keeps
        the state)."""
        command = self.command
        if from_scratch:
            self.command = [*command, "--from-scratch"]
        try:
            super().start()
        finally:
            self.command = command

    def ready(self) -> bool:
        return port_open(self.port, self.host)


class MailSink(Process):
    """An SMTP server on ``port`` that prints every message it receives (aiosmtpd's
    Debugging handler) instead of delivering it."""

    label = "mail"

    def __init__(
        self,
        port: int,
        env: Mapping[str, str] = os.environ,
        log: Log = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.port, self.host = port, host
        command = python_module("aiosmtpd", "-n", "-l", f"{host}:{port}")
        super().__init__([*command, "-c", "aiosmtpd.handlers.Debugging", "stdout"], env, log)

    def ready(self) -> bool:
        return port_open(self.port, self.host)
