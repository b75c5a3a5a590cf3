"""`make run` keeps its data in SQLite: the idle scan's date arithmetic and the usage
upsert must work there too. Run in a separate process on a database built by the
migrations, as `make run` builds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from datetime import date, timedelta
from types import SimpleNamespace

from app import create_app
from app.extensions import db
from app.models import Instance, InstanceUsage, Plan, User
from app.models.base import utcnow
from app.services import idle, usage

app = create_app()
with app.app_context():
    now = utcnow()
    plan = db.session.query(Plan).first()
    owner = User(email="o@example.com", password_hash="x", auto_shutdown=True, idle_minutes=30)
    db.session.add(owner)
    db.session.flush()

    def machine(**fields):
        row = Instance(user_id=owner.id, plan=plan, os_type="linux", region="us-east",
                       provider="vultr", provider_id="p", status="active", **fields)
        db.session.add(row)
        return row

    quiet = machine(last_heartbeat_at=now - timedelta(minutes=1),
                    last_accessed=now - timedelta(minutes=45))
    busy = machine(last_heartbeat_at=now - timedelta(minutes=1),
                   last_accessed=now - timedelta(minutes=20))
    stale = machine(traffic_seen_at=now - timedelta(minutes=31))
    db.session.commit()
    print("idle", idle.idle_instance_ids(now) == [quiet.id, stale.id])

    day = SimpleNamespace(day=date(2026, 1, 2), incoming_bytes=5, outgoing_bytes=7)
    usage.record({busy.id: [day]})
    usage.record({busy.id: [SimpleNamespace(day=day.day, incoming_bytes=6, outgoing_bytes=9)]})
    rows = [
        (r.instance_id, r.day.isoformat(), r.inbound_bytes, r.outbound_bytes)
        for r in db.session.query(InstanceUsage)
    ]
    print("rows", rows)
    print("total", round(db.session.get(Instance, busy.id).data_transfer_gb * 1e9))
"""


def test_the_idle_scan_and_the_usage_upsert_work_on_sqlite(tmp_path: Path) -> None:
    env = {
        "NEMORDP_ENV": "development",
        "NEMORDP_VAR_DIR": str(tmp_path),
        "FLASK_APP": "wsgi",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "PATH": "/usr/bin:/bin",
    }
    flask = [sys.executable, "-m", "flask"]
    for command in (["db", "upgrade"], ["catalog", "load"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert "idle True" in result.stdout, result.stdout
    assert "rows [(2, '2026-01-02', 6, 9)]" in result.stdout  # updated in place, not added
    assert "total 15" in result.stdout
