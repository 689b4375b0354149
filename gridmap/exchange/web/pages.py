"""The data page (数据): import a layer from a file, check it, import it; export a layer."""

from __future__ import annotations

from flask import render_template

from gridmap.crs import gauss_kruger_epsg
from gridmap.exchange.layers import LAYERS
from gridmap.exchange.rules import EXCHANGERS, FORMATS, STREETS, TOLERANCE_M2
from gridmap.exchange.web.blueprint import bp
from gridmap.territory.services import lookup
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory, settings
from gridmap.web.i18n import current_lang
from gridmap.web.page_config import page_config


@bp.get("/data")
@require(*EXCHANGERS)
def data_page() -> str:
    """Import and export, for data officers and administrators."""
    layers = [{"name": spec.name, "label_zh": spec.label_zh, "label_en": spec.label_en,
               "fields": [{"name": f.name, "required": f.required} for f in spec.fields]}
              for spec in LAYERS.values()]
    layers.append({"name": STREETS, "label_zh": "街巷（OpenStreetMap .osm/.pbf）",
                   "label_en": "streets (OpenStreetMap .osm/.pbf)", "fields": []})
    with session_factory()() as session:
        extent = lookup.meta(session, lang=current_lang()).get("extent")
    zone = f"EPSG:{gauss_kruger_epsg((extent[0] + extent[2]) / 2)}" if extent else None
    config = page_config(layers=layers, exportLayers=[*LAYERS, STREETS], zone=zone,
                         formats=list(FORMATS), area=current_principal().area_code,
                         limits={"importMaxMb": settings().import_max_mb,
                                 "toleranceM2": TOLERANCE_M2})
    return render_template("exchange/data.html", page_config=config)


@bp.get("/data/edit")
@require(*EXCHANGERS)
def edit_page() -> str:
    """Facilities on the map, to add, move, change and retire."""
    with session_factory()() as session:
        types = lookup.facility_types(session, lang=current_lang())
    return render_template("exchange/edit.html", page_config=page_config(types=types))
