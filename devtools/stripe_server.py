"""A local, stateful Stripe for ``make run`` and the tests: localstripe plus a small
compatibility layer, on one aiohttp server.

    python -m devtools.stripe_server --port 8420 [--state-dir var/stripe] [--from-scratch] \\
        [--in-memory] [--webhook http://127.0.0.1:8000/api/stripe/webhook=whsec_local ...]

Point the official library at it: ``stripe.StripeClient("sk_test_local",
base_addresses={"api": "http://127.0.0.1:8420"})`` or ``stripe.api_base = ...`` (any
``sk_...`` key is accepted). Tests start it in-process with `serve_in_thread`.

It serves localstripe's own routes and handlers unchanged, with these differences from
localstripe's CLI:
- it listens on 127.0.0.1 only (localstripe binds every interface);
- its state is pickled to ``<state-dir>/localstripe.pickle``, replaced atomically on each
  write, instead of the fixed ``/tmp/localstripe.pickle``; ``--from-scratch`` starts empty;
  ``--in-memory`` starts empty and saves nothing (localstripe rewrites the whole file at
  every object it stores, which paces a benchmark's thousand orders);
- the webhook endpoints given with ``--webhook URL=SECRET`` are registered at every start
  (localstripe keeps registrations in memory only); ``POST /_config/webhooks/<id>`` still
  adds more until the next restart;
- the compatibility layer answers first: Prices, subscription fixes, invoice fixes and
  idempotency keys (`devtools.stripe_compat`), Checkout Sessions and their payment page
  (`devtools.stripe_checkout`), invoices' hosted page and PDF
  (`devtools.stripe_invoice_pages`). All exist only because localstripe lacks those APIs.

localstripe keeps its data and webhooks in module globals, so one process runs one server.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import pickle
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from localstripe import webhooks as upstream_webhooks
from localstripe.resources import Store, store

from devtools import stripe_checkout, stripe_compat, stripe_invoice_pages
from devtools.stripe_compat import upstream  # localstripe.server, imported once, quietly

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
STATE_FILE = "localstripe.pickle"


# --- State: localstripe's store, kept under the state directory --------------------------

_state_path: Path | None = None


def _dump_store(self: Any) -> None:
    """Replaces `Store.dump_to_disk`: same pickle, our path, never a half-written file."""
    if _state_path is None:
        raise RuntimeError("the local Stripe has no state directory: call use_state_dir first")
    partial = _state_path.with_name(_state_path.name + ".partial")
    with partial.open("wb") as file:
        pickle.dump(dict(self), file, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, _state_path)


def _load_refused(self: Any) -> None:
    raise RuntimeError("the local Stripe loads its state through use_state_dir")


def use_state_dir(state_dir: str | os.PathLike[str], *, from_scratch: bool = False) -> Path:
    """Point localstripe's store at ``state_dir`` and load what is saved there (unless
    ``from_scratch``). Returns the state file."""
    global _state_path
    path = Path(state_dir).resolve() / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    Store.dump_to_disk = _dump_store
    Store.try_load_from_disk = _load_refused
    _state_path = path
    store.clear()
    if not from_scratch and path.exists():
        try:
            with path.open("rb") as file:
                store.update(pickle.load(file))
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise RuntimeError(f"cannot read {path} ({exc}); start with --from-scratch") from exc
    store.dump_to_disk()
    logger.info("local Stripe state in %s (%d objects)", path, len(store))
    return path


def use_memory_only() -> None:
    """Start localstripe's store empty and never save it (``--in-memory``)."""
    Store.dump_to_disk = _keep_in_memory
    Store.try_load_from_disk = _load_refused
    store.clear()
    logger.info("local Stripe state in memory only")


def _keep_in_memory(self: Any) -> None:
    """Replaces `Store.dump_to_disk` under ``use_memory_only``: nothing is saved."""


# --- Webhooks ----------------------------------------------------------------------------


def register_webhooks(webhooks: Mapping[str, str]) -> None:
    """Replace localstripe's registrations with ``url -> signing secret``; every event type."""
    upstream_webhooks._webhooks.clear()
    for number, (url, secret) in enumerate(webhooks.items()):
        upstream_webhooks.register_webhook(f"launcher-{number}", url, secret, None)
        logger.info("webhook endpoint %s registered", url)


def parse_webhook(value: str) -> tuple[str, str]:
    """``URL=SECRET`` from the command line; the secret is what follows the last ``=``."""
    url, _, secret = value.rpartition("=")
    if not url.startswith(("http://", "https://")) or not secret:
        raise argparse.ArgumentTypeError(f"expected URL=SECRET, got {value!r}")
    return url, secret


# --- The app -----------------------------------------------------------------------------


@web.middleware
async def _auth_except_pages(
    request: web.Request, handler: stripe_compat.Handler
) -> web.StreamResponse:
    """localstripe's API-key check, except on the pages and documents a browser opens."""
    if request.path.startswith((stripe_checkout.PAGE_PREFIX, stripe_invoice_pages.DOCUMENT_PREFIX)):
        return await handler(request)
    response: web.StreamResponse = await upstream.auth_middleware(request, handler)
    return response


def create_app() -> web.Application:
    """localstripe's routes behind the compatibility layer's, with localstripe's middlewares."""
    stripe_compat.install_patches()
    stripe_invoice_pages.install_patches()
    app = web.Application(
        middlewares=[
            upstream.error_middleware,
            _auth_except_pages,
            stripe_compat.idempotency_middleware(),
            upstream.save_store_middleware,
        ]
    )
    app.on_response_prepare.append(upstream.add_cors_headers)
    # The first route that matches wins, so the compatibility layer's go first.
    own_routes = [*stripe_compat.ROUTES, *stripe_checkout.ROUTES, *stripe_invoice_pages.ROUTES]
    for method, path, handler in own_routes:
        app.router.add_route(method, path, handler)
    for resource in upstream.app.router.resources():
        for route in resource:
            app.router.add_route(route.method, resource.canonical, _coroutine(route.handler))
    return app


def _coroutine(handler: Any) -> stripe_compat.Handler:
    """localstripe's GET and DELETE handlers are plain functions, which aiohttp deprecates."""
    if asyncio.iscoroutinefunction(handler):
        return handler

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        response: web.StreamResponse = handler(request)
        return response

    return wrapper


# --- Running it --------------------------------------------------------------------------

_running: StripeServer | None = None


class StripeServer:
    """A local Stripe serving on 127.0.0.1 from a thread of this process (for tests)."""

    def __init__(self, app: web.Application, port: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(app, access_log=None)
        self._thread = threading.Thread(target=self._loop.run_forever, name="stripe", daemon=True)
        self._thread.start()
        self.port: int = self._call(self._start(port))
        self.url = f"http://{HOST}:{self.port}"
        stripe_invoice_pages.set_public_url(self.url)

    async def _start(self, port: int) -> int:
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, port).start()
        return int(self._runner.addresses[0][1])

    async def _stop(self) -> None:
        await self._runner.cleanup()
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:  # webhook deliveries still waiting for their turn
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def stop(self) -> None:
        global _running
        try:
            self._call(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
            _running = None


def serve_in_thread(
    port: int = 0,
    state_dir: str | os.PathLike[str] = "var/stripe",
    webhooks: Mapping[str, str] | None = None,
    *,
    from_scratch: bool = False,
) -> StripeServer:
    """Start the local Stripe in a thread; ``port=0`` picks a free port (see ``.url``).
    ``webhooks`` maps endpoint URL to signing secret. Call ``.stop()`` when done."""
    global _running
    if _running is not None:
        raise RuntimeError(f"a local Stripe already runs in this process at {_running.url}")
    use_state_dir(state_dir, from_scratch=from_scratch)
    register_webhooks(webhooks or {})
    _running = StripeServer(create_app(), port)
    return _running


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.stripe_server",
        description="A local, stateful Stripe (localstripe plus Prices and Checkout).",
    )
    parser.add_argument("--host", default=HOST, help="the address to serve on")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-dir", default="var/stripe", help="where the state is saved")
    parser.add_argument("--from-scratch", action="store_true", help="discard the saved state")
    parser.add_argument(
        "--in-memory", action="store_true", help="start empty, save nothing (for benchmarks)"
    )
    parser.add_argument(
        "--webhook",
        type=parse_webhook,
        action="append",
        default=[],
        metavar="URL=SECRET",
        help="a webhook endpoint and its signing secret (repeatable)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.in_memory:
        use_memory_only()
    else:
        use_state_dir(args.state_dir, from_scratch=args.from_scratch)
    register_webhooks(dict(args.webhook))
    stripe_invoice_pages.set_public_url(f"http://{args.host}:{args.port}")
    web.run_app(
        create_app(),
        host=args.host,
        port=args.port,
        access_log=logging.getLogger("aiohttp.access"),
        print=lambda _: logger.info("local Stripe listening on http://%s:%d", args.host, args.port),
    )


if __name__ == "__main__":
    main()
