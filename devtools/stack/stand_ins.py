"""What stands in for the outside services: the Vultr and Contabo emulators, the local
Stripe server and an SMTP sink; and the settings that point the platform at them (nothing
else in the platform knows they are not the real services)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from devtools.stack.ports import port_open
from devtools.stack.processes import Log, Process, python_module

STRIPE_SECRET_KEY = "sk_test_local"
PROVIDERS = ("vultr", "contabo")


def emulator_settings(
    vultr_url: str, contabo_url: str, rdp_port: int, credentials: str = "local"
) -> dict[str, str]:
    """Point the provider clients at emulators (base URLs without the API's path); their
    credentials are made up from ``credentials`` (the emulators take any)."""
    return {
        "VULTR_API_URL": f"{vultr_url}/v2",
        "VULTR_API_KEY": f"{credentials}-vultr-key",
        "CONTABO_API_URL": f"{contabo_url}/v1",
        "CONTABO_AUTH_URL": f"{contabo_url}/auth/realms/contabo/protocol/openid-connect/token",
        "CONTABO_CLIENT_ID": f"{credentials}-client",
        "CONTABO_CLIENT_SECRET": f"{credentials}-client-secret",
        "CONTABO_API_USER": "api@example.com",
        "CONTABO_API_PASSWORD": f"{credentials}-api-password",
        "RDP_PORT": str(rdp_port),
    }


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
    ) -> None:
        self.label, self.port, self.url = provider, port, f"http://127.0.0.1:{port}"
        rdp = ("--rdp-port", str(rdp_port))
        command = python_module(f"devtools.emulators.{provider}", "--port", str(port), *rdp)
        super().__init__([*command, *options], env, log)

    def ready(self) -> bool:
        return port_open(self.port)


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
    ) -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        command = python_module("devtools.stripe_server", "--port", str(port))
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
        return port_open(self.port)


class MailSink(Process):
    """An SMTP server on ``port`` that prints every message it receives (aiosmtpd's
    Debugging handler) instead of delivering it."""

    label = "mail"

    def __init__(self, port: int, env: Mapping[str, str] = os.environ, log: Log = None) -> None:
        self.port = port
        command = python_module("aiosmtpd", "-n", "-l", f"127.0.0.1:{port}")
        super().__init__([*command, "-c", "aiosmtpd.handlers.Debugging", "stdout"], env, log)

    def ready(self) -> bool:
        return port_open(self.port)
