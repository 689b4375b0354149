"""Reading files through GDAL: formats, encodings, and the mistakes people make with them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from gridmap.errors import InvalidInput, PayloadTooLarge
from gridmap.exchange import reading


def _grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"网格编码": ["210103001001001", "210103001001002"],
                             "网格名称": ["五里河第一网格", "五里河第二网格"]},
                            geometry=[shapely.box(123.40, 41.70, 123.41, 41.71),
                                      shapely.box(123.41, 41.70, 123.42, 41.71)],
                            crs="EPSG:4549")


def _gbk_shapefile(folder: Path, *, cpg: bool, prj: bool = True) -> Path:
    path = folder / "grids.shp"
    pyogrio.write_dataframe(_grids(), path, encoding="gbk")
    if not cpg:
        path.with_suffix(".cpg").unlink()
    if not prj:
        path.with_suffix(".prj").unlink()
    return path


def test_a_gbk_shapefile_with_its_cpg_reads_as_chinese(tmp_path: Path) -> None:
    source = reading.read(_gbk_shapefile(tmp_path, cpg=True))
    assert source.frame["网格名称"].tolist() == ["五里河第一网格", "五里河第二网格"]
    assert source.crs == "EPSG:4549" and source.driver == "ESRI Shapefile"


def test_gbk_read_as_latin1_is_caught_and_the_fix_named(tmp_path: Path) -> None:
    path = _gbk_shapefile(tmp_path, cpg=False)
    with pytest.raises(InvalidInput, match="--encoding gbk"):
        reading.read(path)
    assert reading.read(path, encoding="gbk").frame["网格编码"].tolist()[0] == "210103001001001"


def test_a_zipped_shapefile_reads_and_a_zip_without_shp_or_dbf_is_refused(tmp_path: Path) -> None:
    shp = _gbk_shapefile(tmp_path, cpg=True)
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w") as archive:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            archive.write(shp.with_suffix(ext), shp.with_suffix(ext).name)
    assert len(reading.read(whole).frame) == 2
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("readme.txt", "no data")
    with pytest.raises(InvalidInput, match="no .shp"):
        reading.read(empty)
    partial = tmp_path / "partial.zip"
    with zipfile.ZipFile(partial, "w") as archive:
        archive.write(shp, shp.name)
    with pytest.raises(InvalidInput, match=r"without its \.dbf, \.shx"):
        reading.read(partial)


def test_a_shapefile_without_prj_declares_no_crs(tmp_path: Path) -> None:
    assert reading.read(_gbk_shapefile(tmp_path, cpg=True, prj=False)).crs is None


def test_csv_with_longitude_latitude_or_wkt_columns(tmp_path: Path) -> None:
    lonlat = tmp_path / "stations.csv"
    lonlat.write_text("编码,名称,经度,纬度\nA1,养老站,123.45,41.78\nA2,食堂,123.46,41.79\n",
                      encoding="utf-8")
    frame = reading.read(lonlat).frame
    assert frame["名称"].tolist() == ["养老站", "食堂"]
    assert [(p.x, p.y) for p in frame.geometry] == [(123.45, 41.78), (123.46, 41.79)]
    wkt = tmp_path / "wkt.csv"
    wkt.write_text('code,name,wkt\nA1,x,"POINT (123.45 41.78)"\nA2,y,"POINT (nonsense)"\n')
    source = reading.read(wkt)
    assert source.frame.geometry.iloc[0].equals(shapely.Point(123.45, 41.78))
    assert source.frame.geometry.iloc[1] is None  # a WKT that does not parse: no geometry
    assert any("POINT (nonsense)" in w for w in source.gdal_warnings)  # and GDAL said why
    none = tmp_path / "none.csv"
    none.write_text("code,name\nA1,x\n")
    with pytest.raises(InvalidInput, match="no longitude/latitude"):
        reading.read(none)


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"), ('{"type": "FeatureCollection", "features": [', "cannot read"),
    ('{"type": "FeatureCollection", "features": []}', "no features")])
def test_empty_or_malformed_geojson_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message):
        reading.read(path)


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.geojson"
    path.write_bytes(b" " * 2048)
    monkeypatch.setattr(reading, "MAX_BYTES", 1024)
    with pytest.raises(PayloadTooLarge):
        reading.read(path)


def test_several_layers_need_a_choice(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(_grids(), path, layer="grids")
    pyogrio.write_dataframe(_grids(), path, layer="old_grids", append=False)
    with pytest.raises(InvalidInput, match="--layer"):
        reading.read(path)
    assert reading.read(path, layer="old_grids").layer == "old_grids"
