"""First-boot scripts that make a fresh machine a Remote Desktop host.

Windows gets a PowerShell script (Vultr and Contabo both run ``<powershell>`` user data
through cloudbase-init); Linux gets cloud-config that installs xrdp and a desktop.
The password is the one we generated and stored encrypted before ordering, so a machine
adopted after a lost create response still has credentials we know.
"""

from __future__ import annotations

from workers import agent_install
from workers.agent_install import AgentSetup


def user_data(os_type: str, username: str, password: str, agent: AgentSetup | None = None) -> str:
    """The first-boot script; with ``agent``, it also installs the session-reporting agent."""
    if os_type == "windows":
        return _windows(username, password, agent)
    return _linux(username, password, agent)


def _windows(username: str, password: str, agent: AgentSetup | None) -> str:
    quoted = password.replace("'", "''")
    return "\n".join(
        [
            "<powershell>",
            f"net user {username} '{quoted}'",
            "Set-ItemProperty -Path 'HKLM:\\System\\CurrentControlSet\\Control\\Terminal Server'"
            " -Name fDenyTSConnections -Value 0",
            "Enable-NetFirewallRule -DisplayGroup 'Remote Desktop'",
            *(agent_install.windows_lines(agent) if agent else []),
            "</powershell>",
        ]
    )


def _linux(username: str, password: str, agent: AgentSetup | None) -> str:
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
            "chpasswd:",
            "  expire: false",
            "  users:",
            f"    - {{name: {username}, password: '{password}', type: text}}",
            *(agent_install.linux_files(agent) if agent else []),
            "runcmd:",
            "  - [sh, -c, 'echo xfce4-session > /etc/skel/.xsession']",
            "  - [systemctl, enable, --now, xrdp]",
            *(agent_install.linux_commands() if agent else []),
        ]
    )
