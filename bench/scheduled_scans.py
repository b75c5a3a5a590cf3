"""Scheduled work at scale: the idle scan over 100,000 machines, and usage polling of
10,000 machines against the Vultr emulator.

1. Idle scan: seeds ``--rows`` instances (with owners, agents, traffic and jobs in
   realistic proportions) into PostgreSQL with set-based INSERTs, then times the idle
   scan's one SQL statement (best and median of several runs) and prints it against its
   limit of 1 s, with the query plan.
2. Usage polling: orders ``--machines`` machines at a Vultr emulator (its rate limit lifted
   for the seeding, then 30 requests/s again), records them as active instances, starts
   Celery workers, sends ``periodic.poll_usage`` and waits until every machine has its
   series. The floor is ``machines / 30`` seconds (Vultr's limit); our client throttle
   (``VULTR_RATE_LIMIT``, 25/s by default) sets a slightly higher one.

    make bench-scans                  # or: .venv/bin/python bench/scheduled_scans.py --help
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    Stack,
    base_env,
    bench_database_url,
    free_port,
    reset_database,
    wait_for_workers,
    wait_http,
)

SCAN_LIMIT = 1.0  # seconds: the idle scan must stay well under this
VULTR_LIMIT = 30  # requests a second: Vultr's published limit per source address


def _libpq(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


# -- 1. the idle scan ---------------------------------------------------------------------
SEED_USERS = """
INSERT INTO users (email, full_name, password_hash, role, is_active_account,
                   email_notifications, auto_shutdown, idle_minutes, default_os, created_at)
SELECT 'bench' || g || '@example.com', '', 'x', 'customer', true, true,
       g %% 3 <> 0,                                  -- two owners in three use auto-shutdown
       (ARRAY[30, 60, 120, 240])[1 + g %% 4], 'windows', now() - interval '90 days'
FROM generate_series(1, %(users)s) AS g
"""

# Of the machines: 75% active, 15% stopped, 10% terminated. Of the active: a third with an
# agent (sessions seen up to 8 hours ago), a third judged by traffic, a third with neither.
SEED_INSTANCES = """
INSERT INTO instances (user_id, plan_id, os_type, region, provider, provider_id, status,
                       data_transfer_gb, created_at, last_heartbeat_at, last_accessed,
                       traffic_seen_at)
SELECT 1 + (g * 7919) %% %(users)s,
       (SELECT min(id) FROM plans), 'windows', 'us-east', 'vultr', 'bench-' || g,
       CASE WHEN g %% 20 < 15 THEN 'active' WHEN g %% 20 < 18 THEN 'stopped'
            ELSE 'terminated' END,
       0, now() - interval '30 days',
       CASE WHEN g %% 3 = 0 THEN now() - (g %% 10) * interval '1 minute' END,
       CASE WHEN g %% 3 = 0 THEN now() - (g %% 480) * interval '1 minute' END,
       CASE WHEN g %% 3 = 1 THEN now() - (g %% 480) * interval '1 minute' END
FROM generate_series(1, %(rows)s) AS g
"""

# A job on one machine in five, some of them recent (a recent job protects a machine).
SEED_JOBS = """
INSERT INTO jobs (kind, user_id, instance_id, state, attempts, context, created_at, updated_at)
SELECT 'start', i.user_id, i.id, 'succeeded', 1, '{}',
       now() - (i.id %% 1440) * interval '1 minute', now()
FROM instances AS i WHERE i.id %% 5 = 0
"""


def seed_scan_rows(database_url: str, rows: int, users: int) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        conn.execute(SEED_USERS, {"users": users})
        conn.execute(SEED_INSTANCES, {"rows": rows, "users": users})
        conn.execute(SEED_JOBS, {})
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def time_scan(runs: int) -> dict[str, Any]:
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.models.base import utcnow
    from app.services import idle

    app = create_app()
    with app.app_context():
        now = utcnow()
        query = idle.scan(now, 1_000_000)
        timings, found = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            found = len(db.session.scalars(query).all())
            timings.append(time.perf_counter() - started)
            db.session.rollback()
        batch = app.config["IDLE_STOP_BATCH"]
        plans = {}
        for name, statement in (("full scan", query), ("one run", idle.scan(now, batch))):
            compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
            explain = text(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}")
            plans[name] = [line[:150] for line in db.session.execute(explain).scalars()]
        started = time.perf_counter()
        idle.idle_instance_ids(now)
        one_batch = time.perf_counter() - started
        return {
            "found": found,
            "best": min(timings),
            "median": statistics.median(timings),
            "batch": batch,
            "one_batch": one_batch,
            "plans": plans,
        }


def bench_scan(args: argparse.Namespace, env: dict[str, str]) -> None:
    reset_database(env)
    seeded_in = seed_scan_rows(env["DATABASE_URL"], args.rows, args.users)
    result = time_scan(args.runs)
    print("== idle scan")
    print(
        f"rows seeded              {args.rows} machines, {args.users} owners, in {seeded_in:.1f} s"
    )
    print(f"idle machines found      {result['found']}")
    print(
        f"full scan, best/median   {result['best'] * 1000:.0f} / {result['median'] * 1000:.0f} ms"
    )
    print(f"full scan / limit (1 s)  {result['median'] / SCAN_LIMIT:.3f}")
    print(f"one run's batch ({result['batch']})     {result['one_batch'] * 1000:.0f} ms")
    for name, plan in result["plans"].items():
        print(f"plan of the {name}:")
        for line in plan:
            print(f"  {line}")


# -- 2. usage polling ---------------------------------------------------------------------
def order_machines(vultr: str, count: int) -> list[str]:
    """Machines at the emulator, ordered through its API with its rate limit lifted."""
    admin = httpx.Client(base_url=f"{vultr}/_emulator", timeout=30)
    admin.post("/settings", json={"rate_limit_per_second": 0}).raise_for_status()
    api = httpx.Client(
        base_url=f"{vultr}/v2", headers={"Authorization": "Bearer bench"}, timeout=30
    )

    def order(n: int) -> str:
        body = {"region": "ewr", "plan": "vc2-1c-1gb", "os_id": 1743, "label": f"nemordp-{n}"}
        response = api.post("/instances", json=body)
        response.raise_for_status()
        return str(response.json()["instance"]["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(order, range(1, count + 1)))
    admin.post("/settings", json={"rate_limit_per_second": VULTR_LIMIT}).raise_for_status()
    return ids


def record_instances(database_url: str, machine_ids: list[str]) -> None:
    import psycopg

    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        conn.execute("TRUNCATE instance_usage, jobs, instances, users RESTART IDENTITY CASCADE")
        conn.execute(SEED_USERS, {"users": 100})
        plan_id = conn.execute("SELECT min(id) FROM plans").fetchone()[0]  # type: ignore[index]
        with conn.cursor().copy(
            "COPY instances (id, user_id, plan_id, os_type, region, provider, provider_id,"
            " status, data_transfer_gb, created_at) FROM STDIN"
        ) as copy:
            for n, machine_id in enumerate(machine_ids, start=1):
                copy.write_row(
                    (
                        n,
                        1 + n % 100,
                        plan_id,
                        "linux",
                        "us-east",
                        "vultr",
                        machine_id,
                        "active",
                        0,
                        "2026-01-01T00:00:00Z",
                    )
                )
        conn.execute("SELECT setval('instances_id_seq', %s)", (len(machine_ids),))
        conn.execute("ANALYZE")


def polled(database_url: str) -> int:
    import psycopg

    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute("SELECT count(DISTINCT instance_id) FROM instance_usage").fetchone()
        return int(row[0]) if row else 0


def bench_polling(args: argparse.Namespace, env: dict[str, str], vultr_port: int) -> None:
    database_url = env["DATABASE_URL"]
    vultr = f"http://127.0.0.1:{vultr_port}"
    stack = Stack(env, ROOT / "var" / "bench" / "scheduled")
    try:
        rdp_port = free_port()  # nothing answers there: these machines are never probed
        limit = ("--rate-limit", str(VULTR_LIMIT))
        stack.emulator(
            "vultr", vultr_port, rdp_port, "--boot-seconds", "0", "--ip-prefix", "127.43", *limit
        )
        wait_http(f"{vultr}/_emulator/calls")
        started = time.perf_counter()
        machine_ids = order_machines(vultr, args.machines)
        record_instances(database_url, machine_ids)
        seeded_in = time.perf_counter() - started
        calls_before = httpx.get(f"{vultr}/_emulator/calls").json().get("bandwidth", 0)
        for i in range(args.workers):
            stack.worker(f"scans{i}", args.concurrency)
        wait_for_workers(args.workers)

        from app import create_app

        app = create_app()
        started = time.perf_counter()
        app.extensions["celery"].send_task("periodic.poll_usage")
        while (done := polled(database_url)) < args.machines:
            if time.perf_counter() - started > args.machines / 5:
                raise RuntimeError(f"only {done} of {args.machines} machines polled")
            time.sleep(1)
        elapsed = time.perf_counter() - started
        calls = httpx.get(f"{vultr}/_emulator/calls").json().get("bandwidth", 0) - calls_before
    finally:
        stack.stop()

    floor = args.machines / VULTR_LIMIT
    throttle = app.config["VULTR_RATE_LIMIT"]
    own_floor = args.machines / int(throttle.split("/")[0])
    print("== usage polling")
    print(f"machines at the emulator {args.machines} (ordered and recorded in {seeded_in:.0f} s)")
    workers = f"{args.workers} x {args.concurrency} threads"
    print(f"workers                  {workers}, batches of {args.batch}")
    print(f"bandwidth requests       {calls} (one per machine; more means retries)")
    interval = app.config["USAGE_POLL_INTERVAL"]
    print(f"round took               {elapsed:.0f} s (interval {interval:.0f} s)")
    print(f"round / floor at 30/s    {elapsed / floor:.2f}  (floor {floor:.0f} s = 1.0)")
    print(f"round / our throttle     {elapsed / own_floor:.2f}  ({throttle}: {own_floor:.0f} s)")
    print(f"round / interval         {elapsed / interval:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="machines for the idle scan")
    parser.add_argument("--users", type=int, default=20_000, help="their owners")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the scan")
    parser.add_argument("--machines", type=int, default=10_000, help="machines to poll")
    parser.add_argument("--batch", type=int, default=100, help="machines per polling task")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=8, help="threads per worker")
    parser.add_argument("--only", choices=("scan", "polling"), help="run one part")
    args = parser.parse_args()

    vultr_port = free_port()
    env = {
        **base_env(bench_database_url("scans")),
        "VULTR_API_URL": f"http://127.0.0.1:{vultr_port}/v2",
        "VULTR_API_KEY": "bench",
        "USAGE_POLL_BATCH": str(args.batch),
    }
    os.environ.update(env)  # before the app is first imported: it reads them then
    if args.only != "polling":
        bench_scan(args, env)
    if args.only != "scan":
        if args.only == "polling":
            reset_database(env)
        bench_polling(args, env, vultr_port)


if __name__ == "__main__":
    main()
