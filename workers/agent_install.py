"""Installing the in-guest agent from a machine's first-boot script.

The agent scripts live in the repository under ``agent/``; this renders them, with the
platform's URL, the machine's id and its token, into cloud-config (Linux: a systemd timer)
or PowerShell (Windows: a scheduled task). The token appears only here and in the
machine's user data.
"""

from __future__ import annotations

import base64
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

AGENT_DIR = Path(__file__).resolve().parent.parent / "agent"


@dataclass(frozen=True)
class AgentSetup:
    api_url: str
    instance_id: int
    token: str
    interval_minutes: int


def _read(relative: str) -> str:
    return (AGENT_DIR / relative).read_text()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def linux_files(agent: AgentSetup) -> list[str]:
    """A cloud-config ``write_files`` section: script, root-only config, service, timer."""
    config = "".join(
        f"{name}={shlex.quote(str(value))}\n"
        for name, value in (
            ("NEMORDP_API_URL", agent.api_url),
            ("NEMORDP_INSTANCE_ID", agent.instance_id),
            ("NEMORDP_AGENT_TOKEN", agent.token),
        )
    )
    timer = _read("linux/nemordp-agent.timer").replace("@INTERVAL@", str(agent.interval_minutes))
    files = (
        ("/usr/local/bin/nemordp-agent", "0755", _read("linux/nemordp-agent.sh")),
        ("/etc/nemordp/agent.conf", "0600", config),
        ("/etc/systemd/system/nemordp-agent.service", "0644", _read("linux/nemordp-agent.service")),
        ("/etc/systemd/system/nemordp-agent.timer", "0644", timer),
    )
    lines = ["write_files:"]
    for path, mode, content in files:
        lines += [
            f"  - path: {path}",
            f"    permissions: '{mode}'",
            "    encoding: b64",
            f"    content: {_b64(content)}",
        ]
    return lines


def linux_commands() -> list[str]:
    """cloud-config ``runcmd`` entries that start the timer."""
    return [
        "  - [systemctl, daemon-reload]",
        "  - [systemctl, enable, --now, nemordp-agent.timer]",
    ]


def windows_lines(agent: AgentSetup) -> list[str]:
    """PowerShell that installs the agent and its scheduled task."""
    config = json.dumps(
        {"api_url": agent.api_url, "instance_id": agent.instance_id, "token": agent.token}
    )
    script = (
        _read("windows/install-agent.ps1")
        .replace("@SCRIPT@", _b64(_read("windows/nemordp-agent.ps1")))
        .replace("@CONFIG@", _b64(config))
        .replace("@INTERVAL@", str(agent.interval_minutes))
    )
    return script.rstrip("\n").splitlines()
