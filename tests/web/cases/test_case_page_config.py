"""The case pages get the server's rules through the page config (states, groups, limits, code
widths) and one state-label table shared with Open311, so no page script copies them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gridmap import codes
from gridmap.cases import workflow
from gridmap.cases.services import cases, photos

PAGES = ["/cases", "/cases/new", "/cases/1", "/cases/map", "/cases/dashboard"]


@pytest.fixture
def staff(api, login):  # type: ignore[no-untyped-def]
    """The test client signed in as a district centre, who may open every case page."""
    api.environ_base["HTTP_AUTHORIZATION"] = login("district_centre", area="210103")["Authorization"]
    return api


def _script_json(html: str, element_id: str) -> dict[str, Any]:
    found = re.search(rf'id="{element_id}">(.*?)</script>', html, re.S)
    assert found, element_id
    return dict(json.loads(found.group(1)))


@pytest.mark.parametrize("url", PAGES)
def test_every_case_page_gets_the_states_groups_and_limits(staff, url) -> None:  # type: ignore[no-untyped-def]
    response = staff.get(url)
    assert response.status_code == 200
    config = _script_json(response.get_data(as_text=True), "gm-page-config")
    assert config["states"] == [s.value for s in workflow.STATE_ORDER]
    assert config["stateGroups"]["linkable"] == workflow.state_values(workflow.LINKABLE_STATES)
    assert config["stateGroups"]["unresolved"] == workflow.state_values(workflow.UNRESOLVED_STATES)
    assert config["limits"] == {"maxPhotos": cases.MAX_PHOTOS, "maxPhotoBytes": photos.MAX_BYTES,
                                "maxPhotoMb": photos.MAX_BYTES // 2**20,
                                "maxDescription": cases.MAX_DESCRIPTION,
                                "maxNote": workflow.NOTE_MAX_CHARS,
                                "maxAddress": cases.MAX_ADDRESS,
                                "maxReporterName": cases.MAX_REPORTER_NAME,
                                "maxPhone": cases.MAX_PHONE}
    assert config["areaLevels"] == {lvl.value: codes.width(lvl) for lvl in codes.LEVELS}
    assert config["channels"] == list(cases.CHANNELS)
    assert set(config["noteRequired"]) == {a.value for a in workflow.NOTE_REQUIRED}


@pytest.mark.parametrize(("lang", "rated"), [("zh", "已评价"), ("en", "Rated")])
def test_every_state_has_a_label_in_both_languages(staff, lang, rated) -> None:  # type: ignore[no-untyped-def]
    html = staff.get(f"/cases?lang={lang}").get_data(as_text=True)
    labels = _script_json(html, "gm-case-strings")["states"]
    assert set(labels) == {s.value for s in workflow.State}
    assert labels["rated"] == rated and all(labels.values())


def test_limits_reach_the_page_text(staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A changed server limit changes what the intake page says and enforces."""
    monkeypatch.setattr(cases, "MAX_PHOTOS", 3)
    monkeypatch.setattr(cases, "MAX_DESCRIPTION", 1234)
    html = staff.get("/cases/new?lang=zh").get_data(as_text=True)
    assert 'maxlength="1234"' in html and "0/1234" in html
    assert "照片（最多 3 张，每张不超过 8 MB）" in html
    strings = _script_json(html, "gm-page-config")["strings"]
    assert strings["tooManyPhotos"] == "最多上传 3 张照片"
    assert strings["descriptionTooLong"] == "问题描述不能超过 1234 字"


def test_board_and_case_map_pick_area_and_department_by_name(staff) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: names, not a 15-digit code or 'housing'; no browser pattern message."""
    for path in ("/cases", "/cases/map"):
        html = staff.get(path).get_data(as_text=True)
        for field in ("gc-f-area", "gc-f-department"):
            tag = re.search(rf'<input id="{field}"[^>]*>', html)
            assert tag and "pattern=" not in tag.group(0), (path, field)
        strings = _script_json(html, "gm-picker-strings")
        assert "js/pickers.js" in html and "不是列表中的单位" in strings["notPicked"]


def test_dashboard_gets_the_rates_as_the_api_computes_them(staff) -> None:  # type: ignore[no-untyped-def]
    """The KPI notes ("responded / valid") read the rate definitions the server divides by."""
    from gridmap.cases.services import stats

    config = _script_json(staff.get("/cases/dashboard").get_data(as_text=True), "gm-page-config")
    assert [r[0] for r in config["rates"]] == list(stats.RATES)
    assert {r[0]: tuple(r[1:]) for r in config["rates"]} == stats.RATES


@pytest.mark.parametrize(("role", "area", "links"), [
    ("community_staff", "210103001001", {"gc-publish-task", "gc-to-mediation"}),
    ("district_centre", "210103", {"gc-publish-task", "gc-to-mediation"}),
    ("department_staff", None, set()),
])
def test_the_case_page_links_to_volunteers_and_mediation_for_staff(  # type: ignore[no-untyped-def]
        api, login, role, area, links) -> None:
    """Staff over a case publish a volunteer task from it or send it to the community's
    mediation point (转评理说事: the mediation page opens its accept form with the case)."""
    kwargs = {"area": area} if area else {"department": "housing"}
    html = api.get("/cases/77", headers=login(role, **kwargs)).get_data(as_text=True)
    shown = {i for i in ("gc-publish-task", "gc-to-mediation") if f'id="{i}"' in html}
    assert shown == links
    if "gc-to-mediation" in links:
        assert 'href="/mediation?case=77"' in html
