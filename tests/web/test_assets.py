"""The dashboard's built assets: one bundle per page group named by its content, pages that
name nothing else, files served as immutable, and a build that matches the sources."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import brotli
import pytest
from flask.testing import FlaskClient

from app.web import assets
from devtools import build_assets

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
HASHED = re.compile(r"^[a-z]+-[A-Z0-9]{8}\.(js|css|svg)$")
IMMUTABLE = "public, max-age=31536000, immutable"
PAGES = ["/app", "/app/instances/3", "/app/admin", "/app/admin/customers/3", "/login", "/help"]


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    if not assets.MANIFEST.exists():
        pytest.fail(f"{assets.MANIFEST} is missing: build it with `make install`")
    built: dict[str, Any] = json.loads(assets.MANIFEST.read_text())
    return built


def _named(client: FlaskClient, path: str) -> list[str]:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200, path
    html = response.get_data(as_text=True)
    return re.findall(
        r'<(?:script|link|img|meta)[^>]*?(?:src|href|content)="(/static/[^"]+)"', html
    )


def test_every_built_file_is_named_by_its_content(manifest: dict[str, Any]) -> None:
    assert set(manifest["entries"]) == {"app", "admin", "style", "logo", "favicon"}
    assert manifest["files"] and all(HASHED.match(name) for name in manifest["files"])
    for entry in manifest["entries"].values():
        assert {entry["file"], *entry["imports"]} <= set(manifest["files"])
        assert (assets.BUILD_DIR / entry["file"]).is_file()


def test_the_build_is_up_to_date_with_the_sources() -> None:
    assert build_assets.stale_files() == [], "app/static/build is stale: run make install"


def test_a_changed_source_renames_only_the_bundle_it_is_in(tmp_path: Path) -> None:
    sources = tmp_path / "static"
    shutil.copytree(build_assets.STATIC, sources, ignore=shutil.ignore_patterns("build"))
    before = build_assets.build_into(_empty(tmp_path / "before"), sources)
    app_js = sources / "js" / "app.js"
    app_js.write_text(app_js.read_text().replace("NemoRDP is unavailable", "NemoRDP is away"))
    after = build_assets.build_into(_empty(tmp_path / "after"), sources)

    def file(manifest: dict[str, Any], name: str) -> str:
        return str(manifest["entries"][name]["file"])

    assert file(after, "app") != file(before, "app")
    assert file(after, "admin") == file(before, "admin")
    assert file(after, "style") == file(before, "style")
    assert after["entries"]["app"]["imports"] == before["entries"]["app"]["imports"]


def _empty(directory: Path) -> Path:
    directory.mkdir()
    return directory


@pytest.mark.parametrize("path", PAGES)
def test_pages_name_only_built_files(
    client: FlaskClient, manifest: dict[str, Any], path: str
) -> None:
    named = _named(client, path)
    assert len(named) >= 3, path  # the icon, the stylesheet, the logo or the modules
    assert all(url.startswith("/static/build/") for url in named), named
    assert {url.removeprefix("/static/build/") for url in named} <= set(manifest["files"])


def test_the_console_bundle_is_preloaded_on_console_pages_only(
    client: FlaskClient, manifest: dict[str, Any]
) -> None:
    console = f"/static/build/{manifest['entries']['admin']['file']}"
    app = f"/static/build/{manifest['entries']['app']['file']}"
    for path in ("/app/instances", "/login", "/app/administration"):
        named = _named(client, path)
        assert app in named and console not in named, path
    for path in ("/app/admin", "/app/admin/jobs"):
        assert console in _named(client, path), path


def test_built_files_are_served_immutable(client: FlaskClient, manifest: dict[str, Any]) -> None:
    for name in manifest["files"]:
        response = client.get(f"/static/build/{name}")
        assert response.status_code == 200, name
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.get_data() == (assets.BUILD_DIR / name).read_bytes()
        assert "X-RateLimit-Limit" not in response.headers  # never counted against anyone
        response.close()
    style = client.get(f"/static/build/{manifest['entries']['style']['file']}")
    assert style.mimetype == "text/css"


@pytest.mark.parametrize(
    ("accepted", "encoding"), [("gzip, deflate, br, zstd", "br"), ("gzip", "gzip")]
)
def test_built_files_go_out_as_the_build_compressed_them(
    client: FlaskClient, manifest: dict[str, Any], accepted: str, encoding: str
) -> None:
    suffix = {"br": ".br", "gzip": ".gz"}[encoding]
    decompress = {"br": brotli.decompress, "gzip": gzip.decompress}[encoding]
    for name in manifest["files"]:
        response = client.get(f"/static/build/{name}", headers={"Accept-Encoding": accepted})
        assert response.headers["Content-Encoding"] == encoding
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert "Accept-Encoding" in response.headers["Vary"]
        body = response.get_data()
        assert body == (assets.BUILD_DIR / f"{name}{suffix}").read_bytes()
        assert decompress(body) == (assets.BUILD_DIR / name).read_bytes()
        response.close()


@pytest.mark.parametrize(
    "name", ["manifest.json", "app-AAAAAAAA.js.br", "app-AAAAAAAA.js", "../css/app.css"]
)
def test_only_the_built_files_are_served_from_the_build(client: FlaskClient, name: str) -> None:
    assert client.get(f"/static/build/{name}").status_code == 404


def test_a_missing_build_is_named_as_such(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(assets, "MANIFEST", tmp_path / "manifest.json")
    with pytest.raises(assets.AssetsNotBuilt, match="make install"):
        client.get("/app", headers=BROWSER)


def test_a_new_build_is_named_by_pages_without_a_restart(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An upgrade replaces the build under running processes: they name its files at once."""
    manifest = tmp_path / "manifest.json"
    monkeypatch.setattr(assets, "MANIFEST", manifest)

    def install(app_file: str, mtime_ns: int) -> None:
        entries = {
            name: {"file": f"{name}-AAAAAAAA.{kind}", "imports": []}
            for name, kind in [("admin", "js"), ("style", "css"), ("logo", "svg")]
        }
        entries["favicon"] = entries["logo"]
        entries["app"] = {"file": app_file, "imports": []}
        manifest.write_text(json.dumps({"entries": entries, "files": []}))
        os.utime(manifest, ns=(mtime_ns, mtime_ns))

    install("app-OLDOLDOL.js", 1_000_000_000_000_000_000)
    assert "/static/build/app-OLDOLDOL.js" in _named(client, "/app")
    install("app-NEWNEWNE.js", 2_000_000_000_000_000_000)
    assert "/static/build/app-NEWNEWNE.js" in _named(client, "/app")
