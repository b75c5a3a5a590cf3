"""`make run`: the whole platform on this machine with embedded defaults. SQLite under
var/, Redis (the one at 127.0.0.1:6379 if it answers, else a private one on 6390), the web
app, a worker on every queue, beat, Flower, the console gateway, an SMTP sink printing every
outgoing e-mail, every provider emulator and the local Stripe, their output here, each line
after its name. Ctrl-C (or SIGTERM) stops everything.

Every setting below is a default: one already in the environment wins."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from devtools.stack.group import Group
from devtools.stack.ports import port_open
from devtools.stack.processes import ROOT
from devtools.stack.services import Redis
from devtools.stack.stand_ins import emulated, emulator_port, emulator_settings

VAR = ROOT / "var"


def _defaults() -> dict[str, str]:
    env = os.environ
    web = f"http://127.0.0.1:{env.get('WEB_PORT', '8000')}"
    emulators = {name: f"http://127.0.0.1:{emulator_port(name)}" for name in emulated()}
    return {
        "NEMORDP_ENV": "development",
        "WEB_PORT": "8000",
        "FLOWER_PORT": "5555",
        "CONSOLE_PORT": "8765",
        # The browser reaches the console gateway on its own port (nginx joins them in
        # production).
        "CONSOLE_URL": f"ws://127.0.0.1:{env.get('CONSOLE_PORT', '8765')}",
        "MAIL_PORT": "1025",
        "PUBLIC_BASE_URL": web,
        "EMULATOR_BOOT_SECONDS": "20",
        "RDP_PORT": "3389",
        # The provider clients talk to the local emulators; nothing else knows they are.
        **emulator_settings(emulators, int(env.get("RDP_PORT", "3389"))),
        "STATUS_CHECK_INTERVAL": "2",
        "FIRST_CHECK_DELAY": "15",
        # Traffic is read every minute (not every 15), so a usage chart fills quickly.
        "USAGE_POLL_INTERVAL": "60",
        # Billing runs against the local Stripe, which delivers signed webhooks to us.
        "STRIPE_PORT": "8420",
        "STRIPE_API_BASE": f"http://127.0.0.1:{env.get('STRIPE_PORT', '8420')}",
        "STRIPE_SECRET_KEY": "sk_test_local",
        # Web and worker processes write their metrics here; /metrics adds them up.
        "PROMETHEUS_MULTIPROC_DIR": str(VAR / "run" / "prometheus"),
    }


def _banner(env: dict[str, str]) -> str:
    web, flower = env["PUBLIC_BASE_URL"], f"http://127.0.0.1:{env['FLOWER_PORT']}"
    emulators = ", ".join(
        f"{name} http://127.0.0.1:{emulator_port(name, env)}" for name in emulated()
    )
    return f"""
NemoRDP is running:
  dashboard and API  {web}/   (API under /api, spec at /api/openapi.json)
  health             {web}/api/health
  metrics            {web}/metrics
  Flower (queues)    {flower}/
  console gateway    {env["CONSOLE_URL"]}
  provider emulators {emulators}
  local Stripe       {env["STRIPE_API_BASE"]} (payment pages: pay with the Visa test card)
  outgoing e-mail    printed by the "mail" process
  Redis              {env["REDIS_URL"]}
Press Ctrl-C to stop everything.
"""


def run(*, standby_beat: bool = False) -> int:
    """Bring everything up and keep it up until Ctrl-C or SIGTERM, or until a process
    ends by itself (then everything stops and the exit status is 1)."""
    for name, value in _defaults().items():
        os.environ.setdefault(name, value)
    # The webhook secret is this machine's own, made once under var/ by the settings.
    from config import config_for

    os.environ.setdefault("STRIPE_WEBHOOK_SECRET", config_for().STRIPE_WEBHOOK_SECRET)
    metrics = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(metrics, ignore_errors=True)  # emptied at each start, as required
    metrics.mkdir(parents=True)

    from devtools.stack import schema
    from devtools.stack.platform import Beat, ConsoleGateway, Flower, Web, Worker
    from devtools.stack.stand_ins import LocalStripe, MailSink, local_emulators, webhook_endpoint

    with Group() as group:
        if "REDIS_URL" not in os.environ:
            if port_open(6379):
                os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/0"
            else:
                redis = group.add(Redis(VAR / "redis", 6390))
                redis.start()
                os.environ["REDIS_URL"] = redis.url
        env = dict(os.environ)
        schema.prepare(env, sync_stripe=False)
        boot = ("--boot-seconds", env["EMULATOR_BOOT_SECONDS"])
        for emulator in local_emulators(int(env["RDP_PORT"]), *boot, env=env):
            group.add(emulator).start()
        group.add(MailSink(int(env["MAIL_PORT"]), env)).start()
        web = group.add(Web(int(env["WEB_PORT"]), env, options=("--access-logfile", "-")))
        web.start()
        webhook = webhook_endpoint(web.url, env["STRIPE_WEBHOOK_SECRET"])
        stripe = LocalStripe(int(env["STRIPE_PORT"]), webhook, state_dir=VAR / "stripe")
        group.add(stripe).start()
        # Products and prices must exist at Stripe before anything can be ordered.
        schema.sync_stripe_catalog(env)
        group.add(Worker(env, name="worker@%h")).start()
        for _ in range(2 if standby_beat else 1):
            group.add(Beat(env)).start()
        group.add(Flower(int(env["FLOWER_PORT"]), env)).start()
        group.add(ConsoleGateway(int(env["CONSOLE_PORT"]), env)).start()
        print(_banner(env), flush=True)
        while not (exited := group.exited()):
            time.sleep(0.5)
        print(f"{', '.join(p.label for p in exited)} ended; stopping everything", flush=True)
        return 1
