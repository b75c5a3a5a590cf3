"""The systemd units of deploy/systemd pass `systemd-analyze verify` (no warning either) and
its offline security review, every queue has a worker group, and the user and directories
they need come from the sysusers and tmpfiles files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.tasking import QUEUES
from tests.deploy.conftest import DEPLOY, units_for_this_machine

WORKER_GROUPS = sorted(path.stem for path in (DEPLOY / "workers").glob("*.env"))
# Every unit as a host runs it: templates under the instance names docs/deploy.md enables.
UNITS = [
    "nemordp-web.service",
    *(f"nemordp-worker@{group}.service" for group in WORKER_GROUPS),
    "nemordp-beat@1.service",
    "nemordp-flower.service",
    "nemordp-console.service",
    "nemordp.target",
]
# systemd-analyze's 0-10 exposure score; 2.0 and below is "OK".
MAX_EXPOSURE = "2.0"


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("unit", UNITS)
def test_the_unit_verifies_without_a_warning(
    unit: str, systemd_analyze: str, tmp_path: Path
) -> None:
    units = units_for_this_machine(tmp_path)
    result = _run(systemd_analyze, "verify", "--man=no", str(units / unit))
    # verify exits 0 on an unknown or misspelt setting, and only warns: none is allowed.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("unit", [unit for unit in UNITS if unit.endswith(".service")])
def test_the_service_is_hardened(unit: str, systemd_analyze: str, tmp_path: Path) -> None:
    units = units_for_this_machine(tmp_path)
    result = _run(
        systemd_analyze,
        "security",
        "--offline=yes",
        f"--threshold={float(MAX_EXPOSURE) * 10:.0f}",
        "--no-pager",
        str(units / unit),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_queue_has_a_worker_group() -> None:
    consumed: list[str] = []
    for group in WORKER_GROUPS:
        settings = dict(
            line.split("=", 1)
            for line in (DEPLOY / "workers" / f"{group}.env").read_text().splitlines()
            if line and not line.startswith("#")
        )
        consumed += settings["WORKER_QUEUES"].split(",")
        assert int(settings["WORKER_CONCURRENCY"]) > 0
    assert sorted(consumed) == sorted(QUEUES), "each queue in exactly one group"


def test_the_system_user_owns_the_state_and_runtime_directories(
    systemd_analyze: str, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    systemd = DEPLOY / "systemd"
    sysusers = _run("systemd-sysusers", f"--root={root}", str(systemd / "nemordp.sysusers"))
    assert sysusers.returncode == 0, sysusers.stderr
    tmpfiles = _run(
        "systemd-tmpfiles", "--create", f"--root={root}", str(systemd / "nemordp.tmpfiles")
    )
    assert tmpfiles.returncode == 0, tmpfiles.stderr

    user = next(
        line.split(":")
        for line in (root / "etc" / "passwd").read_text().splitlines()
        if line.startswith("nemordp:")
    )
    uid, home, shell = int(user[2]), user[5], user[6]
    assert uid < 1000 and home == "/var/lib/nemordp" and shell == "/usr/sbin/nologin"
    for directory in ("var/lib/nemordp", "run/nemordp", "run/nemordp/prometheus"):
        stat = (root / directory).stat()
        assert (stat.st_uid, stat.st_mode & 0o777) == (uid, 0o750), directory
