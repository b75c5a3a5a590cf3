"""Provisioning scale: many machines ordered and paid for at once, built against the
provider emulators.

Runs the real stack — gunicorn, Celery workers, Redis, PostgreSQL, the local Stripe, both
emulators with a fixed boot time — has ``--customers`` customers order ``--machines``
desktops through the API and pay for each on the local Stripe's payment page, as fast as
it can. A paid order reaches us as Stripe's signed ``checkout.session.completed`` webhook,
whose task starts the provisioning job.

It prints what it measured in three spans, because the local Stripe (one single-threaded
Python process that rewrites its whole state file on every write) paces the orders:
- order to paid: our order API and the local Stripe taking the payment;
- paid to webhook received, and webhook received to job start (ours: storing the event,
  its task, the job's queue wait);
- the makespan, from the first job start to the last machine active, against its floor:
  the boot time after the last create the providers' request limits allow, per provider
  ``boot + (requests to order its machines) / (its client rate limit)``, the largest of
  them; and from the first paid order (first webhook received);
- the provider requests per machine, per provider and by operation (the emulators count
  them): the status rounds make one list call per provider per round, whatever the
  number of machines in flight.
``--payment-rate`` paces the orders (open loop) to measure webhook to job start at a
steady rate of payments.
And the workers' memory and CPU. ``--profile`` samples the Celery workers with py-spy and
prints where they spent their time.

    make bench-provisioning            # or: .venv/bin/python bench/provisioning_scale.py --help
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    ONE_ADDRESS_LIMITS,
    Profiler,
    Stack,
    base_env,
    bench_database_url,
    customers_with_tokens,
    free_port,
    machine_load,
    percentile,
    provider_env,
    reset_database,
    stripe_env,
    summarise_profile,
    tree_cpu_seconds,
    tree_rss,
    wait_for_workers,
    wait_http,
)

AIM_MAKESPAN = 1.3  # times the floor set by the boot time and the request limits
AIM_START_P95_MS = 100.0
LOGS = ROOT / "var" / "bench" / "provisioning"


@dataclass
class Order:
    token: str
    region: str
    sent: float = 0.0  # epoch seconds
    ordered: float = 0.0
    paid: float = 0.0
    instance_id: int = 0
    status: int = 0


def order_and_pay(base: str, order: Order, due: float = 0.0) -> Order:
    """Order a machine (at ``due``, epoch seconds, if later), then pay on the payment page
    as the customer's browser would."""
    time.sleep(max(0.0, due - time.time()))
    order.sent = time.time()
    response = httpx.post(
        f"{base}/api/instances",
        json={"plan": "basic", "os_type": "windows", "region": order.region},
        headers={"Authorization": f"Bearer {order.token}"},
        timeout=120,
    )
    order.ordered = time.time()
    order.status = response.status_code
    if response.status_code != 202:
        return order
    body = response.json()
    order.instance_id = body["instance"]["id"]
    paid = httpx.post(f"{body['checkout_url']}/pay", data={"card": "pm_card_visa"}, timeout=120)
    order.status = paid.status_code
    order.paid = time.time()
    return order


def wait_for_jobs(
    database_url: str, expected: int, timeout: float, *, finished: bool = True
) -> None:
    """Until ``expected`` provisioning jobs have finished (or, not ``finished``, exist)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    deadline = time.monotonic() + timeout
    counted = "state IN ('succeeded', 'failed')" if finished else "true"
    query = sa.text(f"SELECT count(*) FILTER (WHERE {counted}) FROM jobs WHERE kind = 'provision'")
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(query).scalar_one() >= expected:
                break
            time.sleep(0.5)
    engine.dispose()


def timeline(database_url: str) -> list[Any]:
    """For each paid order: provider, when its webhook was received, and its job's times."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT i.id, i.provider, i.status, w.received_at, j.created_at, j.started_at,"
                " j.finished_at, j.state FROM instances i"
                " JOIN webhook_events w ON w.type = 'checkout.session.completed'"
                "  AND w.payload -> 'data' -> 'object' ->> 'id' = i.checkout_session_id"
                " LEFT JOIN jobs j ON j.instance_id = i.id AND j.kind = 'provision'"
            )
        ).all()
    engine.dispose()
    return list(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", type=int, default=1000)
    parser.add_argument("--boot-seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=8, help="threads per worker")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--customers", type=int, default=1000, help="ordering in turn")
    parser.add_argument("--parallel", type=int, default=32, help="orders in flight at once")
    parser.add_argument(
        "--regions",
        default="us-east,australia",
        help="regions ordered in turn (us-east: Vultr, australia: Contabo)",
    )
    parser.add_argument("--status-interval", type=float, default=5.0)
    parser.add_argument(
        "--stream",
        action="store_true",
        help="start each job as its payment arrives (default: hold provisioning until every"
        " order is paid, then release all the jobs at once)",
    )
    parser.add_argument(
        "--payment-rate",
        type=float,
        default=0.0,
        help="orders paid a second, open loop (default: as fast as --parallel allows)",
    )
    parser.add_argument("--profile", action="store_true", help="sample the workers with py-spy")
    args = parser.parse_args()

    ports = {name: free_port() for name in ("web", "vultr", "contabo", "rdp", "stripe")}
    database_url = bench_database_url("provisioning")
    env = base_env(database_url)
    env.update(provider_env(ports["vultr"], ports["contabo"], ports["rdp"]))
    env.update(ONE_ADDRESS_LIMITS)
    env.update(stripe_env(ports["stripe"], ports["web"]))
    env.update(
        {
            "STATUS_CHECK_INTERVAL": str(args.status_interval),
            "FIRST_CHECK_DELAY": str(args.boot_seconds),
        }
    )
    os.environ.update(env)
    reset_database(env)

    stack = Stack(env, LOGS)
    profiler = Profiler(LOGS / "profile") if args.profile else None
    try:
        boot = str(args.boot_seconds)
        for provider, prefix, extra in (
            ("vultr", "127.41", ["--rate-limit", "30"]),
            ("contabo", "127.42", []),
        ):
            stack.emulator(
                provider,
                ports[provider],
                ports["rdp"],
                "--boot-seconds",
                boot,
                "--ip-prefix",
                prefix,
                *extra,
            )
            wait_http(f"http://127.0.0.1:{ports[provider]}/_emulator/calls")
        stack.stripe(ports["stripe"], ports["web"])
        stack.web(ports["web"], args.web_workers)
        workers = [stack.worker(f"bench{i}", args.concurrency) for i in range(args.workers)]
        base = f"http://127.0.0.1:{ports['web']}"
        wait_http(f"{base}/api/support/faq")
        wait_for_workers(args.workers)

        tokens = [token for _, token in customers_with_tokens(args.customers, "bench")]
        regions = args.regions.split(",")
        orders = [
            Order(tokens[i % len(tokens)], regions[i % len(regions)]) for i in range(args.machines)
        ]
        from app import create_app  # the settings are read now, from this run's environment

        celery = create_app().extensions["celery"]
        if not args.stream:
            held = celery.control.cancel_consumer("provisioning", reply=True, timeout=5)
            assert len(held) == args.workers, f"provisioning not held by every worker: {held}"

        def measure_from_here() -> list[float]:
            if profiler:
                for i, process in enumerate(workers):
                    profiler.attach(f"worker{i}", process.pid)
            return [tree_cpu_seconds(w.pid) for w in workers]

        cpu_before = measure_from_here() if args.stream else []
        began, rate = time.time() + 0.5, args.payment_rate
        due = [began + i / rate if rate else 0.0 for i in range(len(orders))]
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            done = list(pool.map(lambda o, at: order_and_pay(base, o, at), orders, due))
        paid = sum(1 for o in done if o.status == 303)
        if not args.stream:  # every paid order has its job: let them all start at once
            wait_for_jobs(database_url, paid, 600, finished=False)
            cpu_before = measure_from_here()
            celery.control.add_consumer("provisioning", reply=True, timeout=5)
        wait_for_jobs(database_url, paid, args.boot_seconds * 10 + 300)
        spent = zip(workers, cpu_before, strict=True)
        cpu = [tree_cpu_seconds(w.pid) - before for w, before in spent]
        rss = [tree_rss(w.pid) for w in workers if w.poll() is None]
        profiles = profiler.stop() if profiler else []
        report(args, done, timeline(database_url), rss, cpu, ports, rate_limits())
        if profiles:
            summarise_profile(profiles)
    finally:
        stack.stop()


def rate_limits() -> dict[str, float]:
    """Each provider client's request limit, in requests a second, from this run's settings."""
    from limits import parse

    from app import create_app

    config = create_app().config
    limits = {}
    for name in ("vultr", "contabo"):
        item = parse(config[f"{name.upper()}_RATE_LIMIT"])
        limits[name] = item.amount / item.get_expiry()
    return limits


def provider_requests(ports: dict[str, int]) -> dict[str, Counter[str]]:
    """Every request each emulator received, by operation."""
    return {
        name: Counter(
            httpx.get(f"http://127.0.0.1:{ports[name]}/_emulator/calls", timeout=30).json()
        )
        for name in ("vultr", "contabo")
    }


def report(
    args: argparse.Namespace,
    orders: list[Order],
    rows: list[Any],
    rss: list[int],
    cpu: list[float],
    ports: dict[str, int],
    limits: dict[str, float],
) -> None:
    paid = [o for o in orders if o.status == 303]
    first_sent = min(o.sent for o in orders)
    order_ms = [(o.ordered - o.sent) * 1000 for o in orders]
    pay_ms = [(o.paid - o.ordered) * 1000 for o in paid]
    paid_at = {o.instance_id: o.paid for o in paid}
    received = [r.received_at.timestamp() for r in rows]
    to_webhook = [
        (r.received_at.timestamp() - paid_at[r.id]) * 1000 for r in rows if r.id in paid_at
    ]
    started = [r for r in rows if r.started_at]
    to_created = [(r.created_at - r.received_at).total_seconds() * 1000 for r in started]
    queued = [(r.started_at - r.created_at).total_seconds() * 1000 for r in started]
    to_start = [(r.started_at - r.received_at).total_seconds() * 1000 for r in started]
    succeeded = [r for r in rows if r.state == "succeeded"]
    last_active = max(r.finished_at.timestamp() for r in succeeded) if succeeded else 0.0
    first_start = min((r.started_at.timestamp() for r in started), default=0.0)
    from_paid = last_active - min(received, default=last_active)
    from_start = last_active - first_start
    boot = args.boot_seconds
    machines: dict[str, int] = {}
    for name in ("vultr", "contabo"):
        listed = httpx.get(f"http://127.0.0.1:{ports[name]}/_emulator/machines", timeout=30)
        machines[name] = sum(1 for m in listed.json() if not m["destroyed"])

    def spread(values: list[float]) -> str:
        if not values:
            return "none"
        return f"p50 {statistics.median(values):.0f} ms, p95 {percentile(values, 95):.0f} ms"

    print(f"machines ordered         {len(orders)}, paid {len(paid)}")
    last_done = max(o.paid or o.ordered for o in orders)
    print(
        f"orders and payments      all done in {last_done - first_sent:.1f} s"
        f" ({args.parallel} at once)"
    )
    print(f"  order API (202)        {spread(order_ms)}")
    print(f"  payment page (303)     {spread(pay_ms)}   <- the local Stripe")
    print(f"  paid to webhook        {spread(to_webhook)}   <- the local Stripe's delivery")
    print(f"webhook to job created   {spread(to_created)}   (event task, Stripe read, job)")
    if args.stream:
        print(f"job created to started   {spread(queued)}   (queue wait)")
        p95 = percentile(to_start, 95) if to_start else 0.0
        print(
            f"webhook to job start     {spread(to_start)}   p95/{AIM_START_P95_MS:.0f} ms aim"
            f" {p95 / AIM_START_P95_MS:.2f}"
        )
    else:
        print("job created to started   held until every order was paid, then all released")
    print(f"jobs succeeded / failed  {len(succeeded)} / {len(rows) - len(succeeded)}")
    print(f"active by provider       {dict(Counter(r.provider for r in succeeded))}")
    print(f"machines at emulators    {machines} (must equal the active count: no duplicates)")
    print(f"boot time                {boot:.1f} s")
    building = [(r.finished_at - r.started_at).total_seconds() for r in succeeded]
    print(
        f"job start to active      p50 {statistics.median(building or [0]) / boot:.2f},"
        f" p95 {percentile(building, 95) / boot:.2f}, max {max(building or [0]) / boot:.2f}"
        " x boot (each machine)"
    )
    requests = provider_requests(ports)
    active = Counter(r.provider for r in succeeded)
    floors = {}
    for name, calls in requests.items():
        if not active[name]:
            continue
        watching = calls["list"] + calls["get"]
        ordering = sum(calls.values()) - watching
        floors[name] = boot + ordering / limits[name]
        print(
            f"{name + ' requests':<24} {sum(calls.values())} for {active[name]} machines ="
            f" {sum(calls.values()) / active[name]:.2f} a machine: ordering"
            f" {ordering / active[name]:.2f}, watching {watching / active[name]:.2f}"
            f" ({calls['list']} list calls, {calls['get']} GETs); {dict(calls)}"
        )
        print(
            f"  floor                  boot + ordering requests / limit = {boot:g} +"
            f" {ordering} / {limits[name]:g}/s = {floors[name]:.1f} s"
        )
    floor = max(floors.values(), default=boot)
    print(
        f"makespan from first job  {from_start:.1f} s = {from_start / boot:.2f} x boot;"
        f" / floor {floor:.1f} s (the largest above) = {from_start / floor:.2f}"
        f" (aim {AIM_MAKESPAN})"
        + ("  <- paced by the payments" if args.stream else "  <- all released at once")
    )
    print(f"makespan from first paid {from_paid:.1f} s = {from_paid / boot:.2f} x boot")
    print(
        f"payments spread over     {max(received, default=0) - min(received, default=0):.1f} s"
        " (first to last webhook received)"
    )
    print(
        f"last paid to last active {last_active - max(received, default=0):.1f} s ="
        f" {(last_active - max(received, default=0)) / boot:.2f} x boot"
    )
    print(f"machine: {machine_load()} at the end of the run")
    print(f"worker memory (RSS)      {', '.join(f'{r / 2**20:.0f} MiB' for r in rss)}")
    print(f"worker CPU               {', '.join(f'{c:.0f} s' for c in cpu)}")
    print(
        f"stack                    {args.workers} workers x {args.concurrency} threads,"
        f" gunicorn {args.web_workers} workers, status rounds every {args.status_interval:g} s;"
        f" {'stream' if args.stream else 'burst'} mode"
        + (f", {args.payment_rate:g} payments a second" if args.payment_rate else "")
    )


if __name__ == "__main__":
    main()
