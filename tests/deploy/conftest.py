"""Fixtures of the deployment-file tests: Debian's systemd and nginx tools (installed when
missing), the units and the site with this machine's paths, a self-signed certificate."""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Where the units expect the installed entry point, and the one this test run has.
INSTALLED_NEMORDP = "/opt/nemordp/bin/nemordp"
NEMORDP = Path(sys.executable).parent / "nemordp"
DEBIAN_NGINX_CONF = Path("/etc/nginx/nginx.conf")


def _ensure_debian_package(command: str, package: str) -> str:
    """The path of ``command``, installing Debian's ``package`` first if it is missing."""
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/usr/bin")
    if found is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        found = shutil.which(command, path="/usr/sbin:/usr/bin")
    assert found is not None, f"{package} installed no {command}"
    return found


@pytest.fixture(scope="session")
def systemd_analyze() -> str:
    return _ensure_debian_package("systemd-analyze", "systemd")


@pytest.fixture(scope="session")
def nginx() -> str:
    path = _ensure_debian_package("nginx", "nginx")
    assert DEBIAN_NGINX_CONF.exists(), "Debian's nginx package ships /etc/nginx/nginx.conf"
    return path


@pytest.fixture()
def shared_tmp() -> Iterator[Path]:
    """A directory nginx's workers (www-data) can read, unlike pytest's private tmp_path."""
    path = Path(tempfile.mkdtemp(prefix="nemordp-deploy-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def replace_each(text: str, replacements: dict[str, str]) -> str:
    """``text`` with each key replaced; each must be there (a changed file fails loudly)."""
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in the file"
        text = text.replace(old, new)
    return text


def units_for_this_machine(directory: Path) -> Path:
    """The units copied into ``directory``, run by this test run's ``nemordp``."""
    assert NEMORDP.exists(), f"{NEMORDP} is missing: install the project (make install)"
    for unit in (DEPLOY / "systemd").glob("nemordp*"):
        text = unit.read_text()
        (directory / unit.name).write_text(text.replace(INSTALLED_NEMORDP, str(NEMORDP)))
    return directory


def exec_start(unit: Path) -> str:
    """The unit's ExecStart= command line, as written."""
    match = re.search(r"^ExecStart=(.+)$", unit.read_text(), re.MULTILINE)
    assert match is not None, f"{unit.name} has no ExecStart="
    return match.group(1)


def expand(command: str, variables: dict[str, str]) -> str:
    """systemd's ``${NAME}`` and ``$$`` in a command line; every variable must be known."""
    command = re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)], command)
    return command.replace("$$", "$")


@pytest.fixture()
def certificate(shared_tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = shared_tmp / "cert.pem", shared_tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def site_with_certificate(certificate: tuple[Path, Path]) -> str:
    """deploy/nginx/nemordp.conf with the test certificate in place of Let's Encrypt's."""
    cert, key = certificate
    return replace_each(
        (DEPLOY / "nginx" / "nemordp.conf").read_text(),
        {
            "/etc/letsencrypt/live/nemordp.example.com/fullchain.pem": str(cert),
            "/etc/letsencrypt/live/nemordp.example.com/privkey.pem": str(key),
        },
    )


def nginx_conf(directory: Path, site: str) -> Path:
    """Debian's own nginx.conf with ``site`` as its only site, and its pid file, logs and
    temporary files in ``directory``, so it runs beside any nginx of the machine."""
    (directory / "nemordp.conf").write_text(site)
    conf = replace_each(
        DEBIAN_NGINX_CONF.read_text(),
        {
            "include /etc/nginx/sites-enabled/*;": (
                f"include {directory}/nemordp.conf;\n"
                f"\tclient_body_temp_path {directory}/client_body;\n"
                f"\tproxy_temp_path {directory}/proxy;\n"
                f"\tfastcgi_temp_path {directory}/fastcgi;\n"
                f"\tuwsgi_temp_path {directory}/uwsgi;\n"
                f"\tscgi_temp_path {directory}/scgi;"
            ),
            "access_log /var/log/nginx/access.log;": f"access_log {directory}/access.log;",
            "error_log /var/log/nginx/error.log;": f"error_log {directory}/error.log;",
        },
    )
    conf = re.sub(r"^pid .*;$", f"pid {directory}/nginx.pid;", conf, flags=re.MULTILINE)
    path = directory / "nginx.conf"
    path.write_text(conf)
    return path


def nginx_command(nginx: str, conf: Path, *args: str) -> list[str]:
    """nginx on ``conf``, logging its start-up errors beside it rather than in /var/log."""
    return [nginx, "-c", str(conf), "-e", str(conf.parent / "error.log"), *args]
