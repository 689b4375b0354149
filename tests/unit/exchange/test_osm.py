"""OpenStreetMap to a walking network: which ways, split where, how long."""

from __future__ import annotations

from pathlib import Path

import pyproj
import pytest

from gridmap.exchange import osm


@pytest.mark.parametrize(("highway", "other", "walk"), [
    ("residential", None, True), ("footway", None, True), ("steps", None, True),
    ("living_street", None, True), ("trunk", None, True), ("path", '"foot"=>"designated"', True),
    ("motorway", None, False), ("motorway_link", None, False), ("cycleway", None, False),
    ("construction", None, False), ("proposed", None, False), ("platform", None, False),
    ("residential", '"foot"=>"no"', False), ("service", '"access"=>"private"', False),
    ("service", '"service"=>"private"', False), ("pedestrian", '"area"=>"yes"', False),
    (None, None, False),
])
def test_the_walk_filter_follows_osmnx(highway: str | None, other: str | None,
                                       walk: bool) -> None:
    assert osm.walkable(highway, other) is walk


def _osm(path: Path) -> Path:
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" lat="41.800" lon="123.400"/><node id="2" lat="41.800" lon="123.401"/>
  <node id="3" lat="41.800" lon="123.402"/><node id="4" lat="41.801" lon="123.401"/>
  <node id="5" lat="41.799" lon="123.401"/><node id="6" lat="41.7995" lon="123.4015"/>
  <node id="7" lat="41.802" lon="123.402"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/>
    <tag k="name" v="团结街"/></way>
  <way id="11"><nd ref="4"/><nd ref="2"/><nd ref="6"/><nd ref="5"/><tag k="highway" v="footway"/></way>
  <way id="12"><nd ref="3"/><nd ref="7"/><tag k="highway" v="motorway"/></way>
  <way id="13"><nd ref="3"/><nd ref="7"/><tag k="waterway" v="river"/></way>
</osm>""", encoding="utf-8")
    return path


def test_ways_are_split_at_the_nodes_they_share(tmp_path: Path) -> None:
    network = osm.network(osm.read_ways(_osm(tmp_path / "t.osm")))
    assert (network.ways, network.skipped) == (2, 1)  # the river is no highway at all
    edges = network.edges
    assert len(network.nodes) == 5 and len(edges) == 4  # a crossing at node 2: four arms
    named = edges[edges["name"] == "团结街"]
    assert len(named) == 2 and set(named["kind"]) == {"local"}
    assert set(edges[edges["name"] == ""]["kind"]) == {"path"}
    geod = pyproj.Geod(ellps="WGS84")
    west = geod.line_length([123.400, 123.401], [41.8, 41.8])
    assert any(abs(length - west) < 0.01 for length in named["length_m"])
    # The footway's middle vertex (node 6) is not shared: it stays inside its edge.
    assert max(len(g.coords) for g in edges.geometry) == 3
    ends = set(edges["source"]) | set(edges["target"])
    assert ends == set(network.nodes["node_id"])


def test_a_file_that_is_not_osm_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.osm"
    path.write_text("not xml")
    with pytest.raises(Exception, match="OpenStreetMap"):
        osm.network(osm.read_ways(path))
