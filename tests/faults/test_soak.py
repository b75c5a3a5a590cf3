"""A short soak in the suite: a minute of mixed load with faults throughout, then the
invariants (`make soak` runs the same for SOAK_MINUTES, default 10)."""

from __future__ import annotations

import json

from tests.conftest import ARTIFACTS
from tests.faults.soak import Soak
from tests.faults.stack import Stack

SECONDS = 60


def test_a_minute_of_load_and_faults_breaks_no_invariant(stack: Stack) -> None:
    report = Soak(stack, SECONDS, customers=3, seed=7).run(settle_timeout=150)
    (ARTIFACTS / "soak-short.json").write_text(json.dumps(report, indent=2))
    assert report["violations"] == [], json.dumps(report, indent=2)
    counts = report["actions_and_faults"]
    assert counts.get("payment: 303", 0) >= 3, counts
    assert counts.get("faults: provider", 0) >= 5, counts
