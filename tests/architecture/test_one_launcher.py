"""One launcher starts the stack: outside `devtools/stack/`, no module of the tests, the
benchmarks or the development tools starts gunicorn, Celery, redis-server or PostgreSQL
itself; each asks the launcher (`devtools.stack`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "devtools" / "stack"
SEARCHED = ("tests", "bench", "devtools")
# PostgreSQL is started through pg_ctl (or pg_ctlcluster) after initdb; "postgres" alone is
# mostly its user's name.
SERVERS = ("gunicorn", "celery", "redis-server", "pg_ctl", "pg_ctlcluster", "initdb")
STARTERS = {"subprocess", "pty", "multiprocessing"}  # and os.exec*, os.spawn*, os.system
SHELL_COMMAND = re.compile(rf"(^|[\s;&|(`$\"'/])({'|'.join(SERVERS)})([\s\"';&|)]|$)")


def _command_words(tree: ast.AST) -> list[ast.Constant]:
    """Strings that name a server where a command is built: an element of a list or tuple,
    an argument of a call, or a path joined with ``/`` (``bin / "pg_ctl"``); not a
    dictionary key (``app.extensions["celery"]``) or a keyword argument."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple):
            candidates = node.elts
        elif isinstance(node, ast.Call):
            candidates = node.args
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            candidates = [node.right]
        else:
            continue
        found += [
            c
            for c in candidates
            if isinstance(c, ast.Constant)
            and isinstance(c.value, str)
            and c.value.rsplit("/", 1)[-1] in SERVERS
        ]
    return found


def _starts_processes(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names]
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            if any(module.split(".")[0] in STARTERS for module in modules):
                return True
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr.startswith(("exec", "spawn", "system", "popen"))
        ):
            return True
    return False


def python_offenders(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    if not _starts_processes(tree):
        return []
    return [f"{path.name}:{word.lineno}: {word.value!r}" for word in _command_words(tree)]


def shell_offenders(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("#", 1)[0]
        if SHELL_COMMAND.search(code):
            found.append(f"{path.name}:{number}: {line.strip()}")
    return found


def offenders() -> list[str]:
    found = []
    for top in SEARCHED:
        for path in sorted((ROOT / top).rglob("*")):
            if LAUNCHER in path.parents or not path.is_file():
                continue
            where = str(path.relative_to(ROOT).parent)
            if path.suffix == ".py":
                found += [f"{where}/{line}" for line in python_offenders(path)]
            elif path.suffix == ".sh":
                found += [f"{where}/{line}" for line in shell_offenders(path)]
    return found


def test_only_the_launcher_starts_servers() -> None:
    assert offenders() == []


def test_the_check_catches_a_module_that_starts_a_server_itself(tmp_path: Path) -> None:
    module = tmp_path / "starts_gunicorn.py"
    module.write_text(
        "import subprocess, sys\nsubprocess.Popen([sys.executable, '-m', 'gunicorn', 'wsgi:app'])\n"
    )
    script = tmp_path / "starts_redis.sh"
    script.write_text('#!/bin/sh\n"$VENV/bin/redis-server" --port 6390  # a private one\n')
    assert python_offenders(module) == ["starts_gunicorn.py:2: 'gunicorn'"]
    assert len(shell_offenders(script)) == 1
