"""The lock files agree with pyproject.toml: every dependency it names is locked at a version
its specifier allows, every locked package carries its hashes, and the development tree is
the runtime's tree with the tools added, at the very same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# A locked package: its pin, then its hashes on continuation lines.
ENTRY = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?P<rest>(?:.*\\\n)*.*)$", re.M
)


def _locked(file_name: str) -> dict[str, tuple[str, str]]:
    """Package name -> (version, the lines after the pin) of a lock file."""
    text = (ROOT / file_name).read_text()
    return {canonicalize_name(m["name"]): (m["version"], m["rest"]) for m in ENTRY.finditer(text)}


def _declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + [
        line for extra in extras for line in project["optional-dependencies"][extra]
    ]
    return [Requirement(line) for line in names]


def _disagreements(
    requirements: list[Requirement], locked: dict[str, tuple[str, str]]
) -> list[str]:
    problems = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name not in locked:
            problems.append(f"{requirement}: not locked")
        elif not requirement.specifier.contains(locked[name][0], prereleases=True):
            problems.append(f"{requirement}: locked at {locked[name][0]}")
    return problems


def test_runtime_lock_has_every_dependency_at_its_pinned_version() -> None:
    assert _disagreements(_declared(), _locked("requirements.lock")) == []


def test_development_lock_has_every_dependency_and_extra_at_its_pinned_version() -> None:
    requirements = _declared("local", "dev")
    assert _disagreements(requirements, _locked("requirements-dev.lock")) == []


def test_development_lock_holds_the_runtime_tree_at_the_same_versions() -> None:
    runtime, development = _locked("requirements.lock"), _locked("requirements-dev.lock")
    differing = {
        name: (version, development.get(name, ("missing",))[0])
        for name, (version, _) in runtime.items()
        if development.get(name, ("",))[0] != version
    }
    assert differing == {}


def test_every_locked_package_carries_its_hashes() -> None:
    for file_name in ("requirements.lock", "requirements-dev.lock"):
        locked = _locked(file_name)
        assert len(locked) > 50
        unhashed = [name for name, (_, rest) in locked.items() if "--hash=sha256:" not in rest]
        assert unhashed == [], file_name


def test_locks_name_no_package_index() -> None:
    """Each host installs from its own pip configuration; the lock says only what to install."""
    for file_name in ("requirements.lock", "requirements-dev.lock"):
        options = [
            line
            for line in (ROOT / file_name).read_text().splitlines()
            if line.lstrip().startswith("-") and not line.lstrip().startswith("--hash=")
        ]
        assert options == [], file_name
