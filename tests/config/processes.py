"""Start Python or the Flask CLI in a fresh process with only the environment a test gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "FLASK_SKIP_DOTENV": "1"}
    return subprocess.run(
        args, cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def python(code: str, *, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with only ``env`` (and PATH, PYTHONPATH) set."""
    return _run([sys.executable, "-c", code], cwd, env)


def flask(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``flask --app wsgi <args>`` with only ``env`` (and PATH, PYTHONPATH) set."""
    return _run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd, env)
