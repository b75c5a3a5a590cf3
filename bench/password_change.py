"""Password change and sign-in under the local stack: what the argon2id cost means to a
customer.

Starts gunicorn with production settings on PostgreSQL and Redis (no Celery worker: the
security notice is queued, not sent), signs one customer up, then changes its password
``--runs`` times (each checks the current password and hashes the new one) and signs in as
many times (one check), one request at a time. Prints p50/p95 as the client saw them and the
app's own time (Server-Timing), next to one hash and one check in this process at the
parameters in use (`app.security.passwords.PARAMETERS`) and at argon2-cffi's defaults, which
hashed every password before.

    make bench-passwords      # or: .venv/bin/python bench/password_change.py --help
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api_load import production_env  # noqa: E402
from bench.stack import (  # noqa: E402
    ONE_ADDRESS_LIMITS,
    Stack,
    bench_database_url,
    free_port,
    machine_load,
    percentile,
    reset_database,
    wait_http,
)

LIMIT_MS = 1000.0  # a password change should answer well within a second
APP_TIME = re.compile(r"app;dur=([\d.]+)")
EMAIL = "passwords@example.com"
SESSION_COOKIE = "nemordp_session"


def hashing_costs(repeat: int) -> dict[str, tuple[float, float]]:
    """Median ms of one hash and one check, at our parameters and at argon2-cffi's
    defaults."""
    import argon2

    from app.security.passwords import PARAMETERS

    costs = {}
    for name, parameters in (
        ("in use", PARAMETERS),
        ("argon2-cffi defaults", argon2.profiles.RFC_9106_LOW_MEMORY),
    ):
        hasher = argon2.PasswordHasher.from_parameters(parameters)
        hashes, checks = [], []
        for _ in range(repeat):
            began = time.perf_counter()
            made = hasher.hash("a password of some length")
            hashes.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            hasher.verify(made, "a password of some length")
            checks.append((time.perf_counter() - began) * 1000)
        label = (
            f"{name} (m={parameters.memory_cost} KiB, t={parameters.time_cost},"
            f" p={parameters.parallelism})"
        )
        costs[label] = (statistics.median(hashes), statistics.median(checks))
    return costs


def timed(http: httpx.Client, request: httpx.Request, expect: int) -> tuple[float, float]:
    """(client ms, app ms) of one request."""
    began = time.perf_counter()
    response = http.send(request)
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == expect, response.text
    app_time = APP_TIME.search(response.headers.get("Server-Timing", ""))
    return elapsed, float(app_time[1]) if app_time else 0.0


def measure(base: str, runs: int) -> dict[str, list[tuple[float, float]]]:
    """Password changes, then sign-ins, of one customer, one at a time."""
    passwords = ["bench-password-1", "bench-password-2"]
    # As a browser behind the TLS proxy: HTTPS, a same-origin Referer (the CSRF check wants
    # it), and the session cookie, marked Secure, sent by hand.
    origin = base.replace("http://", "https://")
    headers = {"X-Forwarded-Proto": "https", "Referer": f"{origin}/app/settings/security"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        signup = http.post("/api/auth/signup", json={"email": EMAIL, "password": passwords[0]})
        signup.raise_for_status()
        csrf = signup.json()["csrf_token"]
        cookie = signup.cookies[SESSION_COOKIE]
        changes = []
        for n in range(runs):
            body = {"current_password": passwords[n % 2], "new_password": passwords[(n + 1) % 2]}
            sent = {"X-CSRF-Token": csrf, "Cookie": f"{SESSION_COOKIE}={cookie}"}
            change = http.build_request("POST", "/api/account/password", json=body, headers=sent)
            changes.append(timed(http, change, 204))
            # The browser carries on under a new login: a new session cookie, the same token.
            cookie = http.cookies.get(SESSION_COOKIE) or cookie
        login = {"email": EMAIL, "password": passwords[runs % 2]}
        sign_ins = [
            timed(http, http.build_request("POST", "/api/auth/login", json=login), 200)
            for _ in range(runs)
        ]
    return {"password change": changes, "sign-in": sign_ins}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="changes, and as many sign-ins")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--web-threads", type=int, default=8, help="threads per worker")
    args = parser.parse_args()

    env = {**production_env(bench_database_url("passwords")), **ONE_ADDRESS_LIMITS}
    os.environ.update(env)
    reset_database(env)
    logging.getLogger().setLevel(logging.ERROR)  # the app's logging set it to INFO
    print(f"machine: {machine_load()} at the start")
    for label, (hash_ms, check_ms) in hashing_costs(max(5, args.runs // 2)).items():
        print(f"argon2id {label}: hash {hash_ms:.1f} ms, check {check_ms:.1f} ms (median)")

    port = free_port()
    stack = Stack(env, ROOT / "var" / "bench" / "passwords")
    try:
        stack.web(port, args.web_workers, args.web_threads)
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/support/faq")
        results = measure(base, args.runs)
    finally:
        stack.stop()

    print(f"gunicorn {args.web_workers} workers x {args.web_threads} threads, {args.runs} each")
    print(f"{'request':<17}{'p50':>8}{'p95':>8}{'max':>8}{'app50':>8}{'p95/1s':>8}")
    for name, timings in results.items():
        ms = [client for client, _ in timings]
        p95 = percentile(ms, 95)
        print(
            f"{name:<17}{percentile(ms, 50):>8.1f}{p95:>8.1f}{max(ms):>8.1f}"
            f"{statistics.median(app for _, app in timings):>8.1f}{p95 / LIMIT_MS:>8.2f}"
        )
    print(f"machine: {machine_load()} at the end of the run")


if __name__ == "__main__":
    main()
