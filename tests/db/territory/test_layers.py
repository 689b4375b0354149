"""The layer service on the real database: checks come before streaming, filters by each area
level (streets, which carry no code, by the area's outline), exports in a session of its own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.codes import AreaFilter
from gridmap.errors import InvalidInput, NotFound
from gridmap.models import Community, District, StreetEdge, Subdistrict
from gridmap.territory.services import layers


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions in the test's rolled-back transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint")


@pytest.fixture(scope="module")
def community(engine: Any) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT min(community_code) FROM grid")).scalar_one())


def _collect(chunks: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads("".join(chunks))
    return doc


def _collection(factory: sessionmaker[Session], name: str, **kw: Any) -> Any:
    args: dict[str, Any] = {"bbox": None, "zoom": None, "area": AreaFilter(), "facility_type": None,
                            "lang": "zh", "cap": None, **kw}
    return layers.layer_collection(factory, name, **args)


def test_unknown_layer_and_facility_type_fail_before_the_stream_starts(factory) -> None:
    # The errors come from the call itself, not from the first chunk: a web answer is then a
    # clean 4xx instead of a 200 whose body breaks off.
    with pytest.raises(NotFound, match="districts"):
        _collection(factory, "secrets")
    with pytest.raises(InvalidInput, match="elder_care_station"):
        _collection(factory, "facilities", facility_type="casino")
    with pytest.raises(InvalidInput, match="invalid facility type"):
        _collection(factory, "facilities", facility_type="x' OR 1=1--")


@pytest.mark.parametrize(("level", "model"), [("district", District),
                                            ("subdistrict", Subdistrict),
                                            ("community", Community)])
def test_streets_of_an_area_are_those_crossing_its_outline(factory, connection, community,
                                                           level, model) -> None:
    code = community[:codes.width(level)]
    doc = _collect(_collection(factory, "streets", area=AreaFilter(**{level: code})))
    expected = connection.execute(
        select(func.count()).select_from(StreetEdge)
        .join(model, func.ST_Intersects(StreetEdge.geom, model.geom))
        .where(model.code == code)).scalar_one()
    assert 0 < doc["numberReturned"] == len(doc["features"]) == expected


def test_grids_of_a_community_and_the_coarser_layers_keep_its_ancestors(factory, community) -> None:
    area = AreaFilter(community=community)
    grids = _collect(_collection(factory, "grids", area=area))["features"]
    assert grids and {f["properties"]["community_code"] for f in grids} == {community}
    districts = _collect(_collection(factory, "districts", area=area))["features"]
    assert [f["properties"]["code"] for f in districts] == [community[:6]]
