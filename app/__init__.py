"""The NemoRDP web application."""

from __future__ import annotations

from flask import Flask

from config import BaseConfig, config_for


def create_app(config_class: type[BaseConfig] | None = None) -> Flask:
    """Build the app: extensions, API, dashboard, Celery binding and CLI commands."""
    from app import models  # noqa: F401  (registers the tables with the metadata)
    from app.api import register_api
    from app.auth import init_auth
    from app.cache import init_cache
    from app.cli import register_cli
    from app.compression import init_compression
    from app.errors import register_error_handlers
    from app.extensions import csrf, db, login_manager, migrate
    from app.ids import IdConverter
    from app.logs import configure_logging
    from app.monitoring import init_monitoring
    from app.security.headers import init_security_headers
    from app.security.https import init_https
    from app.security.rate_limits import init_rate_limits
    from app.tasking import celery_init_app
    from app.timing import init_timing
    from app.web import register_web

    app = Flask(__name__)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.config.from_object(config_class or config_for())
    configure_logging(app)
    init_timing(app)  # first: its clock spans every other hook
    init_monitoring(app)  # request metrics, /metrics, error tracking
    init_https(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    init_auth(app)
    init_rate_limits(app)
    init_security_headers(app)
    init_compression(app)
    init_cache(app)
    register_error_handlers(app)
    register_api(app)
    register_web(app)
    celery_init_app(app)
    register_cli(app)
    return app
