"""The one launcher of the stack: how each piece starts, waits until it serves, and stops
(also on Ctrl-C and SIGTERM). `make run`, `make test`, the test fixtures, the fault tests,
the soak and the benchmarks all start their processes through it.

- `devtools.stack.services`: PostgreSQL (a private cluster) and Redis (a private server),
  or the shared ones when they answer;
- `devtools.stack.platform`: the web app (gunicorn), Celery workers by queue, beat (and a
  standby) and Flower;
- `devtools.stack.stand_ins`: the provider emulators, the local Stripe, an SMTP sink, and
  the settings that point the platform at them;
- `devtools.stack.schema`: migrations, the catalogue and its prices at Stripe;
- `devtools.stack.processes` and `devtools.stack.group`: a process in its own process group
  (optionally supervised), and pieces stopped together;
- `devtools.stack.run`: `make run` (``python -m devtools.stack run``).
"""
