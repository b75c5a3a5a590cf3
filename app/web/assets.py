"""The dashboard's built assets: bundles named by their content, cached by browsers for good.

``devtools/build_assets.py`` (run by ``make install``) writes them to ``static/build`` with a
manifest naming each page group's file and the modules it imports at once. Pages ask for
them through ``asset_url`` and ``module_urls``; ``/static/build/<file>`` serves only the
files the manifest lists, as immutable (a changed source gets a new name), and the copy the
build compressed (``<file>.br``, ``<file>.gz``) to a browser that takes it, so no request
spends time compressing one.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, request, send_file, url_for

from app.security.rate_limits import limiter

BUILD_DIR = Path(__file__).resolve().parent.parent / "static" / "build"
MANIFEST = BUILD_DIR / "manifest.json"
ONE_YEAR = 365 * 24 * 3600
# The encodings the build wrote a copy in, by the suffix of that copy.
PRECOMPRESSED = {"br": ".br", "gzip": ".gz"}

bp = Blueprint("assets", __name__)


class AssetsNotBuilt(RuntimeError):
    """The build is missing: the pages would name files that are not there."""


@dataclass(frozen=True)
class Entry:
    file: str
    imports: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    entries: dict[str, Entry]
    files: frozenset[str]


@lru_cache(maxsize=1)
def _read(mtime_ns: int) -> Manifest:
    """The manifest as of ``mtime_ns`` (the cache's key: a new build is read once)."""
    data = json.loads(MANIFEST.read_text())
    return Manifest(
        entries={
            name: Entry(file=entry["file"], imports=tuple(entry["imports"]))
            for name, entry in data["entries"].items()
        },
        files=frozenset(data["files"]),
    )


def manifest() -> Manifest:
    """The current build's manifest, read again only after a new build replaced it."""
    try:
        mtime_ns = MANIFEST.stat().st_mtime_ns
    except FileNotFoundError:
        raise AssetsNotBuilt(
            f"{MANIFEST} is missing: the dashboard's assets are built by `make install` "
            "(python -m devtools.build_assets)"
        ) from None
    return _read(mtime_ns)


def _url(file: str) -> str:
    return url_for("assets.built", filename=file)


def asset_url(name: str) -> str:
    """The address of the built file of ``name``: a page group, the stylesheet or an image."""
    return _url(manifest().entries[name].file)


def module_urls(*names: str) -> list[str]:
    """The page groups' modules and every module they import at once, shared ones once:
    what a page preloads so that none waits for another."""
    entries = manifest().entries
    files: dict[str, None] = {}
    for name in names:
        files.update(dict.fromkeys((entries[name].file, *entries[name].imports)))
    return [_url(file) for file in files]


@bp.get("/static/build/<path:filename>")
@limiter.exempt
def built(filename: str) -> Response:
    """A built file: its name changes with its content, so it never needs asking for again."""
    if filename not in manifest().files:
        abort(404)
    encoding = request.accept_encodings.best_match(PRECOMPRESSED)
    path = BUILD_DIR / (filename + PRECOMPRESSED[encoding] if encoding else filename)
    response = send_file(path, mimetype=mimetypes.guess_type(filename)[0], max_age=ONE_YEAR)
    if encoding:
        response.content_encoding = encoding
    response.vary.add("Accept-Encoding")
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
