"""The stack launcher (devtools/stack): a piece is served once `start` returns, keeps what
it should across a restart, a supervised process comes back by itself, and a group stops
every process it started, also when its own process gets SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import stripe

from devtools.stack.ports import free_port
from devtools.stack.processes import ROOT, Supervised
from devtools.stack.stand_ins import STRIPE_SECRET_KEY, LocalStripe
from tests.support.emulators import wait_until

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def test_a_local_stripe_serves_once_started_and_keeps_its_state_across_a_restart(
    tmp_path: Path,
) -> None:
    local = LocalStripe(free_port(), "http://127.0.0.1:9/hook=whsec_x", subprocess.DEVNULL)
    local.start(from_scratch=True)
    try:
        client = stripe.StripeClient(STRIPE_SECRET_KEY, base_addresses={"api": local.url})
        customer = client.v1.customers.create({"email": "kept@example.com"})  # no waiting
        local.stop()
        local.start()
        assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"
    finally:
        local.stop()


def test_a_supervised_process_comes_back_until_it_is_stopped() -> None:
    process = Supervised(SLEEPER, os.environ, subprocess.DEVNULL)
    process.start()
    first = process.pid
    os.kill(first, signal.SIGKILL)  # it dies by itself, as far as the supervisor knows
    wait_until(lambda: process.running and process.pid != first, timeout=10)
    assert process.restarts == 1
    second = process.pid
    process.stop()
    assert not psutil.pid_exists(second)
    assert not process.running and process.restarts == 1


def test_sigterm_to_the_launching_process_stops_every_process_of_its_group(
    tmp_path: Path,
) -> None:
    pids = tmp_path / "pids"
    script = textwrap.dedent(
        f"""
        import os, subprocess, time
        from devtools.stack.group import Group
        from devtools.stack.processes import Process, Supervised
        command = {SLEEPER!r}
        with Group() as group:
            plain = group.add(Process(command, os.environ, subprocess.DEVNULL))
            plain.start()
            kept = group.add(Supervised(command, os.environ, subprocess.DEVNULL))
            kept.start()
            open({str(pids)!r}, "w").write(f"{{plain.pid}} {{kept.pid}}")
            time.sleep(600)
        """
    )
    launcher = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        wait_until(lambda: pids.exists() and pids.read_text(), timeout=30)
        started = [int(pid) for pid in pids.read_text().split()]
        assert all(psutil.pid_exists(pid) for pid in started)
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) == 128 + signal.SIGTERM
        assert not any(psutil.pid_exists(pid) for pid in started)
    finally:
        launcher.kill()
