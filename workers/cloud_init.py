"""First-boot scripts that make a fresh machine a Remote Desktop host.

Windows gets a PowerShell script (Vultr and Contabo both run ``<powershell>`` user data
through cloudbase-init); Linux gets cloud-config that installs xrdp and a desktop.

Neither ever carries a password: user data stays readable to every process on the machine
through the metadata service, and is kept at the provider. The provider sets the password
itself (Vultr generates one, Contabo takes ours as a secret) for Administrator on Windows
and root on Linux; the Linux script gives our desktop user that same password by copying
root's hash, which only exists on the machine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from workers import agent_install
from workers.agent_install import AgentSetup


def user_data(
    os_type: str,
    username: str,
    agent: AgentSetup | None = None,
    ssh_keys: Sequence[str] = (),
) -> str:
    """The first-boot script; with ``agent``, it also installs the session-reporting agent.
    On Linux the desktop user is given ``ssh_keys`` (the providers give them to root, but
    Vultr's reinstall takes none)."""
    if os_type == "windows":
        return _windows(agent)
    return _linux(username, agent, ssh_keys)


def _windows(agent: AgentSetup | None) -> str:
    return "\n".join(
        [
            "<powershell>",
            "Set-ItemProperty -Path 'HKLM:\\System\\CurrentControlSet\\Control\\Terminal Server'"
            " -Name fDenyTSConnections -Value 0",
            "Enable-NetFirewallRule -DisplayGroup 'Remote Desktop'",
            *(agent_install.windows_lines(agent) if agent else []),
            "</powershell>",
        ]
    )


def _linux(username: str, agent: AgentSetup | None, ssh_keys: Sequence[str]) -> str:
    # runcmd runs after cloud-init's set-passwords module has applied the provider's root
    # password, so the hash copied here is the one the provider set.
    copy_password = f'usermod -p "$(getent shadow root | cut -d: -f2)" {username}'
    return "\n".join(
        [
            "#cloud-config",
            "package_update: true",
            "packages: [xrdp, xfce4, xfce4-goodies]",
            "users:",
            f"  - name: {username}",
            "    groups: [sudo]",
            "    shell: /bin/bash",
            "    lock_passwd: false",
            *_authorized_keys(ssh_keys),
            *(agent_install.linux_files(agent) if agent else []),
            "runcmd:",
            f"  - [sh, -c, '{copy_password}']",
            "  - [sh, -c, 'echo xfce4-session > /etc/skel/.xsession']",
            "  - [systemctl, enable, --now, xrdp]",
            *(agent_install.linux_commands() if agent else []),
        ]
    )


def _authorized_keys(ssh_keys: Sequence[str]) -> list[str]:
    """The user's ``ssh_authorized_keys``, each a double-quoted scalar (JSON's quoting is
    YAML's), whatever its comment holds."""
    if not ssh_keys:
        return []
    return ["    ssh_authorized_keys:", *(f"      - {json.dumps(key)}" for key in ssh_keys)]
