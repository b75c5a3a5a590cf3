"""An upgrade as operators run it: a database made at the first migration and holding data
is migrated to the newest revision, back down to the one before, and up again, then down
to the first and up again; nothing it held is lost at any step."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ScriptDirectory(str(ROOT / "migrations"))
HEAD = SCRIPTS.get_current_head()
assert HEAD is not None
PREVIOUS = SCRIPTS.get_revision(HEAD).down_revision  # type: ignore[union-attr]

# Rows as the first schema (0001) held them, written as plain SQL against that schema.
SEED = """
INSERT INTO plans (code, name, price_cents, currency, vcpu, ram_mb, disk_gb, bandwidth_gb,
                   gpu, rank, offers, active, stripe_product_id, stripe_price_id)
VALUES ('basic', 'Basic', 2900, 'usd', 2, 4096, 80, 3000, NULL, 1,
        '{"vultr": {"plan": "vc2-2c-4gb", "regions": {"us-east": "ewr"}}}', true,
        'prod_basic', 'price_basic');
INSERT INTO users (email, full_name, password_hash, role, is_active_account, session_epoch,
                   password_changed_at, stripe_customer_id, email_notifications,
                   auto_shutdown, idle_minutes, default_os, created_at)
VALUES ('ada@example.com', 'Ada', 'hash-ada', 'customer', true, 3, now(), 'cus_ada', true,
        true, 60, 'windows', now() - interval '30 days'),
       ('bob@example.com', 'Bob', 'hash-bob', 'admin', true, 0, NULL, NULL, false,
        false, 120, 'linux', now() - interval '20 days');
INSERT INTO api_tokens (user_id, name, token_hash, prefix, last_used_at, revoked_at,
                        created_at)
VALUES (1, 'ci', repeat('a', 64), 'nrdp_aaaa', now(), NULL, now());
INSERT INTO audit_events (user_id, action, ip_address, request_id, details, created_at)
VALUES (1, 'auth.login', '192.0.2.1', 'req-1', '{"remember": true}', now()),
       (NULL, 'orphan.destroyed', NULL, NULL, '{"provider_id": "v-9"}', now());
INSERT INTO instances (user_id, plan_id, os_type, region, provider, provider_id, status,
                       ip_address, ipv6_address, username, password_encrypted, last_accessed,
                       data_transfer_gb, stripe_subscription_id, status_reason,
                       terminated_at, created_at)
VALUES (1, 1, 'windows', 'us-east', 'vultr', 'v-1', 'active', '203.0.113.1', NULL,
        'Administrator', 'sealed-1', now(), 12.5, 'sub_1', NULL, NULL,
        now() - interval '10 days'),
       (1, 1, 'linux', 'us-east', 'contabo', 'c-2', 'stopped', '203.0.113.2', '2001:db8::2',
        'admin', 'sealed-2', NULL, 0, 'sub_2', NULL, NULL, now() - interval '9 days'),
       (2, 1, 'windows', 'us-east', 'vultr', NULL, 'terminated', NULL, NULL, NULL, NULL,
        NULL, 3.25, 'sub_3', 'terminated by its owner', now(), now() - interval '8 days');
INSERT INTO jobs (kind, user_id, instance_id, state, attempts, error, celery_task_id,
                  from_status, step, context, started_at, finished_at, deadline_at,
                  updated_at, created_at)
VALUES ('provision', 1, 1, 'succeeded', 1, NULL, 'task-1', NULL, NULL, '{}', now(), now(),
        NULL, now(), now()),
       ('provision', 2, 3, 'succeeded', 2, NULL, 'task-2', NULL, NULL, '{}', now(), now(),
        NULL, now(), now()),
       ('restart', 1, 1, 'failed', 3, 'provider unreachable', 'task-3', 'active', 'reboot',
        '{"resends": 1}', now(), now(), now(), now(), now());
"""

# What must survive every step: each table's rows, by the columns 0001 gave them.
KEPT = {
    "plans": "id, code, name, price_cents, currency, offers::text, stripe_price_id",
    "users": "id, email, full_name, password_hash, role, is_active_account, password_changed_at, "
    "stripe_customer_id, email_notifications, auto_shutdown, idle_minutes, default_os, "
    "created_at",
    "api_tokens": "id, user_id, name, token_hash, prefix, revoked_at",
    "audit_events": "id, user_id, action, ip_address, details::text, created_at",
    "instances": "id, user_id, plan_id, os_type, region, provider, provider_id, status, "
    "ip_address, ipv6_address, username, password_encrypted, last_accessed, data_transfer_gb, "
    "stripe_subscription_id, status_reason, terminated_at, created_at",
    "jobs": "id, kind, user_id, instance_id, state, attempts, error, celery_task_id, "
    "from_status, step, context::text, deadline_at",
}


@pytest.fixture()
def upgrade_db(app: Flask) -> Iterator[str]:
    """An empty database of its own on the test server; its SQLAlchemy URL."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    url = url.set(database=f"{url.database}_upgrade")
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}"')
        conn.execute(f'CREATE DATABASE "{url.database}"')
    yield url.render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def _migrate(database_url: str, command: str, revision: str) -> None:
    """``flask db upgrade|downgrade <revision>``, as an operator runs it."""
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "wsgi"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "db", command, revision],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"flask db {command} {revision} failed:\n{done.stderr}"


def _libpq(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def _held(database_url: str) -> tuple[str, dict[str, list[tuple[Any, ...]]]]:
    """The revision and every kept table's rows."""
    with psycopg.connect(_libpq(database_url)) as conn:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        rows = {
            table: conn.execute(f"SELECT {columns} FROM {table} ORDER BY id").fetchall()
            for table, columns in KEPT.items()
        }
    assert revision is not None
    return revision[0], rows


def test_data_survives_upgrade_downgrade_and_upgrade_again(upgrade_db: str) -> None:
    _migrate(upgrade_db, "upgrade", "0001")
    with psycopg.connect(_libpq(upgrade_db)) as conn:
        conn.execute(SEED)  # type: ignore[arg-type]
    revision, seeded = _held(upgrade_db)
    assert revision == "0001"
    assert {table: len(rows) for table, rows in seeded.items()} == {
        "plans": 1,
        "users": 2,
        "api_tokens": 1,
        "audit_events": 2,
        "instances": 3,
        "jobs": 3,
    }

    for command, target in (
        ("upgrade", HEAD),
        ("downgrade", PREVIOUS),
        ("upgrade", HEAD),
        ("downgrade", "0001"),
        ("upgrade", HEAD),
    ):
        _migrate(upgrade_db, command, target)
        revision, held = _held(upgrade_db)
        assert revision == target
        assert held == seeded, f"rows changed by {command} to {target}"

    with psycopg.connect(_libpq(upgrade_db)) as conn:
        # Later columns got their values from the data (0007: machines once delivered) ...
        delivered = conn.execute(
            "SELECT id FROM instances WHERE delivered_at IS NOT NULL ORDER BY id"
        ).fetchall()
        assert delivered == [(1,), (2,), (3,)]
        # ... and the id sequences still follow the rows.
        added = conn.execute(
            "INSERT INTO users (email, full_name, password_hash, role, is_active_account, "
            "email_notifications, auto_shutdown, idle_minutes, default_os, created_at) "
            "VALUES ('cy@example.com', 'Cy', 'hash-cy', 'customer', true, true, false, 60, "
            "'windows', now()) RETURNING id"
        ).fetchone()
        assert added == (3,)
