"""Compression (brotli/gzip, streams stay streamed, pre-encoded bodies untouched) and
conditional requests on the layers (ETag from data versions, 304, invalidation, scope)."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator

import brotli
import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from gridmap.app import create_app
from gridmap.config import Settings

LAYER = "/api/layers/buildings.geojson?community={community}"
WHOLE = "/api/layers/buildings.geojson"  # the test district's buildings: megabytes


def _community(tx: Connection) -> str:
    return str(tx.execute(text("SELECT community_code FROM grid ORDER BY code LIMIT 1")).scalar_one())


@pytest.mark.parametrize("accept, encoding", [("br", "br"), ("gzip", "gzip"),
                                               ("gzip, br", "br"), ("identity", None)])
def test_json_is_compressed_as_the_client_accepts(api: FlaskClient, accept: str,
                                                  encoding: str | None) -> None:
    plain = api.get("/api/meta").get_data()
    answer = api.get("/api/meta", headers={"Accept-Encoding": accept})
    assert answer.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in answer.headers["Vary"]
    body = answer.get_data()
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](body)
    assert decoded == plain
    if encoding:
        assert len(body) < len(plain)


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_streamed_layer_stays_streamed_when_compressed(api: FlaskClient, encoding: str) -> None:
    plain = api.get(WHOLE, buffered=True).get_data()
    answer = api.get(WHOLE, headers={"Accept-Encoding": encoding}, buffered=False)
    assert answer.is_streamed and "Content-Length" not in answer.headers
    assert answer.headers["Content-Encoding"] == encoding
    chunks = list(answer.response)
    answer.close()
    assert len(chunks) > 1  # compressed chunk by chunk, not gathered first
    decode = brotli.decompress if encoding == "br" else gzip.decompress
    assert decode(b"".join(chunks)) == plain


@pytest.fixture
def tile_app(settings: Settings) -> Iterator[Flask]:
    """The app plus a route answering as the tiles do: a body gzip-encoded once, when built."""
    app = create_app(settings)

    @app.get("/tiles/test/<int:z>.mvt")
    def tile(z: int) -> Response:
        """A pre-encoded tile."""
        body = gzip.compress(b"\x1a\x02tile" * 200)
        return Response(body, mimetype="application/vnd.mapbox-vector-tile",
                        headers={"Content-Encoding": "gzip"})

    yield app
    app.extensions["gridmap.read_pool"].close()
    app.extensions["gridmap.engine"].dispose()


def test_pre_encoded_tiles_are_not_compressed_again(tile_app: Flask) -> None:
    answer = tile_app.test_client().get("/tiles/test/3.mvt", headers={"Accept-Encoding": "br"})
    assert answer.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(answer.get_data()) == b"\x1a\x02tile" * 200


def test_a_layer_answers_304_until_its_data_changes(api: FlaskClient, tx: Connection) -> None:
    community = _community(tx)
    url = LAYER.format(community=community)
    first = api.get(url, buffered=True)
    tag = first.headers["ETag"]
    assert tag.startswith('W/"') and first.headers["Cache-Control"] == "public, no-cache"
    again = api.get(url, headers={"If-None-Match": tag}, buffered=True)
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    other_query = api.get(url + "&zoom=16", headers={"If-None-Match": tag}, buffered=True)
    assert other_query.status_code == 200
    tx.execute(text("UPDATE building SET name = name || '·' WHERE code = "
                    "(SELECT min(code) FROM building WHERE grid_code LIKE :c)"),
               {"c": community + "%"})
    changed = api.get(url, headers={"If-None-Match": tag}, buffered=True)
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert "·" in changed.get_data(as_text=True)


def test_grid_and_district_layers_change_their_etag_with_their_tables(
        api: FlaskClient, tx: Connection) -> None:
    """Migration 0015: the territory's own tables bump their versions too."""
    def etag(name: str) -> str:
        return str(api.get(f"/api/layers/{name}.geojson?zoom=10", buffered=True).headers["ETag"])

    before = {n: etag(n) for n in ("districts", "grids", "facilities")}
    tx.execute(text("UPDATE grid SET name = name WHERE code = (SELECT min(code) FROM grid)"))
    after = {n: etag(n) for n in before}
    assert after["grids"] != before["grids"]
    assert after["districts"] == before["districts"]
    assert after["facilities"] == before["facilities"]


def test_scoped_answers_are_private_and_never_match_another_persons_etag(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> None:
    community = _community(tx)
    url = LAYER.format(community=community)
    staff = login("community_staff", area=community)
    other = login("community_staff", area=str(tx.execute(text(
        "SELECT code FROM community WHERE code <> :c ORDER BY code LIMIT 1"),
        {"c": community}).scalar_one()))
    public = api.get(url, buffered=True)
    mine = api.get(url, headers=staff, buffered=True)
    assert mine.headers["Cache-Control"] == "private, no-cache"
    assert {"Authorization", "Cookie"} <= set(mine.headers["Vary"].replace(" ", "").split(","))
    assert len({public.headers["ETag"], mine.headers["ETag"]}) == 2
    # Another person's ETag (or the public's) never earns a 304 with this person's data.
    for tag in (public.headers["ETag"], mine.headers["ETag"]):
        theirs = api.get(url, headers={**other, "If-None-Match": tag}, buffered=True)
        assert theirs.status_code == 200
    same = api.get(url, headers={**staff, "If-None-Match": mine.headers["ETag"]}, buffered=True)
    assert same.status_code == 304

