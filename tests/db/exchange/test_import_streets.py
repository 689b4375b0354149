"""An OpenStreetMap extract becomes the walking network, and coverage runs on it unchanged.

The extract is written here from the loaded test district's own streets (as OSM XML, with a
motorway and a private service road that must be left out), so the test needs no download.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import shapely
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.coverage.services.compute import compute
from gridmap.errors import InvalidInput
from gridmap.exchange.services import streets

OPERATOR = Principal(role=Role.ADMIN, username="test-operator")


def _extract(conn: Connection, path: Path) -> int:
    """The loaded streets as OSM XML (shared ends as shared nodes); their count."""
    rows = conn.execute(text("SELECT id, source, target, kind, name, ST_AsText(geom) "
                             "FROM street_edge ORDER BY id")).all()
    nodes: dict[tuple[float, float], int] = {}
    ways: list[str] = []

    def node(x: float, y: float) -> int:
        return nodes.setdefault((round(x, 7), round(y, 7)), len(nodes) + 1)

    for edge_id, _, _, kind, name, wkt in rows:
        refs = [node(x, y) for x, y in shapely.from_wkt(wkt).coords]
        highway = "primary" if kind == "arterial" else "residential"
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        label = f'<tag k="name" v="{escape(name, {chr(34): "&quot;"})}"/>' if name else ""
        ways.append(f'<way id="{edge_id}">{nd}<tag k="highway" v="{highway}"/>{label}</way>')
    x0, y0 = next(iter(nodes))
    far = [node(x0 + 0.01, y0), node(x0 + 0.02, y0)]
    ways.append(f'<way id="900000001"><nd ref="{far[0]}"/><nd ref="{far[1]}"/>'
                '<tag k="highway" v="motorway"/></way>')
    ways.append(f'<way id="900000002"><nd ref="{far[0]}"/><nd ref="{far[1]}"/>'
                '<tag k="highway" v="service"/><tag k="access" v="private"/></way>')
    body = "".join(f'<node id="{i}" lat="{y}" lon="{x}"/>' for (x, y), i in nodes.items())
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">{body}'
                    f'{"".join(ways)}</osm>', encoding="utf-8")
    return len(rows)


def test_an_osm_extract_replaces_the_network_and_coverage_runs_on_it(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    path = tmp_path / "shenhe.osm"
    n = _extract(connection, path)
    total = connection.execute(text("SELECT sum(length_m) FROM street_edge")).scalar_one()
    dry = streets.run(factory, OPERATOR, path, dry_run=True)
    assert (dry.ways, dry.skipped, dry.written) == (n, 2, False)
    assert connection.execute(text("SELECT count(*) FROM street_edge")).scalar_one() == n
    done = streets.run(factory, OPERATOR, path, source="OpenStreetMap 贡献者", licence="ODbL")
    # Each street was one way between two network nodes: one edge each, the same length.
    assert done.edges == n and done.import_id is not None
    stored = connection.execute(text("SELECT count(*), sum(length_m), "
                                     "count(DISTINCT kind) FROM street_edge")).one()
    assert stored[0] == n and abs(stored[1] - total) < 0.01 * total
    assert connection.execute(text("SELECT count(*) FROM street_edge WHERE NOT EXISTS "
                                   "(SELECT 1 FROM street_node s WHERE s.id = source)")
                              ).scalar_one() == 0
    report = compute(factory, "elder_care_station", "15min")
    assert report.buildings > 1000 and 0.3 < report.elderly_rate <= 1.0
    recorded = connection.execute(text("SELECT layer, licence, counts FROM data_import "
                                       "WHERE id = :i"), {"i": done.import_id}).one()
    assert recorded.layer == "streets" and recorded.counts["edges"] == n


def test_an_extract_of_another_city_is_refused(factory: sessionmaker[Session],
                                               connection: Connection, tmp_path: Path) -> None:
    path = tmp_path / "beijing.osm"
    path.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="39.9" lon="116.4"/>'
                    '<node id="2" lat="39.91" lon="116.4"/><way id="1"><nd ref="1"/><nd ref="2"/>'
                    '<tag k="highway" v="residential"/></way></osm>')
    before = connection.execute(text("SELECT count(*) FROM street_edge")).scalar_one()
    with pytest.raises(InvalidInput, match="outside the city"):
        streets.run(factory, OPERATOR, path)
    assert connection.execute(text("SELECT count(*) FROM street_edge")).scalar_one() == before
