"""The desktop in the browser, measured end to end: time to first frame, keystroke to
screen, and what an idle desktop costs in bandwidth.

A real Remote Desktop server (Debian's xrdp, its login screen) listens on a machine's
loopback address; the console gateway runs as its own process (`nemordp console-gateway`,
started by the stack launcher) with production settings on PostgreSQL and Redis. Each run
asks the platform for a ticket and plays the browser's part over the WebSocket:

- first frame: from opening the WebSocket to the first screen region, and to a complete
  screen (no region for 0.5 s);
- keystroke to screen: from sending a key to the first region the server draws in answer
  (a letter, then Backspace, in the login dialog's field, so the screen stays the same);
- idle: bytes the browser receives per second over ``--idle-seconds`` with no input.

It also encodes the complete login screen and its regions as raw RGBA, PNG and JPEG, the
choices for the wire format (`app.console.frames`). Figures are printed next to their
limits.

    make bench-console        # or: .venv/bin/python bench/console.py --help
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

from PIL import Image
from websockets.sync.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api_load import production_env  # noqa: E402
from bench.stack import bench_database_url, free_port, percentile, reset_database  # noqa: E402

FIRST_FRAME_LIMIT_MS = 2000.0  # the login screen within two seconds of "Console"
KEY_LIMIT_MS = 100.0  # typing feels immediate below ~100 ms (p95)
IDLE_LIMIT_BPS = 1000.0  # an idle console costs next to nothing
MACHINE_ADDRESS = "127.77.0.9"
SCREEN = (1024, 768)
ENCODE_REPEAT = 9


def seed() -> tuple[int, int]:
    """A customer and an active machine whose Remote Desktop is the local xrdp."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Instance, InstanceStatus, Plan, User
    from app.security import crypto
    from app.security.passwords import hash_password

    with create_app().app_context():
        user = User(email="console@example.com", password_hash=hash_password("x" * 16))
        db.session.add(user)
        db.session.flush()
        plan_id = db.session.scalar(select(Plan.id).where(Plan.code == "basic"))
        machine = Instance(
            user_id=user.id,
            plan_id=plan_id,
            status=InstanceStatus.ACTIVE,
            os_type="linux",
            region="us-east",
            provider="vultr",
            provider_id="bench-console",
            ip_address=MACHINE_ADDRESS,
            username="alice",
            password_encrypted=crypto.encrypt("not-the-real-one"),
        )
        db.session.add(machine)
        db.session.commit()
        return user.id, machine.id


def ticket(user_id: int, machine_id: int) -> str:
    from app import create_app
    from app.extensions import db
    from app.models import User
    from app.services import console

    with create_app().app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return str(console.issue(user, machine_id)["ticket"])


def receive_until_quiet(socket: ClientConnection, quiet: float, limit: float) -> list[bytes]:
    """Binary messages until none arrives for ``quiet`` seconds (or ``limit`` passes)."""
    messages: list[bytes] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            message = socket.recv(timeout=quiet)
        except TimeoutError:
            break
        if isinstance(message, bytes):
            messages.append(message)
    return messages


def one_run(url: str, grant: str, keys: int, idle_seconds: float) -> dict[str, object]:
    began = time.perf_counter()
    with connect(url, open_timeout=10, max_size=None) as socket:
        socket.send(grant)
        ready = json.loads(socket.recv(timeout=20))
        assert ready["type"] == "ready", ready
        first = socket.recv(timeout=20)
        first_ms = (time.perf_counter() - began) * 1000
        assert isinstance(first, bytes)
        rest = receive_until_quiet(socket, 0.5, 20)
        complete_ms = (time.perf_counter() - began) * 1000 - 500
        screen = [first, *rest]

        latencies = []
        for n in range(keys):
            code = "KeyA" if n % 2 == 0 else "Backspace"
            sent = time.perf_counter()
            socket.send(json.dumps({"type": "key", "code": code, "down": True}))
            drawn = socket.recv(timeout=5)
            latencies.append((time.perf_counter() - sent) * 1000)
            socket.send(json.dumps({"type": "key", "code": code, "down": False}))
            receive_until_quiet(socket, 0.2, 5)

        idle_bytes, idle_began = 0, time.monotonic()
        while (left := idle_began + idle_seconds - time.monotonic()) > 0:
            try:
                message = socket.recv(timeout=left)
            except TimeoutError:
                break
            idle_bytes += len(message)
        assert isinstance(drawn, bytes)
    return {
        "first_ms": first_ms,
        "complete_ms": complete_ms,
        "screen_bytes": sum(len(m) for m in screen),
        "regions": len(screen),
        "keys_ms": latencies,
        "idle_bps": idle_bytes / idle_seconds,
        "screen": screen,
    }


def encodings(screen: list[bytes]) -> dict[str, tuple[int, float]]:
    """(bytes, median encode ms) of the complete screen's regions in each candidate format."""
    from app.console.frames import HEADER

    regions = []
    for message in screen:
        x, y, _, _ = HEADER.unpack_from(message)
        regions.append((x, y, Image.open(io.BytesIO(message[HEADER.size :])).convert("RGB")))
    results = {}
    candidates: list[tuple[str, str | None, dict[str, int]]] = [
        ("raw RGBA", None, {}),
        ("PNG, zlib level 1 (in use)", "PNG", {"compress_level": 1}),
        ("PNG, zlib level 6", "PNG", {"compress_level": 6}),
        ("JPEG, quality 80", "JPEG", {"quality": 80}),
    ]
    for name, kind, options in candidates:
        times = []
        for _ in range(ENCODE_REPEAT):
            began, size = time.perf_counter(), 0
            for _, _, image in regions:
                if kind is None:
                    size += len(image.convert("RGBA").tobytes())
                    continue
                out = io.BytesIO()
                image.save(out, kind, **options)
                size += len(out.getvalue())
            times.append((time.perf_counter() - began) * 1000)
        results[name] = (size, statistics.median(times))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="consoles opened one after another")
    parser.add_argument("--keys", type=int, default=40, help="keystrokes timed per console")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()

    rdp_port = free_port()
    env = production_env(bench_database_url("console"))
    env.update({"RDP_PORT": str(rdp_port), "LOG_LEVEL": "WARNING"})
    os.environ.update(env)
    reset_database(env)
    user_id, machine_id = seed()
    logging.getLogger().setLevel(logging.ERROR)

    from devtools.stack.platform import ConsoleGateway
    from devtools.xrdp_desktop import XrdpDesktop

    runs = []
    with XrdpDesktop(MACHINE_ADDRESS, rdp_port):
        gateway = ConsoleGateway(free_port(), env)
        gateway.start()
        try:
            for _ in range(args.runs):
                grant = ticket(user_id, machine_id)
                runs.append(one_run(gateway.url, grant, args.keys, args.idle_seconds))
        finally:
            gateway.stop()
    report(runs, args)


def report(runs: list[dict[str, object]], args: argparse.Namespace) -> None:
    def values(key: str) -> list[float]:
        return [float(run[key]) for run in runs]  # type: ignore[arg-type]

    keys = [ms for run in runs for ms in run["keys_ms"]]  # type: ignore[attr-defined]
    first_p50 = percentile(values("first_ms"), 50)
    key_p95 = percentile(keys, 95)
    idle = max(values("idle_bps"))
    print(f"\n{args.runs} consoles, {args.keys} keystrokes each, idle {args.idle_seconds:g} s")
    print(
        f"first region     p50 {first_p50:6.0f} ms  max {max(values('first_ms')):6.0f} ms"
        f"   ({first_p50 / FIRST_FRAME_LIMIT_MS:.2f} of {FIRST_FRAME_LIMIT_MS:.0f} ms)"
    )
    print(
        f"complete screen  p50 {percentile(values('complete_ms'), 50):6.0f} ms"
        f"  ({runs[0]['regions']} regions, {runs[0]['screen_bytes']} bytes)"
    )
    print(
        f"key to screen    p50 {percentile(keys, 50):6.1f} ms  p95 {key_p95:6.1f} ms"
        f"  max {max(keys):6.1f} ms   (p95 {key_p95 / KEY_LIMIT_MS:.2f} of {KEY_LIMIT_MS:.0f} ms)"
    )
    print(f"idle             {idle:6.1f} bytes/s max   ({idle / IDLE_LIMIT_BPS:.2f} of 1 kB/s)")
    print(f"\nthe complete login screen ({SCREEN[0]}x{SCREEN[1]}) in each format:")
    for name, (size, ms) in encodings(runs[0]["screen"]).items():  # type: ignore[arg-type]
        print(f"  {name:<28} {size:>9,} bytes  {ms:6.1f} ms to encode")


if __name__ == "__main__":
    main()
