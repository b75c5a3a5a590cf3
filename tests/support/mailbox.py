"""A real local SMTP server (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.box.lock:
            for to in envelope.rcpt_tos:
                if self.box.refusing.get(to, 0) > 0:
                    self.box.refusing[to] -= 1
                    self.box.refused[to] = self.box.refused.get(to, 0) + 1
                    return "451 4.3.0 Try again later"
            self.box.messages.append(message)
        return "250 OK"


class Mailbox:
    def __init__(self, port: int) -> None:
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.refusing: dict[str, int] = {}  # address: messages still to answer 451
        self.refused: dict[str, int] = {}  # address: messages answered 451
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.refusing.clear()
            self.refused.clear()

    def refuse(self, to: str, times: int) -> None:
        """Answer the next ``times`` messages to ``to`` with 451 (try again later)."""
        with self.lock:
            self.refusing[to] = times

    def wait_for(self, to: str, timeout: float = 15.0) -> EmailMessage:
        """The first message to an address, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for message in self.messages:
                    if to in str(message["To"]):
                        return message
            time.sleep(0.05)
        raise AssertionError(f"no e-mail to {to} within {timeout}s")
