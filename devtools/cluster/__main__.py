"""``make cluster``: the platform on hosts in network namespaces, rehearsed under faults.

    python -m devtools.cluster                  # the full form: 300 orders
    python -m devtools.cluster --short          # the test suite's form
    python -m devtools.cluster --orders 100     # the full faults, fewer orders
    python -m devtools.cluster cleanup          # remove what an interrupted run left

Runs as root (namespaces, links, nftables). Exit status 1 if an invariant does not hold.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

from devtools.cluster import netns
from devtools.cluster.scenario import FULL, SHORT, rehearse

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", nargs="?", choices=["rehearse", "cleanup"], default="rehearse")
    parser.add_argument("--short", action="store_true", help="few orders, shorter faults")
    parser.add_argument("--orders", type=int, help="orders paid during the faults")
    parser.add_argument("--no-throughput", action="store_true", help="skip the 1/2/3 hosts runs")
    parser.add_argument("--logs", type=Path, default=ROOT / "test-artifacts" / "cluster")
    parser.add_argument("--report", type=Path, default=ROOT / "test-artifacts" / "cluster.json")
    args = parser.parse_args(argv)
    if args.action == "cleanup":
        netns.cleanup()
        return 0
    form = SHORT if args.short else FULL
    if args.orders:
        form = dataclasses.replace(form, orders=args.orders)
    directory = Path(tempfile.mkdtemp(prefix="nemordp-cluster-"))
    report = rehearse(form, args.logs, directory, throughput=not args.no_throughput)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    if report["violations"]:
        print(f"cluster: {len(report['violations'])} invariant(s) broken", file=sys.stderr)
        return 1
    print("cluster: every invariant holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
