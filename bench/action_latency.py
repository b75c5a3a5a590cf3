"""Action latency: restarts, stops and starts requested at a steady rate through the API,
timed from the API's 202 to the provider call.

Creates ``--machines`` machines at the provider emulators (``--vultr-share`` of them at
Vultr, the rest at Contabo) and records them as active machines of a few customers, then
runs the production stack (gunicorn, Celery workers, Redis, PostgreSQL) and sends
``--rate`` actions a second for ``--duration`` seconds, open loop (each request is sent on
time whatever the earlier ones are doing). Each machine goes through stop, start, restart
in turn, visited again only after ``machines / rate`` seconds. The emulators log when each
call arrived (``/_emulator/call-log``); each action is matched to its machine's first call
of that kind after the 202.

Actions are spread within the providers' limits: ``--vultr-share`` of them go to Vultr
(client limit VULTR_RATE_LIMIT, 25/s), the rest to Contabo (``--contabo-limit``, which
publishes none); both shares are printed against their limits. As in production, the
actions queue has a worker of its own (``--action-pool``, ``--action-concurrency``), the
other queues (orders, the status rounds watching the machines until they get there)
theirs. The delay is compared between the first and the last ten seconds of sending: a
backlog shows as growth.

    make bench-actions       # or: .venv/bin/python bench/action_latency.py --help
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    ONE_ADDRESS_LIMITS,
    Stack,
    base_env,
    bench_database_url,
    customers_with_tokens,
    free_port,
    machine_load,
    percentile,
    provider_env,
    reset_database,
    wait_for_workers,
    wait_http,
)

AIM_P95_MS = 500.0  # an action reaches the provider within half a second
WINDOW_SECONDS = 10.0  # the first and the last this many seconds are compared
CYCLE = ("stop", "start", "restart")
# The emulators' operation names for each action (Vultr, Contabo).
OPERATIONS = {
    "stop": {"halt", "shutdown", "stop"},
    "start": {"start"},
    "restart": {"reboot", "restart"},
}
PLAN = "basic"
# Requests open at once; later ones wait their turn in the client (the wait counts in the
# API answer time), never in httpx's pool, whose scheduling slows down with thousands.
MAX_IN_FLIGHT = 100
REGION_OF = {"vultr": "us-east", "contabo": "australia"}


@dataclass
class Action:
    kind: str
    instance_id: int
    provider: str
    provider_id: str
    sent: float  # epoch seconds
    answered: float = 0.0
    status: int = 0


# -- machines ------------------------------------------------------------------------------
def create_machines(count: int, vultr_share: float) -> dict[str, list[tuple[str, str]]]:
    """Machines made at the emulators through our own provider clients: provider ->
    [(provider id, ip)]."""
    from app import create_app
    from workers.providers.base import CreateRequest
    from workers.providers.registry import client_for

    app = create_app()
    vultr = round(count * vultr_share)
    providers = ["vultr"] * vultr + ["contabo"] * (count - vultr)

    def create(numbered: tuple[int, str]) -> tuple[str, str, str]:
        number, provider = numbered
        with app.app_context():
            client = client_for(provider)
            offer = _offers(provider)
            machine = client.create(
                CreateRequest(
                    label=f"nemordp-bench-{number}",
                    plan=offer["plan"],
                    region=offer["regions"][REGION_OF[provider]],
                    os_type="linux",
                    user_data="",
                    password="Bench-Password-123!",
                )
            )
        return provider, machine.provider_id, machine.ip_address or ""

    made: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with ThreadPoolExecutor(max_workers=8) as pool:
        for provider, provider_id, ip in pool.map(create, enumerate(providers)):
            made[provider].append((provider_id, ip))
    return made


def _offers(provider: str) -> dict[str, Any]:
    import json

    catalogue = json.loads((ROOT / "app" / "data" / "catalog.json").read_text())
    plans = catalogue if isinstance(catalogue, list) else catalogue["plans"]
    plan = next(p for p in plans if p["code"] == PLAN)
    offer: dict[str, Any] = plan["offers"][provider]
    return offer


def record_machines(
    made: dict[str, list[tuple[str, str]]], customers: int
) -> list[tuple[int, str, str, str]]:
    """The machines as active instances of ``customers`` customers (with API tokens):
    (instance id, provider, provider id, owner's token) for each."""
    from sqlalchemy import insert, select

    from app import create_app
    from app.extensions import db
    from app.models import Instance, Plan

    owners = customers_with_tokens(customers, "actions")
    machines = [(p, pid, ip) for p, listed in made.items() for pid, ip in listed]
    with create_app().app_context():
        plan_id = db.session.scalar(select(Plan.id).where(Plan.code == PLAN))
        rows = [
            {
                "user_id": owners[n % customers][0],
                "plan_id": plan_id,
                "os_type": "linux",
                "region": REGION_OF[provider],
                "provider": provider,
                "provider_id": provider_id,
                "status": "active",
                "ip_address": ip,
                "username": "nemordp",
            }
            for n, (provider, provider_id, ip) in enumerate(machines)
        ]
        ids = list(db.session.scalars(insert(Instance).returning(Instance.id), rows))
        db.session.commit()
    return [
        (instance_id, provider, provider_id, owners[n % customers][1])
        for n, (instance_id, (provider, provider_id, _)) in enumerate(
            zip(ids, machines, strict=True)
        )
    ]


def interleaved(machines: list[tuple[int, str, str, str]]) -> list[tuple[int, str, str, str]]:
    """The machines in the order the actions visit them: the providers mixed evenly, so
    each gets its share of the rate at every moment, not all of it in turn."""
    by_provider: dict[str, list[tuple[int, str, str, str]]] = defaultdict(list)
    for machine in machines:
        by_provider[machine[1]].append(machine)
    placed = [
        ((n + 0.5) / len(listed), machine)
        for listed in by_provider.values()
        for n, machine in enumerate(listed)
    ]
    return [machine for _, machine in sorted(placed, key=lambda p: p[0])]


# -- the load ------------------------------------------------------------------------------
async def send_actions(
    base: str, machines: list[tuple[int, str, str, str]], rate: float, duration: float
) -> list[Action]:
    """Open loop: action i is sent at start + i / rate, whatever the others are doing."""
    actions: list[Action] = []
    turns: dict[int, int] = defaultdict(int)
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)

        async def fire(action: Action, token: str) -> None:
            async with in_flight:
                await post(action, token)

        async def post(action: Action, token: str) -> None:
            try:
                response = await http.post(
                    f"/api/instances/{action.instance_id}/{action.kind}",
                    headers={"Authorization": f"Bearer {token}"},
                )
                action.status = response.status_code
            except httpx.HTTPError:
                action.status = 599  # no answer within the timeout
            action.answered = time.time()

        tasks = []
        start = time.monotonic()
        total = int(rate * duration)
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            instance_id, provider, provider_id, token = machines[i % len(machines)]
            kind = CYCLE[turns[instance_id] % len(CYCLE)]
            turns[instance_id] += 1
            action = Action(kind, instance_id, provider, provider_id, time.time())
            actions.append(action)
            tasks.append(asyncio.create_task(fire(action, token)))
        await asyncio.gather(*tasks)
    return actions


def provider_calls(ports: dict[str, int]) -> dict[tuple[str, str], list[tuple[float, str]]]:
    """(provider, machine id) -> [(epoch, operation)] from the emulators' call logs."""
    calls: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    for provider in ("vultr", "contabo"):
        log = httpx.get(f"http://127.0.0.1:{ports[provider]}/_emulator/call-log", timeout=60)
        for entry in log.json():
            calls[(provider, entry["machine"])].append((entry["at"], entry["operation"]))
    return calls


def accepted_jobs(database_url: str) -> list[tuple[str, str, str, float]]:
    """(provider, provider id, kind, epoch) of every action job: its row is written by the
    request just before the API answers 202, so its creation time is the 202's."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT i.provider, i.provider_id, j.kind, j.created_at FROM jobs j"
                " JOIN instances i ON i.id = j.instance_id"
                " WHERE j.kind IN ('stop', 'start', 'restart')"
            )
        ).all()
    engine.dispose()
    return [(r.provider, r.provider_id, r.kind, r.created_at.timestamp()) for r in rows]


def latencies(
    jobs: list[tuple[str, str, str, float]],
    calls: dict[tuple[str, str], list[tuple[float, str]]],
) -> tuple[dict[str, list[tuple[float, float]]], int]:
    """(202 time, milliseconds from it to the provider call) of each accepted action (its
    job's creation), by provider; and how many accepted actions never reached the
    provider."""
    by_provider: dict[str, list[tuple[float, float]]] = defaultdict(list)
    missing = 0
    for provider, provider_id, kind, created in jobs:
        made = sorted(
            at
            for at, operation in calls.get((provider, provider_id), [])
            if operation in OPERATIONS[kind] and at >= created
        )
        if not made:
            missing += 1
            continue
        by_provider[provider].append((created, (made[0] - created) * 1000))
    return by_provider, missing


def queue_waits(database_url: str) -> list[float]:
    """Milliseconds from each action's 202 (its job row) to its task starting (a worker
    took it from the actions queue)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT extract(epoch FROM started_at - created_at) * 1000 FROM jobs"
                " WHERE kind IN ('stop', 'start', 'restart') AND started_at IS NOT NULL"
            )
        ).all()
    engine.dispose()
    return [float(ms) for (ms,) in rows]


def job_outcomes(database_url: str) -> dict[str, int]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT state, count(*) FROM jobs WHERE kind IN ('stop', 'start', 'restart')"
                " GROUP BY state"
            )
        ).all()
    engine.dispose()
    return {state: count for state, count in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="actions a second")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--machines", type=int, default=1500)
    parser.add_argument("--vultr-share", type=float, default=0.4)
    parser.add_argument(
        "--contabo-limit", default="40/second", help="CONTABO_RATE_LIMIT for the run"
    )
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--web-threads", type=int, default=8, help="threads per worker")
    parser.add_argument(
        "--workers", type=int, default=1, help="Celery workers on the queues but actions"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="threads per worker")
    parser.add_argument("--action-pool", default="threads", choices=("threads", "prefork"))
    parser.add_argument(
        "--action-concurrency",
        type=int,
        default=16,
        help="the actions worker's threads or processes (deploy/workers/actions.env)",
    )
    parser.add_argument("--status-interval", type=float, default=5.0)
    parser.add_argument("--drain", type=float, default=20.0, help="seconds to let jobs end")
    args = parser.parse_args()

    ports = {name: free_port() for name in ("web", "vultr", "contabo", "rdp")}
    database_url = bench_database_url("actions")
    env = base_env(database_url)
    env.update(provider_env(ports["vultr"], ports["contabo"], ports["rdp"]))
    env.update(ONE_ADDRESS_LIMITS)
    env.update(
        {
            "STATUS_CHECK_INTERVAL": str(args.status_interval),
            "PROVIDER_TIMEOUT": "10",
            "CONTABO_RATE_LIMIT": args.contabo_limit,
        }
    )
    os.environ.update(env)
    reset_database(env)
    stack = Stack(env, ROOT / "var" / "bench" / "actions")
    try:
        for provider, extra in (("vultr", ["--rate-limit", "30"]), ("contabo", [])):
            stack.emulator(
                provider,
                ports[provider],
                ports["rdp"],
                "--boot-seconds",
                "0.5",
                "--restart-seconds",
                "2",
                "--ip-delay-seconds",
                "0",
                "--ip-prefix",
                "127.51" if provider == "vultr" else "127.52",
                *extra,
            )
            wait_http(f"http://127.0.0.1:{ports[provider]}/_emulator/calls")
        began = time.monotonic()
        # The emulator's 30 requests/s limit is lifted while the machines are made.
        vultr_admin = f"http://127.0.0.1:{ports['vultr']}/_emulator/settings"
        httpx.post(vultr_admin, json={"rate_limit_per_second": 0}).raise_for_status()
        made = create_machines(args.machines, args.vultr_share)
        httpx.post(vultr_admin, json={"rate_limit_per_second": 30}).raise_for_status()
        machines = interleaved(record_machines(made, args.customers))
        print(f"{len(machines)} machines made and recorded in {time.monotonic() - began:.0f} s")

        stack.web(ports["web"], args.web_workers, args.web_threads)
        from app.tasking import QUEUES

        others = [queue for queue in QUEUES if queue != "actions"]
        for i in range(args.workers):
            stack.worker(f"others{i}", args.concurrency, queues=others)
        stack.worker("actions", args.action_concurrency, args.action_pool, queues=["actions"])
        base = f"http://127.0.0.1:{ports['web']}"
        wait_http(f"{base}/api/support/faq")
        wait_for_workers(args.workers + 1)

        actions = asyncio.run(send_actions(base, machines, args.rate, args.duration))
        time.sleep(args.drain)
        calls = provider_calls(ports)
        jobs = accepted_jobs(database_url)
        report(args, actions, jobs, calls, job_outcomes(database_url), queue_waits(database_url))
    finally:
        stack.stop()


def report(
    args: argparse.Namespace,
    actions: list[Action],
    jobs: list[tuple[str, str, str, float]],
    calls: dict[tuple[str, str], list[tuple[float, str]]],
    states: dict[str, int],
    waits: list[float],
) -> None:
    accepted = [a for a in actions if a.status == 202]
    refused: dict[int, int] = defaultdict(int)
    for action in actions:
        if action.status != 202:
            refused[action.status] += 1
    api_ms = [(a.answered - a.sent) * 1000 for a in actions]
    by_provider, missing = latencies(jobs, calls)
    sent_in = max(actions[-1].sent - actions[0].sent, 1e-9)
    print(
        f"{len(actions)} actions sent over {sent_in:.1f} s ({(len(actions) - 1) / sent_in:.1f}/s,"
        f" asked {args.rate:g}/s); accepted {len(accepted)}, refused {dict(refused) or 0}"
    )
    print(
        f"API answer (from when due) p50 {statistics.median(api_ms):.0f} ms,"
        f" p95 {percentile(api_ms, 95):.0f} ms"
    )
    everything = [timed for values in by_provider.values() for timed in values]
    for name, timed in [*sorted(by_provider.items()), ("all", everything)]:
        if not timed:
            continue
        values = [ms for _, ms in timed]
        p95 = percentile(values, 95)
        print(
            f"202 (job row) to provider call, {name:<8} n {len(values):>5}  p50"
            f" {statistics.median(values):>6.0f} ms  p95 {p95:>6.0f} ms  max"
            f" {max(values):>6.0f} ms  p95/{AIM_P95_MS:.0f} ms aim {p95 / AIM_P95_MS:.2f}"
        )
    if waits:
        print(
            f"of which queue wait (202 to task start) p50 {statistics.median(waits):.0f} ms,"
            f" p95 {percentile(waits, 95):.0f} ms"
        )
    if everything:
        print(growth(everything))
    for provider in ("vultr", "contabo"):
        share = args.vultr_share if provider == "vultr" else 1 - args.vultr_share
        limit = args.contabo_limit if provider == "contabo" else "25/second (VULTR_RATE_LIMIT)"
        print(f"offered to {provider:<8} {args.rate * share:.1f} actions/s; client limit {limit}")
    print(f"machine: {machine_load()} at the end of the run")
    print(f"accepted but no provider call seen  {missing}")
    print(f"jobs by state after {args.drain:.0f} s  {states}")
    print(
        f"stack: gunicorn {args.web_workers} workers x {args.web_threads} threads;"
        f" Celery: actions {args.action_concurrency} {args.action_pool}, others"
        f" {args.workers} x {args.concurrency} threads; {args.machines} machines,"
        f" {args.vultr_share:.0%} at Vultr; status rounds every {args.status_interval:g} s"
    )


def growth(timed: list[tuple[float, float]]) -> str:
    """The delay of the actions accepted in the last ten seconds against the first ten's."""
    start, end = min(t for t, _ in timed), max(t for t, _ in timed)
    first = [ms for t, ms in timed if t < start + WINDOW_SECONDS]
    last = [ms for t, ms in timed if t > end - WINDOW_SECONDS]
    p95_first, p95_last = percentile(first, 95), percentile(last, 95)
    return (
        f"growth: p95 first {WINDOW_SECONDS:g} s {p95_first:.0f} ms (n {len(first)}), last"
        f" {WINDOW_SECONDS:g} s {p95_last:.0f} ms (n {len(last)}); last/first"
        f" {p95_last / max(p95_first, 1e-9):.2f} (no growth: about 1)"
    )


if __name__ == "__main__":
    main()
