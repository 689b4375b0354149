"""The coverage report's PDF, read back with pypdf: its pages and headings (issue 13)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pypdf
from report_sample import sample_report

from gridmap.reports import pdf


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_the_pdf_has_the_summary_map_audit_and_sites_pages() -> None:
    data = pdf.render(sample_report())
    assert data.startswith(b"%PDF-")
    pages = _pages(data)
    assert len(pages) == 3
    assert "沈河区 · 养老服务设施覆盖报告" in pages[0]
    assert "概况" in pages[0] and "覆盖地图" in pages[0] and "50.0%" in pages[0]
    assert "以上数字只包括沈河区范围内" in pages[0]
    assert "覆盖最差的社区" in pages[1] and "GB 50180" in pages[1] and "未达标" in pages[1]
    assert "建议新址" in pages[2] and "万柳塘路" in pages[2]
    assert "第 3 页 / 共 3 页" in pages[2]


def test_the_map_draws_every_building_outline_facility_and_name() -> None:
    svg = ET.fromstring(pdf.svg_map(sample_report()))
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f"{ns}path")) == 6 + 2
    assert len(svg.findall(f"{ns}circle")) == 2 + 1
    names = [t.text for t in svg.findall(f"{ns}text")]
    assert "文艺路社区" in names and "万柳塘社区" in names
    for path in svg.findall(f"{ns}path"):
        for number in path.attrib["d"].replace("M", " ").replace("L", " ").replace(
                "Z", " ").replace(",", " ").split():
            assert 0 <= float(number) <= pdf.MAP_WIDTH_PX


def test_percent() -> None:
    assert pdf.percent(None) == "—"
    assert pdf.percent(0.875) == "87.5%"
