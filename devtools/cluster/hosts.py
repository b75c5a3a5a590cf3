"""The platform spread over hosts (network namespaces, `devtools.cluster.netns`), each
process started by the stack launcher on its host with ``ip netns exec``:

| host | address | runs |
|---|---|---|
| data | 10.213.0.2 | PostgreSQL (5432), Redis (6379) |
| proxy | 10.213.0.3 | Debian's nginx with deploy/nginx/nemordp.conf (80, 443) |
| web1, web2 | 10.213.0.11-12 | the web app under gunicorn (8000) |
| work1, work2 | 10.213.0.21-22 | workers of the provisioning and actions groups |
| work3 | 10.213.0.23 | workers of the billing and periodic groups |
| beat1, beat2 | 10.213.0.31-32 | beat: the active one and its standby |
| provider | 10.213.0.40 | every provider's emulator, the local Stripe, an SMTP sink |

Worker groups are deploy/workers/*.env. Every process reaches the others by their host
addresses only; this machine (10.213.0.1) is the customers' side and the operator's.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import httpx
from celery import Celery
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine
from stripe import StripeClient

import app as app_package
from devtools.cluster import netns
from devtools.cluster.netns import NETWORK, Host
from devtools.stack import schema
from devtools.stack.group import Group
from devtools.stack.platform import Beat, Web, Worker
from devtools.stack.ports import port_open
from devtools.stack.processes import Process
from devtools.stack.services import Postgres, Redis
from devtools.stack.stand_ins import (
    Emulator,
    LocalStripe,
    MailSink,
    emulated,
    emulator_settings,
    stripe_settings,
    webhook_endpoint,
)
from tests.deploy.conftest import _ensure_debian_package as ensure_debian_package
from tests.deploy.conftest import nginx_command, nginx_conf, replace_each, site_with_certificate
from tests.faults.stack import FAST_RECOVERY
from tests.support.emulators import EmulatorHandle

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = f"whsec_{secrets.token_urlsafe(32)}"
DATA, PROXY, PROVIDER = (
    Host("data", f"{NETWORK}.2"),
    Host("proxy", f"{NETWORK}.3"),
    Host("provider", f"{NETWORK}.40"),
)
WEB_HOSTS = [Host(f"web{n}", f"{NETWORK}.{10 + n}") for n in (1, 2)]
WORKER_HOSTS = [Host(f"work{n}", f"{NETWORK}.{20 + n}") for n in (1, 2, 3)]
BEAT_HOSTS = [Host(f"beat{n}", f"{NETWORK}.{30 + n}") for n in (1, 2)]
HOSTS = [DATA, PROXY, PROVIDER, *WEB_HOSTS, *WORKER_HOSTS, *BEAT_HOSTS]
# deploy/workers/<group>.env on each worker host: orders and what customers ask of their
# machines on two, Stripe, e-mail and beat's rounds on the third.
WORKER_GROUPS = {
    "work1": ["provisioning", "actions"],
    "work2": ["provisioning", "actions"],
    "work3": ["billing", "periodic"],
}
WEB_PORT, STRIPE_PORT, MAIL_PORT, RDP_PORT = 8000, 8420, 1025, 3389
PUBLIC_URL = f"https://{PROXY.address}"

# Lost work noticed within seconds, but resent only once clearly lost (a backlog under
# load would otherwise resend itself faster than it drains); orders wait out an outage.
CLUSTER_SETTINGS = {
    **FAST_RECOVERY,
    "STATUS_CHECK_INTERVAL": "1",
    "PROVISION_DEADLINE_SECONDS": "900",
    "ACTION_DEADLINE_SECONDS": "120",
    "STRIPE_TIMEOUT": "10",
    "STUCK_JOB_GRACE_SECONDS": "20",
    "STUCK_JOB_SWEEP_INTERVAL": "5",
    "WEBHOOK_RESEND_AFTER_SECONDS": "20",
    "INVOICE_SYNC_INTERVAL": "10",
    "BEAT_LOCK_TIMEOUT": "10",
    "BEAT_MAX_LOOP_INTERVAL": "1",
}


def unconsumed_queues() -> set[str]:
    """The platform's queues that no worker host's groups consume."""
    from app.tasking import QUEUES  # not at import: the app reads its settings then

    consumed = {q for groups in WORKER_GROUPS.values() for g in groups for q in worker_group(g)[0]}
    return set(QUEUES) - consumed


def worker_group(group: str) -> tuple[list[str], int, str]:
    """The queues, concurrency and pool of a group, as deploy/workers/<group>.env sets them."""
    values = {}
    for line in (ROOT / "deploy" / "workers" / f"{group}.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = value
    queues = values["WORKER_QUEUES"].split(",")
    return queues, int(values["WORKER_CONCURRENCY"]), values.get("WORKER_POOL", "prefork")


Started = TypeVar("Started", bound=Process)


def on(host: Host, process: Started) -> Started:
    """``process``, to be run on ``host``."""
    process.prefix = host.prefix
    return process


def certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the proxy's address, and its key."""
    cert, key = directory / "proxy-cert.pem", directory / "proxy-key.pem"
    request = "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
    names = [f"subjectAltName=IP:{PROXY.address}", "basicConstraints=critical,CA:TRUE"]
    files = ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={PROXY.address}"]
    extensions = [word for name in names for word in ("-addext", name)]
    command = ["openssl", *request.split(), *files, *extensions]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


def nginx_site(cert: tuple[Path, Path]) -> str:
    """deploy/nginx/nemordp.conf with both web hosts upstream, a failed one skipped after a
    second's try (a vanished host answers nothing: a connection would wait a minute)."""
    upstream = "".join(
        f"server {host.address}:{WEB_PORT} max_fails=1 fail_timeout=10s;\n    "
        for host in WEB_HOSTS
    ).rstrip()
    return replace_each(
        site_with_certificate(cert),
        {
            "    listen [::]:80;\n": "",
            "    listen [::]:443 ssl http2;\n": "",
            "server 127.0.0.1:8000;": upstream,
            "    proxy_read_timeout 60s;\n": "    proxy_read_timeout 60s;\n"
            "    proxy_connect_timeout 1s;\n",
            "/opt/nemordp/lib/python3.11/site-packages/app/static/": (
                f"{Path(app_package.__file__).resolve().parent / 'static'}/"
            ),
        },
    )


class Proxy(Process):
    label = "proxy"

    def ready(self) -> bool:
        return port_open(443, PROXY.address)


@dataclass
class Cluster:
    directory: Path
    log_dir: Path
    env: dict[str, str]
    group: Group
    postgres: Postgres
    celery: Celery
    engine: Engine
    trust: ssl.SSLContext
    webs: dict[str, Web] = field(default_factory=dict)
    workers: dict[str, list[Worker]] = field(default_factory=dict)
    beats: dict[str, Beat] = field(default_factory=dict)
    logs: list[IO[bytes]] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def start(cls, log_dir: Path, directory: Path) -> Iterator[Cluster]:
        """Build every host and start the platform on them; when the block ends (or on
        Ctrl-C or SIGTERM), stop it all and remove every namespace and link."""
        ensure_debian_package("nft", "nftables")  # cuts a host from Redis
        if unconsumed_queues():
            raise RuntimeError(f"no worker host consumes {', '.join(sorted(unconsumed_queues()))}")
        netns.cleanup()  # what an interrupted run left
        log_dir.mkdir(parents=True, exist_ok=True)
        for old in log_dir.glob("*.log"):  # each host's log tells of this run only
            old.unlink()
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o755)  # postgres and nginx's workers read under it
        group = Group().stop_on_signals()
        cluster: Cluster | None = None
        try:
            netns.create_switch()
            for host in HOSTS:
                host.create(machines_via=PROVIDER.address)
            cluster = cls._build(log_dir, directory, group)
            yield cluster
        finally:
            group.stop()
            if cluster is not None:
                cluster.close()
            netns.cleanup()
            shutil.rmtree(directory, ignore_errors=True)

    def log(self, name: str) -> IO[bytes]:
        handle = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 closed in close()
        self.logs.append(handle)
        return handle

    @classmethod
    def _build(cls, log_dir: Path, directory: Path, group: Group) -> Cluster:
        postgres = Postgres(
            directory / "pgdata",
            5432,
            host=DATA.address,
            clients=f"{NETWORK}.0/24",
            prefix=DATA.prefix,
        )
        postgres.init()
        with open(postgres.data / "postgresql.conf", "a") as conf:
            conf.write("max_connections = 400\n")
        postgres.start()
        group.add(Crashable(postgres))
        postgres.create_database()
        redis_log = open(log_dir / "data-redis.log", "ab")  # noqa: SIM115
        redis = group.add(on(DATA, Redis(directory / "redis", 6379, redis_log, host=DATA.address)))
        redis.start()
        provider = PROVIDER.address
        env = {
            **os.environ,
            # Production, as on real hosts: secrets of this run's own, made up here.
            "NEMORDP_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            # Machines are labelled with it; the invariants read it from the environment.
            "INSTALL_ID": os.environ.setdefault("INSTALL_ID", "cluster"),
            # Every customer of the rehearsal comes from one address, this machine's.
            "RATELIMIT_GLOBAL": "100000 per minute",
            "RATELIMIT_AUTH_PER_ADDRESS": "100000 per minute",
            "DATABASE_URL": postgres.url,
            "REDIS_URL": f"redis://{DATA.address}:6379/0",
            "CELERY_BROKER_URL": "",
            "CELERY_RESULT_BACKEND": "",
            "RATELIMIT_STORAGE_URI": "",
            "CACHE_REDIS_URL": "",
            "BEAT_KEY_PREFIX": "nemordp:cluster-beat",
            **emulator_settings(
                {name: f"http://{provider}:{e.port}" for name, e in emulated().items()},
                RDP_PORT,
                "cluster",
            ),
            "MAIL_SERVER": provider,
            "MAIL_PORT": str(MAIL_PORT),
            **stripe_settings(f"http://{provider}:{STRIPE_PORT}", PUBLIC_URL, WEBHOOK_SECRET),
            "STRIPE_SECRET_KEY": f"sk_test_{secrets.token_urlsafe(32)}",
            "PROXY_TRUSTED_NETWORKS": f"{PROXY.address}/32",
            "PROXY_FIX_FOR": "1",
            "PROXY_FIX_PROTO": "1",
            **CLUSTER_SETTINGS,
        }
        cert = certificate(directory)
        trust = ssl.create_default_context(cafile=str(cert[0]))
        cluster = cls(
            directory=directory,
            log_dir=log_dir,
            env=env,
            group=group,
            postgres=postgres,
            celery=Celery(broker=env["REDIS_URL"]),
            engine=create_engine(postgres.url, pool_pre_ping=True),
            trust=trust,
            logs=[redis_log],
        )
        cluster._start_provider(cert[0])
        schema.prepare(env, cluster.log("schema"))
        for host in WEB_HOSTS:
            cluster.start_web(host)
        cluster._start_proxy(cert)
        for host in WORKER_HOSTS:
            cluster.start_workers(host)
        for host in BEAT_HOSTS:
            cluster.start_beat(host)
        return cluster

    def _start_provider(self, cert: Path) -> None:
        address, log = PROVIDER.address, self.log("provider")
        quick = ["--boot-seconds", "1", "--restart-seconds", "0.5", "--ip-delay-seconds", "0.2"]
        for number, (name, declared) in enumerate(emulated().items()):
            options = [*quick, "--ip-prefix", netns.machines_prefix(number)]
            emulator = Emulator(name, declared.port, RDP_PORT, *options, log=log, host=address)
            self.group.add(on(PROVIDER, emulator)).start()
        webhook = webhook_endpoint(PUBLIC_URL, WEBHOOK_SECRET)
        stripe_env = {**os.environ, "SSL_CERT_FILE": str(cert)}  # it calls the proxy back
        stripe = LocalStripe(
            STRIPE_PORT, webhook, log, in_memory=True, env=stripe_env, host=address
        )
        self.group.add(on(PROVIDER, stripe)).start()
        self.group.add(on(PROVIDER, MailSink(MAIL_PORT, log=log, host=address))).start()

    def _start_proxy(self, cert: tuple[Path, Path]) -> None:
        nginx = ensure_debian_package("nginx", "nginx")
        (self.directory / "proxy").mkdir()
        conf = nginx_conf(self.directory / "proxy", nginx_site(cert))
        command = nginx_command(nginx, conf, "-g", "daemon off;")
        self.group.add(on(PROXY, Proxy(command, os.environ, self.log("proxy")))).start()

    def start_web(self, host: Host) -> Web:
        metrics = self.directory / f"metrics-{host.name}"
        metrics.mkdir(exist_ok=True)
        env = {**self.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        web = Web(WEB_PORT, env, self.log(host.name), host=host.address)
        self.webs[host.name] = self.group.add(on(host, web))
        web.start()
        return web

    def start_workers(self, host: Host) -> list[Worker]:
        """The host's worker groups, each a worker named <group>@<host>."""
        workers = []
        for name in WORKER_GROUPS[host.name]:
            queues, concurrency, pool = worker_group(name)
            worker = Worker(
                self.env,
                self.log(host.name),
                celery=self.celery,
                name=f"{name}@{host.name}",
                queues=queues,
                concurrency=concurrency,
                pool=pool,
            )
            workers.append(self.group.add(on(host, worker)))
        for worker in workers:
            worker.start()
        self.workers[host.name] = workers
        return workers

    def start_beat(self, host: Host) -> Beat:
        beat = Beat(self.env, self.log(host.name))
        self.beats[host.name] = self.group.add(on(host, beat))
        beat.start()
        return beat

    def emulators(self) -> dict[str, EmulatorHandle]:
        address = PROVIDER.address
        return {
            name: EmulatorHandle(f"http://{address}:{declared.port}")
            for name, declared in emulated().items()
        }

    def stripe_api(self) -> StripeClient:
        url = f"http://{PROVIDER.address}:{STRIPE_PORT}"
        return StripeClient(self.env["STRIPE_SECRET_KEY"], base_addresses={"api": url})

    def client(self) -> httpx.Client:
        """An HTTP client of the public site, through the proxy."""
        return httpx.Client(base_url=PUBLIC_URL, verify=self.trust, timeout=30)

    def close(self) -> None:
        self.engine.dispose()
        for handle in self.logs:
            handle.close()


@dataclass
class Crashable:
    """PostgreSQL as a piece of the group: stopped at once, as in a crash."""

    postgres: Postgres

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.postgres.stop()
