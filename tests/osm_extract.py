"""OpenStreetMap XML written feature by feature, for the tests of OSM imports (the format is the
subject, so the extract is built in code: no file, no download)."""

from __future__ import annotations

from pathlib import Path


def square(x: float, y: float, d: float) -> list[tuple[float, float]]:
    """A closed square ring with its south-west corner at (x, y), ``d`` degrees a side."""
    return [(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]


class Extract:
    """An OSM XML file built feature by feature (ids as OSM numbers them: per kind)."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []
        self.relations: list[str] = []
        self._next = 1

    @staticmethod
    def _tags(tags: dict[str, str]) -> str:
        return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())

    def node(self, x: float, y: float, **tags: str) -> int:
        i = self._next
        self._next += 1
        self.nodes.append(f'<node id="{i}" lat="{y:.7f}" lon="{x:.7f}">{self._tags(tags)}</node>')
        return i

    def way(self, way_id: int, ring: list[tuple[float, float]], tags: dict[str, str]) -> None:
        refs = [self.node(x, y) for x, y in ring[:-1]]
        nd = "".join(f'<nd ref="{r}"/>' for r in [*refs, refs[0]])
        self.ways.append(f'<way id="{way_id}">{nd}{self._tags(tags)}</way>')

    def relation(self, rel_id: int, outers: list[int], tags: dict[str, str]) -> None:
        members = "".join(f'<member type="way" ref="{w}" role="outer"/>' for w in outers)
        self.relations.append(f'<relation id="{rel_id}">{members}'
                              f'{self._tags({"type": "multipolygon", **tags})}</relation>')

    def write(self, path: Path) -> Path:
        path.write_text('<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">'
                        + "".join(self.nodes + self.ways + self.relations) + "</osm>",
                        encoding="utf-8")
        return path
