"""Export a layer as GeoJSON to a file-like object, streamed with flat memory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from gridmap.errors import InvalidInput
from gridmap.territory.repositories.layers import LAYERS, feature_collection, layer_query, stream_features
from gridmap.territory.services import filters


def export_layer(factory: sessionmaker[Session], layer: str, args: Mapping[str, str],
                 out: TextIO) -> int:
    """Write ``layer`` filtered by bbox/area/type to ``out``; returns the feature count."""
    spec = LAYERS.get(layer)
    if spec is None:
        raise InvalidInput(f"没有图层 {layer!r}；可选：{', '.join(LAYERS)} (unknown layer)")
    if args.get("type") and spec.name != "facilities":
        raise InvalidInput("--type 只适用于 facilities 图层 (--type applies to facilities only)")
    stmt = layer_query(spec, bbox=filters.bbox(args), zoom=None, area=filters.area(args),
                       facility_type=args.get("type"), lang="zh", limit=None)
    count = 0

    def counted(features: Iterator[str]) -> Iterator[str]:
        nonlocal count
        for feature in features:
            count += 1
            yield feature

    with factory() as session:
        for chunk in feature_collection(counted(stream_features(session, stmt))):
            out.write(chunk)
    return count
