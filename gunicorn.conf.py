"""gunicorn settings shared by every deployment: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Bind address, worker count and logs come from the command line (see the Procfile). The
hooks here keep Prometheus' multiprocess files right: each web worker writes its own under
``PROMETHEUS_MULTIPROC_DIR``, and a dead worker's live gauges are removed when it exits, so
``/metrics`` adds up only the processes that serve requests now.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import multiprocess


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
