"""First-boot scripts that make a fresh machine a Remote Desktop host.

Windows gets a PowerShell script (Vultr and Contabo both run ``<powershell>`` user data
through cloudbase-init); Linux gets cloud-config that installs xrdp and a desktop.
The password is the one we generated and stored encrypted before ordering, so a machine
adopted after a lost create response still has credentials we know.
"""

from __future__ import annotations


def user_data(os_type: str, username: str, password: str) -> str:
    if os_type == "windows":
        return _windows(username, password)
    return _linux(username, password)


def _windows(username: str, password: str) -> str:
    quoted = password.replace("'", "''")
    return "\n".join(
        [
            "<powershell>",
            f"net user {username} '{quoted}'",
            "Set-ItemProperty -Path 'HKLM:\\System\\CurrentControlSet\\Control\\Terminal Server'"
            " -Name fDenyTSConnections -Value 0",
            "Enable-NetFirewallRule -DisplayGroup 'Remote Desktop'",
            "</powershell>",
        ]
    )


def _linux(username: str, password: str) -> str:
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
            "runcmd:",
            "  - [sh, -c, 'echo xfce4-session > /etc/skel/.xsession']",
            "  - [systemctl, enable, --now, xrdp]",
        ]
    )
