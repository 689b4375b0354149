"""What each importable layer holds: its table, geometry, key, fields and their synonyms.

A field's synonyms are the column names cities use for it (Chinese and English, as seen in
digital-city-management exports); :mod:`gridmap.exchange.mapping` proposes a mapping from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gridmap.codes import Level


class Kind(StrEnum):
    """How a field's values are read."""

    CODE = "code"
    TEXT = "text"
    COUNT = "count"


class Shape(StrEnum):
    """The geometry a layer stores."""

    POLYGON = "polygon"
    """One polygon per feature (a multipolygon of one part is taken as its part)."""
    MULTIPOLYGON = "multipolygon"
    POINT = "point"


@dataclass(frozen=True)
class Field:
    """One target field of a layer."""

    name: str
    kind: Kind
    required: bool = False
    synonyms: tuple[str, ...] = ()
    max_chars: int = 200
    maximum: int | None = None
    """For counts: a value above this is absurd (reported as an error)."""


@dataclass(frozen=True)
class LayerSpec:
    """An importable layer."""

    name: str
    table: str
    shape: Shape
    fields: tuple[Field, ...]
    level: Level | None = None
    """The code level of a territory layer (its ``code`` has this width and nests)."""
    label_zh: str = ""
    label_en: str = ""

    def field(self, name: str) -> Field:
        """The field called ``name``."""
        return next(f for f in self.fields if f.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        """The target field names, in order."""
        return tuple(f.name for f in self.fields)


_CODE = ("code", "编码", "代码", "区划代码", "统计用区划代码", "bm", "dm")
_NAME = ("name", "名称", "名字", "mc")


def _area(level: Level, name: str, table: str, label: str, code_zh: str,
          shape: Shape = Shape.MULTIPOLYGON, label_en: str = "") -> LayerSpec:
    return LayerSpec(name, table, shape, (
        Field("code", Kind.CODE, True, (f"{code_zh}编码", f"{code_zh}代码", *_CODE), 15),
        Field("name", Kind.TEXT, True, (f"{code_zh}名称", *_NAME)),
    ), level=level, label_zh=label, label_en=label_en or table)


DISTRICTS = _area(Level.DISTRICT, "districts", "district", "区", "区县")
SUBDISTRICTS = _area(Level.SUBDISTRICT, "subdistricts", "subdistrict", "街道", "街道",
                     label_en="sub-district")
COMMUNITIES = _area(Level.COMMUNITY, "communities", "community", "社区", "社区")
GRIDS = _area(Level.GRID, "grids", "grid", "网格", "网格", Shape.POLYGON)

_PEOPLE_MAX = 20_000
"""More residents than this in one building is not a building."""

BUILDINGS = LayerSpec("buildings", "building", Shape.POLYGON, (
    Field("code", Kind.TEXT, True, ("楼院编码", "楼栋编码", "建筑编码", *_CODE), 24),
    Field("name", Kind.TEXT, True, ("楼院名称", "楼栋名称", "建筑名称", *_NAME)),
    Field("address", Kind.TEXT, False, ("address", "地址", "门牌地址", "dz")),
    Field("grid_code", Kind.CODE, False, ("网格编码", "所属网格", "grid")),
    Field("households", Kind.COUNT, False, ("households", "户数", "hs"), maximum=_PEOPLE_MAX),
    Field("residents", Kind.COUNT, False, ("residents", "人口", "常住人口", "居民数", "人数",
                                           "population"), maximum=_PEOPLE_MAX),
    Field("aged_60_plus", Kind.COUNT, False, ("aged_60_plus", "60岁以上", "老年人", "老年人数",
                                              "60岁及以上人口"), maximum=_PEOPLE_MAX),
    Field("aged_80_plus", Kind.COUNT, False, ("aged_80_plus", "80岁以上", "高龄老人",
                                              "80岁及以上人口"), maximum=_PEOPLE_MAX),
    Field("elderly_living_alone", Kind.COUNT, False, ("elderly_living_alone", "独居老人",
                                                      "独居老人数"), maximum=_PEOPLE_MAX),
), label_zh="楼院", label_en="building")

FACILITIES = LayerSpec("facilities", "facility", Shape.POINT, (
    Field("code", Kind.TEXT, True, ("设施编码", *_CODE), 40),
    Field("type", Kind.TEXT, True, ("type", "类型", "设施类型", "类别", "lx"), 40),
    Field("name", Kind.TEXT, True, ("设施名称", *_NAME)),
    Field("capacity", Kind.COUNT, False, ("capacity", "床位", "床位数", "容量"), maximum=5_000),
    Field("hours", Kind.TEXT, False, ("hours", "开放时间", "服务时间")),
    Field("community_code", Kind.CODE, False, ("社区编码", "所属社区", "community")),
), label_zh="设施", label_en="facility")

LAYERS: dict[str, LayerSpec] = {spec.name: spec for spec in (
    DISTRICTS, SUBDISTRICTS, COMMUNITIES, GRIDS, BUILDINGS, FACILITIES)}
"""Every importable layer by name (streets come from OpenStreetMap: a layer of their own)."""

PARENT: dict[Level, Level] = {Level.SUBDISTRICT: Level.DISTRICT, Level.COMMUNITY: Level.SUBDISTRICT,
                              Level.GRID: Level.COMMUNITY}
"""A territory level's parent level."""
