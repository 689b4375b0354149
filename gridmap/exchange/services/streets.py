"""Import the walking network from an OpenStreetMap extract (PBF or XML): replaces the streets
as a whole, in one transaction, recorded like every import. Coverage runs made on the old
network stay as they were until recomputed (the coverage page offers it)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.errors import InvalidInput
from gridmap.exchange import osm
from gridmap.exchange.repositories import staging
from gridmap.exchange.repositories import streets as repo
from gridmap.exchange.rules import STREETS
from gridmap.exchange.rules import ensure_exchanger as ensure_importer
from gridmap.exchange.services.imports import Progress

LAYER = STREETS
MIN_INSIDE = 0.5
"""At least this share of the network's nodes must lie within the city's extent."""


@dataclass(frozen=True)
class StreetsOutcome:
    """What a street import found and did."""

    file: str
    ways: int
    skipped: int
    nodes: int
    edges: int
    length_km: float
    before: tuple[int, int]
    written: bool
    import_id: int | None = None

    def public(self) -> dict[str, Any]:
        """As JSON."""
        return {"file": self.file, "ways": self.ways, "skipped_ways": self.skipped,
                "nodes": self.nodes, "edges": self.edges, "length_km": self.length_km,
                "before": {"nodes": self.before[0], "edges": self.before[1]},
                "written": self.written, "import_id": self.import_id}


def run(factory: sessionmaker[Session], principal: Principal, path: Path, *,
        dry_run: bool = False, source: str = "", licence: str = "",
        progress: Progress = lambda fraction, line: None) -> StreetsOutcome:
    """Read ``path``, build the walking network, and (unless ``dry_run``) replace the streets."""
    ensure_importer(principal)
    progress(0.05, "读取 OSM 文件 (reading the OSM file)")
    ways = osm.read_ways(path)
    progress(0.4, "构建步行路网 (building the walking network)")
    network = osm.network(ways)
    length_km = round(float(network.edges["length_m"].sum()) / 1000, 1)
    with factory() as session, session.begin():
        extent = staging.city_extent(session)
        if extent is not None:
            xy = shapely.get_coordinates(np.asarray(network.nodes.geometry.values, dtype=object))
            inside = ((xy[:, 0] >= extent[0]) & (xy[:, 0] <= extent[2])
                      & (xy[:, 1] >= extent[1]) & (xy[:, 1] <= extent[3]))
            if inside.mean() < MIN_INSIDE:
                raise InvalidInput(f"{path.name}：路网有 {1 - inside.mean():.0%} 的节点在本市范围之外，"
                                   "是否选错了地区的 OSM 文件？ (most of the network lies outside "
                                   "the city: an extract of another place?)")
        before = repo.counts(session)
        outcome = StreetsOutcome(path.name, network.ways, network.skipped, len(network.nodes),
                                 len(network.edges), length_km, before, written=not dry_run)
        if dry_run:
            return outcome
        progress(0.6, "写入街道 (writing the streets)")
        repo.replace_network(session, network.nodes, network.edges)
        import_id = staging.record(
            session, layer="streets", file_name=path.name, source=source, licence=licence,
            crs="EPSG:4326", mode="replace", scope="layer",
            imported_by=principal.username or "cli", account_id=principal.account_id,
            mapping={}, counts={"nodes": len(network.nodes), "edges": len(network.edges),
                                "removed_nodes": before[0], "removed_edges": before[1]},
            problems={})
    progress(1.0, "完成 (done)")
    return replace(outcome, import_id=import_id)
