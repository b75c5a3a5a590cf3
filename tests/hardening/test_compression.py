"""Large JSON, pages and static assets are compressed; secrets shown once never are."""

from __future__ import annotations

import gzip

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.web.assets import asset_url
from tests.support.api import Customer


def test_large_json_is_compressed_for_a_client_that_accepts_it(client: FlaskClient) -> None:
    plain = client.get("/api/plans")
    assert "Content-Encoding" not in plain.headers
    zipped = client.get("/api/plans", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert len(zipped.get_data()) < len(plain.get_data()) / 2


@pytest.mark.parametrize("asset", ["app", "style", "/static/css/app.css"])
def test_static_assets_are_compressed_with_brotli(client: FlaskClient, asset: str) -> None:
    if not asset.startswith("/"):  # a built bundle, named by the page that uses it
        with client.application.test_request_context():
            asset = asset_url(asset)
    plain = client.get(asset)
    compressed = client.get(asset, headers={"Accept-Encoding": "br, gzip"})
    assert compressed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(compressed.get_data()) == plain.get_data()
    plain.close()
    compressed.close()


def test_json_is_compressed_at_the_fastest_brotli_level(client: FlaskClient) -> None:
    plain = client.get("/api/plans")
    compressed = client.get("/api/plans", headers={"Accept-Encoding": "br"})
    assert compressed.headers["Content-Encoding"] == "br"
    assert compressed.get_data() == brotli.compress(plain.get_data(), quality=1)


def test_small_responses_are_sent_as_they_are(client: FlaskClient) -> None:
    response = client.get("/api/nothing-here", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers


def test_a_secret_shown_once_is_never_compressed(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "COMPRESS_MIN_SIZE", 0)  # whatever its size
    customer = Customer(client)
    gzip_please = {"Accept-Encoding": "gzip"}
    created = customer.post("/api/auth/tokens", json={"name": "laptop"}, headers=gzip_please)
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    assert "Content-Encoding" not in created.headers
    listed = customer.get("/api/auth/tokens", headers=gzip_please)  # names only: compressed
    assert listed.headers["Content-Encoding"] == "gzip"
