"""`make cluster` in its short form: the platform on ten hosts (network namespaces),
orders paid through the proxy while a worker host, a web host and the active beat host
disappear and a worker host is cut from Redis; then every invariant, the recovery times and
the throughput with 1, 2 and 3 worker hosts. Everything it made is gone afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from devtools.cluster import netns
from devtools.cluster.scenario import SHORT, rehearse
from tests.conftest import ARTIFACTS
from tests.support.emulators import wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


def test_the_cluster_keeps_every_invariant_while_hosts_fail() -> None:
    directory = Path(tempfile.mkdtemp(prefix="nemordp-cluster-"))
    report = rehearse(SHORT, ARTIFACTS / "cluster-short", directory)
    (ARTIFACTS / "cluster-short.json").write_text(json.dumps(report, indent=2))

    assert report["violations"] == [], json.dumps(report, indent=2)
    assert report["notes"] == [], report["notes"]  # every order of every batch paid too
    assert report["paid"] == SHORT.orders
    assert report["error_rate_percent"] < 0.5
    recovered = report["recovery_seconds"]
    assert set(recovered) == {
        "worker host work1 serving again after its return",
        "web host web2 serving again after its return",
        "standby beat took over",
        "worker host work2 answering again after the Redis cut",
    }, recovered
    assert len(report["orders_per_minute"]) == 3
    # Torn down: no namespace, link or directory of it is left.
    assert netns.ours() == []
    assert netns.ip("link", "show", netns.CLIENT_LINK, check=False).returncode != 0
    assert not directory.exists()


def test_an_interrupted_rehearsal_leaves_nothing_behind(tmp_path: Path) -> None:
    """SIGTERM while the hosts are failing: every process, namespace and link goes."""
    output = tmp_path / "cluster.out"
    command = [sys.executable, "-m", "devtools.cluster", "--short", "--logs", str(tmp_path)]
    with open(output, "wb") as out:
        rehearsal = subprocess.Popen(
            [*command, "--report", str(tmp_path / "report.json")],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: "disappears" in output.read_text(), timeout=240, interval=0.5)
        assert netns.ours() != []
        rehearsal.send_signal(signal.SIGTERM)
        assert rehearsal.wait(timeout=120) != 0
    finally:
        if rehearsal.poll() is None:
            rehearsal.kill()
            netns.cleanup()
    assert netns.ours() == [], output.read_text()
    assert netns.ip("link", "show", netns.CLIENT_LINK, check=False).returncode != 0
