"""Soak: the whole platform (see `stack`) under mixed load with faults injected throughout,
then left to settle and checked against the invariants.

    python -m tests.faults.soak --minutes 10        # what `make soak` runs (SOAK_MINUTES)

Load: a few customers at once ordering and paying, restarting, stopping and starting,
upgrading plans, cancelling (twice in a row, as a double click would) at period end (whose
end Stripe then reaches) and terminating; some orders are ended the moment they are paid,
and some are deleted unpaid and their payment page then paid anyway.
Faults, one every few seconds: provider 500s, 429s with Retry-After, timeouts, connection
resets and lost responses on every provider operation; a provider refusing every create for
a while (orders in its regions fail for good); a worker SIGKILLed and replaced; Stripe frozen
(SIGSTOP: every call to it times out) and Stripe restarted; Redis killed for a few seconds
(losing every queued task: it keeps nothing on disk).

At the end: every paid order is active, stopped, terminated or failed with an alert; the
providers hold exactly one machine per live paid order and no orphan; one subscription per
order and one first charge per subscription; no live subscription and no kept payment for
an order that never had a machine; no job unfinished and no event unprocessed.
Exit status 1 if any of that does not hold. Figures are printed, and written as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Instance, Job, Subscription, WebhookEvent
from tests.faults import invariants
from tests.faults.stack import Stack
from tests.faults.web_customer import WebCustomer
from tests.support.emulators import wait_until

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = {
    "vultr": ["create", "get", "list", "reboot", "halt", "start", "resize", "delete"],
    "contabo": ["create", "get", "list", "restart", "stop", "start", "cancel"],
}
FAULTS: list[dict[str, Any]] = [
    {"kind": "error_500", "count": 2},
    {"kind": "rate_limit_429", "count": 1, "retry_after": 1},
    {"kind": "timeout"},
    {"kind": "reset"},
    {"kind": "lost_response"},
]
# Orders go where one provider serves them: Vultr in us-east, Contabo in australia.
REGIONS = ["us-east", "us-east", "australia"]
MACHINES_PER_CUSTOMER = 3
# Settings for a soak: jobs outlast a Stripe outage, lost work is noticed within seconds.
# The local Stripe rewrites its whole state on every write, so it slows down as orders pile
# up: the production timeout, and a moderate pace of new orders.
# Lost work is looked for every few seconds but only resent once it is clearly lost: resent
# after seconds, a backlog under load resends itself faster than it drains.
SOAK_SETTINGS = {
    "PROVISION_DEADLINE_SECONDS": "60",
    "ACTION_DEADLINE_SECONDS": "60",
    "STRIPE_TIMEOUT": "10",
    "STUCK_JOB_GRACE_SECONDS": "30",
    "STUCK_JOB_SWEEP_INTERVAL": "10",
    "WEBHOOK_RESEND_AFTER_SECONDS": "60",
    "INVOICE_SYNC_INTERVAL": "20",
}


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n


class Soak:
    def __init__(self, stack: Stack, seconds: float, customers: int, seed: int) -> None:
        self.stack, self.seconds, self.customers = stack, seconds, customers
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.stop = threading.Event()
        # Held while Stripe is being restarted, and by whatever makes Stripe send an event
        # that a machine depends on (a payment, a period end): the local Stripe forgets the
        # deliveries it has not made when it stops, where Stripe would retry them.
        self.stripe_quiet = threading.Lock()
        self.outage = threading.Lock()
        self.refusing = threading.Lock()
        self.frozen = False

    # -- load -------------------------------------------------------------------------
    def _customer_loop(self, seed: int) -> None:
        rng = random.Random(seed)
        customer = WebCustomer(self.stack.web.url)
        mine: list[int] = []
        while not self.stop.is_set():
            try:
                self._step(customer, mine, rng)
            except (httpx.HTTPError, AssertionError, KeyError, ValueError) as error:
                self.tally.add(f"driver error: {type(error).__name__}")
            time.sleep(rng.uniform(0.5, 2.0))
        customer.close()

    def _step(self, customer: WebCustomer, mine: list[int], rng: random.Random) -> None:
        live = [i for i in mine if customer.instance(i)["status"] not in invariants.MACHINELESS]
        if len(live) < MACHINES_PER_CUSTOMER and rng.random() < 0.2:
            self._order(customer, mine, rng)
            return
        if not live:
            return
        instance_id = rng.choice(live)
        instance = customer.instance(instance_id)
        status = instance["status"]
        path = f"/api/instances/{instance_id}"
        choices: list[tuple[str, Callable[[], httpx.Response]]] = []
        if status == "active":
            choices += [
                ("restart", lambda: customer.post(f"{path}/restart")),
                ("restart", lambda: customer.post(f"{path}/restart")),
                ("stop", lambda: customer.post(f"{path}/stop")),
                ("cancel", lambda: self._cancel(customer, instance_id)),
            ]
            if instance["plan"] == "basic" and instance["provider"] == "vultr":
                choices.append(("plan change", lambda: self._upgrade(customer, instance_id)))
        elif status == "stopped":
            choices += [
                ("start", lambda: customer.post(f"{path}/start")),
                ("terminate", lambda: customer.delete(path)),
            ]
        if not choices:
            return
        name, act = rng.choice(choices)
        response = act()
        self.tally.add(f"{name}: {response.status_code}")

    def _order(self, customer: WebCustomer, mine: list[int], rng: random.Random) -> None:
        region = rng.choice(REGIONS)
        os_type = rng.choice(["linux", "windows"])
        with self.stripe_quiet:
            response = customer.post(
                "/api/instances", {"plan": "basic", "os_type": os_type, "region": region}
            )
            self.tally.add(f"order: {response.status_code}")
            if response.status_code != 202:
                return
            placed = response.json()
            instance_id = int(placed["instance"]["id"])
            ending = rng.random()
            if ending < 0.08:  # deleted unpaid, its payment page then paid anyway
                deleted = customer.delete(f"/api/instances/{instance_id}")
                self.tally.add(f"unpaid order deleted: {deleted.status_code}")
            paid = httpx.post(
                f"{placed['checkout_url']}/pay", data={"card": "pm_card_visa"}, timeout=60
            )
            self.tally.add(f"payment: {paid.status_code}")
            if 0.08 <= ending < 0.16:  # ended the moment it is paid, before its webhook
                ended = customer.delete(f"/api/instances/{instance_id}")
                self.tally.add(f"order ended once paid: {ended.status_code}")
        mine.append(instance_id)

    def _upgrade(self, customer: WebCustomer, instance_id: int) -> httpx.Response:
        return customer.post(
            "/api/billing/upgrade-plan", {"instance_id": instance_id, "new_plan": "performance"}
        )

    def _cancel(self, customer: WebCustomer, instance_id: int) -> httpx.Response:
        """Cancel at period end, clicked twice; sometimes the period then ends (Stripe
        deletes it)."""
        body = {"instance_id": instance_id}
        response = customer.post("/api/billing/cancel-subscription", body)
        again = customer.post("/api/billing/cancel-subscription", body)
        self.tally.add(f"cancel clicked again: {again.status_code}")
        if response.status_code == 202 and self.rng.random() < 0.6:
            threading.Thread(
                target=self._end_period, args=(customer, instance_id), daemon=True
            ).start()
        return response

    def _end_period(self, customer: WebCustomer, instance_id: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.stop.is_set():
            listed = customer.get("/api/billing/subscription").json()["subscriptions"]
            found = [s for s in listed if s["instance_id"] == instance_id]
            if found and found[0]["cancel_at_period_end"]:
                with self.stripe_quiet:
                    try:
                        self.stack.stripe_api().v1.subscriptions.cancel(found[0]["id"])
                        self.tally.add("period ended at Stripe")
                    except Exception as error:  # Stripe frozen or down: the period ends later
                        self.tally.add(f"period end refused: {type(error).__name__}")
                return
            time.sleep(1)

    # -- faults -----------------------------------------------------------------------
    def _fault_loop(self) -> None:
        faults = [
            (self._provider_fault, 10),
            (self._refuse_creates, 0.3),
            (self._kill_worker, 2),
            (self._freeze_stripe, 1),
            (self._restart_stripe, 1),
            (self._kill_redis, 1),
        ]
        while not self.stop.wait(self.rng.uniform(2, 5)):
            inject = self.rng.choices([f for f, _ in faults], [w for _, w in faults])[0]
            if inject == self._provider_fault:
                inject()
            elif inject == self._refuse_creates:
                threading.Thread(target=inject).start()
            else:
                # A fault that takes a process down, or waits for Stripe to go quiet, runs
                # beside the loop, one at a time, so provider faults keep coming meanwhile.
                threading.Thread(target=self._one_outage_at_a_time, args=(inject,)).start()

    def _one_outage_at_a_time(self, outage: Callable[[], None]) -> None:
        if not self.outage.acquire(blocking=False):
            self.tally.add("outage skipped: another under way")
            return
        try:
            outage()
        finally:
            self.outage.release()

    def _provider_fault(self) -> None:
        provider = self.rng.choice(list(OPERATIONS))
        operation = self.rng.choice(OPERATIONS[provider])
        fault = dict(self.rng.choice(FAULTS))
        self.stack.emulators[provider].inject(operation, **fault)
        self.tally.add(f"fault {provider} {operation} {fault['kind']}")
        self.tally.add("faults: provider")

    def _refuse_creates(self) -> None:
        """Every create at one provider fails for longer than an order's retries last:
        the orders there, which no other provider serves, fail for good, and their
        payments must come back. One provider at a time; its other faults end with it."""
        if not self.refusing.acquire(blocking=False):
            return
        try:
            provider = self.rng.choice(list(OPERATIONS))
            emulator = self.stack.emulators[provider]
            emulator.inject("create", kind="error_500", count=10_000)
            self.tally.add(f"faults: {provider} refusing creates")
            self.stop.wait(self.rng.uniform(60, 90))
            emulator.http.delete("/faults").raise_for_status()
        finally:
            self.refusing.release()

    def _kill_worker(self) -> None:
        worker = self.rng.choice(self.stack.workers)
        self.stack.replace_worker(worker)
        self.tally.add("faults: worker SIGKILLed")

    def _freeze_stripe(self) -> None:
        process = self.stack.stripe.popen
        if process is None:
            return
        process.send_signal(signal.SIGSTOP)
        self.frozen = True
        self.stop.wait(self.rng.uniform(3, 6))
        process.send_signal(signal.SIGCONT)
        self.frozen = False
        self.tally.add("faults: Stripe frozen")

    def _restart_stripe(self) -> None:
        with self.stripe_quiet:
            time.sleep(2.5)  # what it still has to deliver is delivered
            self.stack.stripe.stop()
            self.stop.wait(self.rng.uniform(2, 5))
            self.stack.stripe.start()
        self.tally.add("faults: Stripe restarted")

    def _kill_redis(self) -> None:
        """Redis SIGKILLed for a few seconds. Payments wait meanwhile: the local Stripe does
        not retry a webhook the web refused, where Stripe retries for days."""
        with self.stripe_quiet:
            self.stack.redis.restart(down_for=self.rng.uniform(3, 8))
        self.tally.add("faults: Redis killed")

    # -- the run ----------------------------------------------------------------------
    def run(self, settle_timeout: float) -> dict[str, Any]:
        started = time.monotonic()
        threads = [
            threading.Thread(target=self._customer_loop, args=(n,), daemon=True)
            for n in range(self.customers)
        ]
        threads.append(threading.Thread(target=self._fault_loop, daemon=True))
        for thread in threads:
            thread.start()
        self.stop.wait(self.seconds)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=120)
        with self.outage, self.refusing:  # the last outage and refusal are over
            pass
        loaded = time.monotonic() - started
        for emulator in self.stack.emulators.values():
            emulator.http.delete("/faults").raise_for_status()
        settle_started = time.monotonic()
        with contextlib.suppress(AssertionError):  # reported below: what is unsettled
            wait_until(
                lambda: not invariants.settled(self.stack.engine),
                timeout=settle_timeout,
                interval=1,
            )
        settled_in = time.monotonic() - settle_started
        time.sleep(5)  # the last events and the next invoice sync
        return self._report(loaded, settled_in)

    def _report(self, loaded: float, settled_in: float) -> dict[str, Any]:
        engine, api = self.stack.engine, self.stack.stripe_api()
        violations = invariants.settled(engine)
        violations += invariants.machines(engine, self.stack.emulators)
        violations += invariants.charges(engine, api)
        violations += invariants.undelivered_kept_nothing(engine, api)
        violations += self._unalerted_failures()
        with Session(engine) as session:
            jobs = Counter(f"{k} {s}" for k, s in session.execute(select(Job.kind, Job.state)))
            statuses = Counter(s for (s,) in session.execute(select(Instance.status)))
            resends = sum(int(c.get("resends", 0)) for (c,) in session.execute(select(Job.context)))
            attempts = session.scalar(select(func.sum(Job.attempts))) or 0
            events = session.scalar(select(func.count()).select_from(WebhookEvent)) or 0
            subscriptions = session.scalar(select(func.count()).select_from(Subscription)) or 0
            refunds = [
                int(details["amount"])
                for (details,) in session.execute(
                    select(AuditEvent.details).where(AuditEvent.action == "instance.refunded")
                )
            ]
            undelivered = session.scalar(
                select(func.count())
                .select_from(Instance)
                .where(
                    Instance.delivered_at.is_(None),
                    Instance.status.in_(("terminated", "failed")),
                    Instance.stripe_subscription_id.is_not(None),
                )
            )
        return {
            "load_seconds": round(loaded, 1),
            "settled_in_seconds": round(settled_in, 1),
            "customers": self.customers,
            "actions_and_faults": dict(sorted(self.tally.counts.items())),
            "jobs": dict(sorted(jobs.items())),
            "job_attempts": int(attempts),
            "jobs_resent_by_sweeper": resends,
            "instances": dict(sorted(statuses.items())),
            "subscriptions": subscriptions,
            "paid_orders_ended_without_a_machine": undelivered,
            "orders_refunded": len(refunds),
            "cents_refunded": sum(refunds),
            "webhook_events": events,
            "beat_restarts": self.stack.beat.restarts if self.stack.beat else 0,
            "unplanned_worker_restarts": sum(w.restarts for w in self.stack.workers),
            "violations": violations,
        }

    def _unalerted_failures(self) -> list[str]:
        """Every paid order that failed has had its alert mailed to ops."""
        with Session(self.stack.engine) as session:
            failed = session.scalars(
                select(Job)
                .join(Subscription, Subscription.instance_id == Job.instance_id)
                .where(Job.kind == "provision", Job.state == "failed")
            ).all()
            failed_ids = [job.id for job in failed]
        subjects = [str(m["Subject"]) for m in self.stack.mailbox.messages]
        return [
            f"provisioning job {job_id} failed without an alert"
            for job_id in failed_ids
            if not any(f"job {job_id} failed" in subject for subject in subjects)
        ]


def run(
    seconds: float,
    *,
    customers: int = 4,
    workers: int = 2,
    seed: int = 1,
    settle_timeout: float = 240,
    logs: Path | None = None,
) -> dict[str, Any]:
    """Bring a private platform up, soak it, and return the report."""
    with Stack.start(
        logs or ROOT / "test-artifacts" / "soak", workers=workers, settings=SOAK_SETTINGS
    ) as stack:
        return Soak(stack, seconds, customers, seed).run(settle_timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "10"))
    )
    parser.add_argument("--customers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--report", type=Path, default=ROOT / "test-artifacts" / "soak.json")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulators' access log
    print(f"soak: {args.minutes} minutes, seed {args.seed}", flush=True)
    report = run(args.minutes * 60, customers=args.customers, workers=args.workers, seed=args.seed)
    report["seed"] = args.seed
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    if report["violations"]:
        print(f"soak: {len(report['violations'])} invariant(s) broken", file=sys.stderr)
        return 1
    print("soak: every invariant holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
