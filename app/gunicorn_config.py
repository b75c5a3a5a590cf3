"""gunicorn settings shared by every deployment: ``nemordp web`` loads them
(``gunicorn -c python:app.gunicorn_config``), and so does ``gunicorn -c gunicorn.conf.py`` in
a checkout.

The worker model is the one `make bench-api` recommends (BENCHMARKS.md): gthread, one
process a core of the 2-core host it was measured on, 8 threads each for the waits on
PostgreSQL and Redis; the command line (the systemd unit's ``WEB_WORKERS``/``WEB_THREADS``,
the stack launcher) may change the counts. The bind address and where logs go come from the
command line; the access log's format is set here. The hooks keep Prometheus' multiprocess
files right: each web worker writes its own under ``PROMETHEUS_MULTIPROC_DIR``, and a dead
worker's live gauges are removed when it exits, so ``/metrics`` adds up only the processes
that serve requests now.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import multiprocess

worker_class = "gthread"
workers = 2
threads = 8

# The default format with the request line's query string and the Referer left out: the
# links we e-mail carry a single-use token in their query (?token=), and the page they open
# fetches its assets with that whole URL as Referer.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
