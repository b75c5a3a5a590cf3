"""The local Stripe as a process the tests can stop and start again, keeping its state."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO


class LocalStripe:
    """``python -m devtools.stripe_server`` on a fixed port with its own state directory."""

    def __init__(self, root: Path, port: int, webhook: str, log: IO[bytes]) -> None:
        self.root, self.port, self.webhook, self.log = root, port, webhook, log
        self.state_dir = tempfile.mkdtemp(prefix="nemordp-stripe-")
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self, *, from_scratch: bool = False) -> None:
        command = [sys.executable, "-m", "devtools.stripe_server", "--port", str(self.port)]
        command += ["--state-dir", self.state_dir, "--webhook", self.webhook]
        if from_scratch:
            command.append("--from-scratch")
        self.process = subprocess.Popen(
            command, cwd=self.root, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError("the local Stripe did not start; see test-artifacts/stripe.log")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop it (Stripe is down until `start`); its state is kept on disk."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True
