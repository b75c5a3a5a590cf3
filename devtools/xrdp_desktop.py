"""A real Remote Desktop server for the console's tests and benchmark: Debian's xrdp on one
loopback address and port, in a directory of its own (configuration, a throwaway TLS
certificate, its log), showing its own login dialog. No session manager runs, so nothing
logs on past the dialog; it is there to be drawn and typed into.

    with XrdpDesktop("127.77.0.1", 3390) as desktop:
        ...  # a machine whose Remote Desktop answers at desktop.address:desktop.port
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

XRDP = "/usr/sbin/xrdp"
CONFIG = """[Globals]
ini_version=1
fork=true
port=tcp://{address}:{port}
security_layer=tls
certificate={directory}/cert.pem
key_file={directory}/key.pem
ssl_protocols=TLSv1.2, TLSv1.3
allow_channels=true
bitmap_cache=true
bitmap_compression=true
bulk_compression=true
max_bpp=32
use_fastpath=both
ls_title=NemoRDP machine
[Logging]
LogFile={directory}/xrdp.log
LogLevel=INFO
EnableSyslog=false
EnableConsole=false
[Channels]
[Xorg]
name=Xorg
lib=libxup.so
username=ask
password=ask
ip=127.0.0.1
port=-1
code=20
"""


class XrdpMissing(RuntimeError):
    """xrdp is not installed (``apt-get install xrdp``; ``make test`` does it)."""


def _answers(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


class XrdpDesktop:
    """xrdp listening on address:port while the ``with`` block runs."""

    def __init__(self, address: str, port: int) -> None:
        self.address, self.port = address, port
        self.directory = Path(tempfile.mkdtemp(prefix="nemordp-xrdp-"))
        self.log = self.directory / "xrdp.log"
        self._process: subprocess.Popen[bytes] | None = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self, timeout: float = 10) -> XrdpDesktop:
        if not Path(XRDP).exists():
            raise XrdpMissing(f"{XRDP} is missing: apt-get install -y xrdp")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=machine", "-keyout", str(self.directory / "key.pem"),
             "-out", str(self.directory / "cert.pem")],
            check=True,
            capture_output=True,
        )  # fmt: skip
        config = self.directory / "xrdp.ini"
        config.write_text(
            CONFIG.format(address=self.address, port=self.port, directory=self.directory)
        )
        self._process = subprocess.Popen(
            [XRDP, "--nodaemon", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not _answers(self.address, self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"xrdp did not listen: {self.log_text()[-2000:]}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> XrdpDesktop:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
