"""The rehearsal: orders paid through the proxy at a steady pace while hosts fail, then the
invariants, the recovery times and the throughput with 1, 2 and 3 worker hosts.

While the orders provision: a worker host disappears (its processes SIGKILLed, its link
down) and returns; a web host disappears (and returns); the active beat host disappears for
good; a worker host is cut from Redis (its packets to Redis dropped) and reconnects.
Afterwards every paid order is active exactly once, the providers hold no machine we do not
know, no job or Stripe event is lost or applied twice, the standby beat took over within
its lock timeout without a scheduled job sent twice, and under 0.5 % of the requests seen
through the proxy failed.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Instance, InstanceStatus, Job, WebhookEvent
from devtools.cluster.hosts import (
    BEAT_HOSTS,
    CLUSTER_SETTINGS,
    DATA,
    HOSTS,
    PUBLIC_URL,
    WEB_HOSTS,
    WORKER_HOSTS,
    Cluster,
)
from devtools.cluster.netns import Host
from tests.faults import invariants
from tests.faults.web_customer import WebCustomer
from tests.support.emulators import wait_until

# Orders go where one provider serves them: Vultr in us-east, Contabo in australia.
ORDERS = [("us-east", "linux"), ("australia", "linux"), ("us-east", "windows")]
SENT = "Sending due task"
MAX_ERROR_RATE = 0.005
DASHBOARDS = 4  # dashboards open at once, each asking for its machines 5 times a second


@dataclass(frozen=True)
class Form:
    """How long a rehearsal is: its orders and pace, how long each fault lasts."""

    orders: int
    pace: float  # seconds between two orders
    worker_out: float
    web_out: float
    redis_cut: float
    batch: int  # orders of each throughput measurement
    settle_timeout: float


FULL = Form(
    orders=300, pace=1.0, worker_out=60, web_out=30, redis_cut=30, batch=60, settle_timeout=900
)
SHORT = Form(
    orders=24, pace=1.5, worker_out=20, web_out=10, redis_cut=10, batch=6, settle_timeout=300
)


@dataclass
class Traffic:
    """Every request made through the proxy, and how it ended."""

    outcomes: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, request: Callable[[], httpx.Response]) -> httpx.Response | None:
        try:
            response = request()
        except httpx.HTTPError as error:
            self._add(type(error).__name__)
            return None
        self._add("5xx" if response.status_code >= 500 else "answered")
        return response

    def _add(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    @property
    def failed(self) -> int:
        return self.total - self.outcomes["answered"]


class Rehearsal:
    def __init__(self, cluster: Cluster, form: Form, customers: int = 8) -> None:
        self.cluster, self.form = cluster, form
        self.traffic = Traffic()
        self.paid: list[int] = []
        self.paid_lock = threading.Lock()
        self.recovery: dict[str, float] = {}
        self.events: dict[str, float] = {}  # wall-clock times of the faults
        self.notes: list[str] = []
        self.customers = [WebCustomer(PUBLIC_URL, verify=cluster.trust) for _ in range(customers)]
        for customer in self.customers:  # as a browser does: HTTPS writes are checked for it
            customer.http.headers["Referer"] = f"{PUBLIC_URL}/app/instances/new"
        self.ordering = [threading.Lock() for _ in self.customers]
        self.done = threading.Event()

    # -- load -------------------------------------------------------------------------
    def order(self, number: int) -> int | None:
        """One order placed through the proxy and paid on Stripe's page; a customer whose
        request failed tries again."""
        customer = self.customers[number % len(self.customers)]
        with self.ordering[number % len(self.customers)]:  # one unpaid order at a time
            return self._order(customer, number)

    def _order(self, customer: WebCustomer, number: int) -> int | None:
        region, os_type = ORDERS[number % len(ORDERS)]
        body = {"plan": "basic", "os_type": os_type, "region": region}
        for _ in range(15):
            placed = self.traffic.call(lambda: customer.post("/api/instances", body))
            if placed is not None and placed.status_code == 202:
                break
            if placed is not None and placed.status_code == 409:
                self.cancel_unpaid(customer)  # orders placed by requests that got no answer
            time.sleep(2)
        else:
            answer = "no answer" if placed is None else f"{placed.status_code} {placed.text[:200]}"
            self.notes.append(f"order {number} could not be placed: {answer}")
            return None
        order = placed.json()
        paid = httpx.post(f"{order['checkout_url']}/pay", data={"card": "pm_card_visa"}, timeout=60)
        if paid.status_code != 303:
            self.notes.append(f"order {number}: payment answered {paid.status_code}")
            return None
        instance_id = int(order["instance"]["id"])
        with self.paid_lock:
            self.paid.append(instance_id)
        return instance_id

    def cancel_unpaid(self, customer: WebCustomer) -> None:
        """Cancel the customer's orders waiting for payment that it never paid, as the
        platform asks (a paid one waits for its payment's event: it is left alone)."""
        listed = self.traffic.call(lambda: customer.get("/api/instances"))
        if listed is None or listed.status_code != 200:
            return
        with self.paid_lock:
            paid = set(self.paid)
        for instance in listed.json()["instances"]:
            if instance["status"] == "pending_payment" and instance["id"] not in paid:
                path = f"/api/instances/{instance['id']}"
                self.traffic.call(lambda path=path: customer.delete(path))  # type: ignore[misc]

    def orders_at_pace(self, count: int, pace: float) -> list[int]:
        """``count`` orders, one every ``pace`` seconds; the paid instances' ids."""
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = []
            for number in range(count):
                time.sleep(max(0.0, started + number * pace - time.monotonic()))
                futures.append(pool.submit(self.order, number))
            return [i for i in (f.result() for f in futures) if i is not None]

    def dashboards(self, offset: int) -> None:
        """Customers watching their machines meanwhile, as the dashboard polls."""
        for customer in itertools.islice(itertools.cycle(self.customers), offset, None):
            if self.done.wait(0.2):
                return
            self.traffic.call(lambda c=customer: c.get("/api/instances"))  # type: ignore[misc]

    # -- faults -----------------------------------------------------------------------
    def _mark(self, event: str) -> float:
        self.events[event] = time.time()
        print(f"cluster: {event}", flush=True)
        return time.monotonic()

    def worker_host_out(self, host: Host, seconds: float) -> None:
        """The host loses power and its cable: every process SIGKILLed, its link down;
        back ``seconds`` later, its workers started again."""

        def kill() -> None:
            for worker in self.cluster.workers[host.name]:
                worker.kill()

        self._host_out(host, seconds, "worker", kill, self.cluster.start_workers)

    def web_host_out(self, host: Host, seconds: float) -> None:
        kill = self.cluster.webs[host.name].kill
        self._host_out(host, seconds, "web", kill, self.cluster.start_web)

    def _host_out(
        self,
        host: Host,
        seconds: float,
        role: str,
        kill: Callable[[], None],
        restart: Callable[[Host], object],
    ) -> None:
        """``host`` gone for ``seconds`` (``kill`` and every other process on it, its link
        down), then ``restart`` on it, timed from its return."""
        self._mark(f"{host.name} disappears")
        kill()
        host.kill_everything()
        host.link_up(False)
        time.sleep(seconds)
        back = self._mark(f"{host.name} returns")
        host.link_up(True)
        try:
            restart(host)
        except RuntimeError as error:
            self.notes.append(f"{host.name} did not come back: {error}")
            return
        self.recovery[f"{role} host {host.name} serving again after its return"] = (
            time.monotonic() - back
        )

    def beat_host_out(self) -> None:
        """The active beat's host disappears for good; the standby must take over."""
        active = self.active_beat()
        if active is None:
            self.notes.append("no beat had sent anything before the beat fault")
            return
        self._mark(f"{active.name} (active beat) disappears")
        self.cluster.beats[active.name].kill()
        active.kill_everything()
        active.link_up(False)

    def redis_cut(self, host: Host, seconds: float) -> None:
        """Packets from ``host`` to Redis dropped for ``seconds``, then let through."""
        rule = f"add rule inet cut out ip daddr {DATA.address} tcp dport 6379 drop"
        nft = [*host.prefix, "nft"]
        subprocess.run([*nft, "add table inet cut"], check=True)
        subprocess.run(
            [*nft, "add chain inet cut out { type filter hook output priority 0 ; }"], check=True
        )
        self._mark(f"{host.name} cut from Redis")
        subprocess.run([*nft, rule], check=True)
        time.sleep(seconds)
        back = self._mark(f"{host.name} reconnected to Redis")
        subprocess.run([*nft, "delete table inet cut"], check=True)
        names = [w.name for w in self.cluster.workers[host.name]]
        wait_until(lambda: self._answer(names), timeout=120, interval=0.5)
        self.recovery[f"worker host {host.name} answering again after the Redis cut"] = (
            time.monotonic() - back
        )

    def _answer(self, names: list[str]) -> bool:
        try:
            replies = self.cluster.celery.control.ping(destination=names, timeout=1)
        except Exception:  # the broker itself is fine: a reply missed, asked again
            return False
        return len(replies) == len(names)

    def faults(self, load_seconds: float) -> None:
        """Each fault at its moment of the load: a worker host out at a tenth of it, a web
        host at a fifth, the active beat at three tenths; once both hosts are back, a worker
        host cut from Redis."""
        form, start = self.form, time.monotonic()

        def at(fraction: float) -> None:
            time.sleep(max(0.0, start + fraction * load_seconds - time.monotonic()))

        at(0.1)
        worker = threading.Thread(
            target=self.worker_host_out, args=(WORKER_HOSTS[0], form.worker_out), daemon=True
        )
        worker.start()
        at(0.2)
        web = threading.Thread(
            target=self.web_host_out, args=(WEB_HOSTS[1], form.web_out), daemon=True
        )
        web.start()
        at(0.3)
        self.beat_host_out()
        worker.join()
        web.join()
        self.redis_cut(WORKER_HOSTS[1], form.redis_cut)

    # -- beat -------------------------------------------------------------------------
    def beat_sends(self, host: Host) -> list[tuple[float, str]]:
        """(time, task) of every task the beat on ``host`` sent, from its log."""
        found = []
        for line in (self.cluster.log_dir / f"{host.name}.log").read_text().splitlines():
            if SENT not in line or not line.startswith("{"):
                continue
            record = json.loads(line)
            when = datetime.strptime(record["time"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            found.append((when, record["message"].split(SENT, 1)[1].strip()))
        return found

    def active_beat(self) -> Host | None:
        latest = {
            host: max((t for t, _ in self.beat_sends(host)), default=0) for host in BEAT_HOSTS
        }
        host, when = max(latest.items(), key=lambda item: item[1])
        return host if when else None

    def beat_violations(self) -> list[str]:
        killed = next((e for e in self.events if e.endswith("(active beat) disappears")), None)
        if killed is None:
            return ["the active beat never disappeared"]
        gone_at = self.events[killed]
        active = next(h for h in BEAT_HOSTS if killed.startswith(h.name))
        standby = next(h for h in BEAT_HOSTS if h is not active)
        before = [t for t, _ in self.beat_sends(standby) if t < gone_at]
        after = [t for t, _ in self.beat_sends(standby) if t >= gone_at]
        last_active = max((t for t, _ in self.beat_sends(active)), default=0)
        problems = [f"the standby sent {len(before)} task(s) while the active beat ran"] * bool(
            before
        )
        if not after:
            return [*problems, "the standby never took over"]
        takeover = min(after) - gone_at
        self.recovery["standby beat took over"] = takeover
        limit = int(CLUSTER_SETTINGS["BEAT_LOCK_TIMEOUT"]) + 2 * int(
            CLUSTER_SETTINGS["BEAT_MAX_LOOP_INTERVAL"]
        )
        if takeover > limit:
            problems.append(f"the standby took over after {takeover:.1f} s (limit {limit} s)")
        if last_active >= min(after):
            problems.append("both beats sent tasks at the same time")
        return problems

    # -- throughput -------------------------------------------------------------------
    def throughput(self) -> dict[str, float]:
        """Orders provisioned a minute with the provisioning queue consumed by 1, 2 and 3
        worker hosts (the third is the billing host, given the queue for this)."""
        celery, provisioning = self.cluster.celery, "provisioning"
        second = self.cluster.workers[WORKER_HOSTS[1].name][0].name
        third = self.cluster.workers[WORKER_HOSTS[2].name][0].name
        celery.control.cancel_consumer(provisioning, destination=[second], reply=True, timeout=2)
        figures = {}
        for count in (1, 2, 3):
            if count == 2:
                celery.control.add_consumer(provisioning, destination=[second], reply=True)
            if count == 3:
                celery.control.add_consumer(provisioning, destination=[third], reply=True)
            started = time.monotonic()
            ids = self.orders_at_pace(self.form.batch, 0)
            if len(ids) < self.form.batch:
                self.notes.append(f"{self.form.batch - len(ids)} order(s) of a batch unpaid")
            self.wait_active(ids, self.form.settle_timeout)
            minutes = (time.monotonic() - started) / 60
            figures[f"{count} worker host(s)"] = round(len(ids) / minutes, 1)
            print(
                f"cluster: {count} worker host(s): {figures[f'{count} worker host(s)']} orders/min",
                flush=True,
            )
        celery.control.cancel_consumer(provisioning, destination=[third], reply=True, timeout=2)
        return figures

    def wait_active(self, ids: list[int], timeout: float) -> None:
        def all_active() -> bool:
            with Session(self.cluster.engine) as session:
                active = session.scalar(
                    select(func.count()).where(
                        Instance.id.in_(ids), Instance.status == InstanceStatus.ACTIVE
                    )
                )
            return active == len(ids)

        wait_until(all_active, timeout=timeout, interval=1)

    # -- the run ----------------------------------------------------------------------
    def run(self, throughput: bool = True) -> dict[str, Any]:
        form = self.form
        load_seconds = form.orders * form.pace
        watchers = [
            threading.Thread(target=self.dashboards, args=(n,), daemon=True)
            for n in range(DASHBOARDS)
        ]
        for watcher in watchers:
            watcher.start()
        faults = threading.Thread(target=self.faults, args=(load_seconds,), daemon=True)
        started = time.monotonic()
        faults.start()
        self.orders_at_pace(form.orders, form.pace)
        faults.join()
        settle_started = time.monotonic()
        with contextlib.suppress(AssertionError):  # reported below: what is unsettled
            wait_until(
                lambda: not invariants.settled(self.cluster.engine) and not self.active_once(),
                timeout=form.settle_timeout,
                interval=1,
            )
        settled_in = time.monotonic() - settle_started
        self.done.set()
        for watcher in watchers:
            watcher.join()
        violations = self.violations()
        report: dict[str, Any] = {
            "orders": form.orders,
            "paid": len(self.paid),
            "load_seconds": round(load_seconds, 1),
            "scenario_seconds": round(time.monotonic() - started, 1),
            "settled_after_faults_seconds": round(settled_in, 1),
            "requests_through_proxy": dict(self.traffic.outcomes),
            "error_rate_percent": round(100 * self.traffic.failed / max(1, self.traffic.total), 3),
            "recovery_seconds": {k: round(v, 1) for k, v in self.recovery.items()},
            "notes": self.notes,
            "violations": violations,
        }
        if throughput and not violations:
            report["orders_per_minute"] = self.throughput()
        return report

    def violations(self) -> list[str]:
        engine, emulators = self.cluster.engine, self.cluster.emulators()
        api = self.cluster.stripe_api()
        found = invariants.settled(engine)
        found += invariants.machines(engine, emulators)
        found += invariants.charges(engine, api)
        found += invariants.undelivered_kept_nothing(engine, api)
        found += self.active_once()
        found += self.created_once(emulators)
        found += self.beat_violations()
        found += self.notes
        rate = self.traffic.failed / max(1, self.traffic.total)
        if rate >= MAX_ERROR_RATE:
            found.append(f"{100 * rate:.2f} % of requests through the proxy failed")
        return found

    def active_once(self) -> list[str]:
        """Every paid order active, provisioned by one job."""
        with Session(self.cluster.engine) as session:
            statuses = dict(
                session.execute(
                    select(Instance.id, Instance.status).where(Instance.id.in_(self.paid))
                ).all()
            )
            provisions = Counter(
                session.scalars(
                    select(Job.instance_id).where(
                        Job.instance_id.in_(self.paid), Job.kind == "provision"
                    )
                )
            )
            refused = dict(
                session.execute(
                    select(WebhookEvent.stripe_event_id, WebhookEvent.error).where(
                        WebhookEvent.error.is_not(None)
                    )
                ).all()
            )
        problems = [
            f"paid order {i} is {statuses.get(i)}"
            for i in self.paid
            if statuses.get(i) != InstanceStatus.ACTIVE
        ]
        if len(problems):  # what billing made of the events that did not apply
            problems += [f"event {event}: {error}" for event, error in refused.items()]
        problems += [f"order {i} was provisioned {n} times" for i, n in provisions.items() if n > 1]
        return problems

    def created_once(self, emulators: dict[str, Any]) -> list[str]:
        """No machine ever created twice for one order, even one destroyed since."""
        labels: Counter[str] = Counter()
        for emulator in emulators.values():
            for machine in emulator.machines(include_destroyed=True):
                labels[str(machine.get("label") or machine.get("displayName") or "")] += 1
        return [f"{n} machines were created for {label}" for label, n in labels.items() if n > 1]


def rehearse(form: Form, log_dir: Path, directory: Path, throughput: bool = True) -> dict[str, Any]:
    """Build the cluster, rehearse, tear everything down; the report. Every host shares
    this machine's cores: the load average before and after says how busy it was."""
    started, load_before = time.monotonic(), os.getloadavg()[0]
    with Cluster.start(log_dir, directory) as cluster:
        up = time.monotonic() - started
        print(f"cluster: {len(HOSTS)} hosts up in {up:.0f} s", flush=True)
        report = Rehearsal(cluster, form).run(throughput)
    report["cluster_up_seconds"] = round(up, 1)
    report["total_seconds"] = round(time.monotonic() - started, 1)
    report["cores"] = os.cpu_count()
    report["load_average_before_after"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    return report
