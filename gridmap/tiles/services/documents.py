"""The documents that describe tilesets: TileJSON 3.0 and OGC API Tiles (tileset lists and
tileset metadata). Built from the catalogue; the caller supplies the URLs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gridmap.territory.services import layers
from gridmap.tiles import tms
from gridmap.tiles.repositories import tiles as repo
from gridmap.tiles.services.catalogue import SCOPED, Tileset

MVT_TYPE = "application/vnd.mapbox-vector-tile"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
)
"""The OGC API Tiles Part 1 conformance classes these endpoints implement."""
_REL_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
_TYPES = {str: "String", int: "Number", float: "Number", Decimal: "Number", bool: "Boolean"}
_SCOPED_NOTE = "Number (staff only, for their own territory)"
_SUPPRESSED_NOTE = "Number (null under 5; exact for staff in their own territory)"


@dataclass(frozen=True)
class Urls:
    """Where a tileset's things are: the XYZ tile template (``{z}/{x}/{y}``), the OGC tile
    template (``{tileMatrix}/{tileRow}/{tileCol}``), TileJSON and the OGC tileset pages."""

    xyz: str
    ogc: str
    tilejson: str
    tileset: str
    tilesets: str


def fields(ts: Tileset) -> dict[str, str]:
    """The properties of ``ts``'s tiles with their types (TileJSON ``fields``)."""
    if ts.layer == "coverage":
        _, columns = repo.coverage_source()
    else:
        columns = layers.layer_columns(ts.layer)
    out = {name: _type_name(columns[name]) for name in ts.all_properties if name in columns}
    if any(t.scoped for t in ts.tiers):
        for name in SCOPED:
            out[name] = _SUPPRESSED_NOTE if name in out else _SCOPED_NOTE
    return out


def _type_name(expr: Any) -> str:
    try:
        return _TYPES.get(expr.type.python_type, "String")
    except NotImplementedError:
        return "String"


def tilejson(ts: Tileset, urls: Urls, bounds: tuple[float, float, float, float] | None,
             lang: str) -> dict[str, Any]:
    """TileJSON 3.0.0 for ``ts``."""
    west, south, east, north = bounds or (-180.0, -85.05112878, 180.0, 85.05112878)
    centre_zoom = max(ts.minzoom, min(ts.maxzoom, 14))
    return {
        "tilejson": "3.0.0", "name": _title(ts, lang), "version": "1.0.0", "scheme": "xyz",
        "tiles": [urls.xyz], "minzoom": ts.minzoom, "maxzoom": ts.maxzoom,
        "bounds": [west, south, east, north],
        "center": [round((west + east) / 2, 6), round((south + north) / 2, 6), centre_zoom],
        "vector_layers": [{"id": "coverage" if ts.layer == "coverage" else ts.id,
                           "description": _title(ts, lang), "minzoom": ts.minzoom,
                           "maxzoom": ts.maxzoom, "fields": fields(ts)}],
        "attribution": "gridmap",
    }


def _title(ts: Tileset, lang: str) -> str:
    return ts.title_en if lang == "en" else ts.title_zh


def tileset_list(ts: Tileset, urls: Urls, lang: str) -> dict[str, Any]:
    """OGC API Tiles: the tilesets of a collection (one, in WebMercatorQuad)."""
    return {
        "links": [{"rel": "self", "type": "application/json", "href": urls.tilesets}],
        "tilesets": [{
            "title": _title(ts, lang), "dataType": "vector", "crs": tms.CRS_URI,
            "tileMatrixSetURI": tms.TMS_URI,
            "links": [{"rel": "self", "type": "application/json", "href": urls.tileset},
                      {"rel": _REL_SCHEME, "href": tms.TMS_URI}],
        }],
    }


def tileset_metadata(ts: Tileset, urls: Urls, bounds: tuple[float, float, float, float] | None,
                     lang: str) -> dict[str, Any]:
    """OGC API Tiles: a tileset's metadata, its limits per zoom and the tile URL template."""
    limits = []
    if bounds is not None:
        for z in range(ts.minzoom, ts.maxzoom + 1):
            x0, y0, x1, y1 = tms.tile_range(bounds, z)
            limits.append({"tileMatrix": str(z), "minTileRow": y0, "maxTileRow": y1,
                           "minTileCol": x0, "maxTileCol": x1})
    doc: dict[str, Any] = {
        "title": _title(ts, lang), "dataType": "vector", "crs": tms.CRS_URI,
        "tileMatrixSetURI": tms.TMS_URI, "tileMatrixSetLimits": limits,
        "layers": [{"id": "coverage" if ts.layer == "coverage" else ts.id,
                    "title": _title(ts, lang), "dataType": "vector",
                    "geometryDimension": {"point": 0, "line": 1}.get(ts.geometry, 2),
                    "minTileMatrix": str(ts.minzoom), "maxTileMatrix": str(ts.maxzoom),
                    "propertiesSchema": {"type": "object", "properties": {
                        name: {"type": {"Number": "number", "Boolean": "boolean"}.get(
                            kind.split(" ")[0], "string")}
                        for name, kind in fields(ts).items()}}}],
        "links": [
            {"rel": "self", "type": "application/json", "href": urls.tileset},
            {"rel": _REL_SCHEME, "href": tms.TMS_URI},
            {"rel": "item", "type": MVT_TYPE, "href": urls.ogc, "templated": True},
            {"rel": "alternate", "type": "application/json", "title": "TileJSON",
             "href": urls.tilejson},
        ],
    }
    if bounds is not None:
        doc["boundingBox"] = {"lowerLeft": list(bounds[:2]), "upperRight": list(bounds[2:]),
                              "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
    return doc


def extent(conn: Any) -> tuple[float, float, float, float] | None:
    """The loaded territory's WGS84 extent (grids, else districts)."""
    return repo.extent(conn)
