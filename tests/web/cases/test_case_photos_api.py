"""Case photos over HTTP: what /media/ gives back (no EXIF, upright, typed as stored, never
cached), and the order of refusals: request size from the headers, then the signed-in person's
right to report there or to act, then count and size, and only then any decoding.

Runs in the rolled-back transaction of ``api`` (tests/web/conftest.py), with the media folder in
a temporary directory; samples are built in code.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from PIL import ExifTags, Image
from sqlalchemy import text

from gridmap.cases.services import cases


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The formats of the images the app opens (a spy on the decoder's entry)."""
    seen: list[str] = []
    real_open = Image.open

    def spy(fp: Any, *args: Any, **kwargs: Any) -> Image.Image:
        image = real_open(fp, *args, **kwargs)
        seen.append(str(image.format))
        return image

    monkeypatch.setattr(Image, "open", spy)
    return seen


@pytest.fixture
def people(crew, grids: list[dict[str, Any]]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The grid, and the headers of its worker and its heating department's staff."""
    grid = grids[1]
    return {"grid": grid, **crew(grid["code"])}


def _gps_jpeg() -> bytes:
    """60×40, left half red, taken "at home": GPS EXIF, orientation 6 (turn 90° clockwise)."""
    image = Image.new("RGB", (60, 40), (20, 20, 220))
    image.paste((220, 20, 20), (0, 0, 30, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (41.0, 47.0, 30.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (123.0, 26.0, 5.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def _png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _bomb() -> bytes:
    """A PNG of a few dozen bytes declaring 20000×20000 pixels."""
    data = bytearray(_png((1, 1)))
    ihdr = struct.pack(">II", 20_000, 20_000) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def _intake(api: Any, people: dict[str, Any], files: list[tuple[bytes, str]],
            **extra: Any) -> Any:
    grid = people["grid"]
    who = extra.pop("who", people["worker"])
    form: dict[str, Any] = {"category": "heating", "description": "暖气不热",
                            "lon": str(grid["lon"]), "lat": str(grid["lat"]),
                            "grid_code": grid["code"], "confirm_new": "true", **extra}
    form["photos"] = [(io.BytesIO(data), name) for data, name in files]
    return api.post("/api/cases", data=form, content_type="multipart/form-data", headers=who)


def _get(api: Any, url: str, who: dict[str, str]) -> Any:
    response = api.get(url, headers=who)
    response.get_data()
    response.close()  # a file response holds the file open until closed
    return response


def _case_photos(api: Any, case_id: int, who: dict[str, str]) -> list[dict[str, Any]]:
    return list(api.get(f"/api/cases/{case_id}", headers=who).get_json()["photos"])


def _message(response: Any, status: int) -> str:
    assert response.status_code == status, response.data[:400]
    message = str(response.get_json()["error"]["message"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message) and "(" in message, message
    return message


# --- what /media/ serves ------------------------------------------------------------------------

def test_a_served_photo_has_no_exif_and_is_upright(api, people, media) -> None:
    response = _intake(api, people, [(_gps_jpeg(), "home.jpg")])
    assert response.status_code == 201, response.data[:400]
    photo = _case_photos(api, response.get_json()["case_id"], people["worker"])[0]
    served = _get(api, photo["url"], people["worker"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(served.get_data())) as image:
        exif = image.getexif()
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo) and ExifTags.Base.Orientation not in exif
        assert image.size == (40, 60)  # turned upright: width and height swapped
        assert image.convert("RGB").getpixel((20, 5))[0] > 150  # the red half is on top
    assert b"Exif" not in served.get_data()


def test_media_is_private_no_store_nosniff_and_typed_as_stored(api, people, media) -> None:
    """A PNG sent as "x.html" with a text/html part type is served as the PNG it is."""
    grid = people["grid"]
    form = {"category": "heating", "description": "暖气不热",
            "lon": str(grid["lon"]), "lat": str(grid["lat"]), "grid_code": grid["code"],
            "confirm_new": "true",
            "photos": (io.BytesIO(_png()), "x.html", "text/html")}
    response = api.post("/api/cases", data=form, content_type="multipart/form-data",
                        headers=people["worker"])
    assert response.status_code == 201, response.data[:400]
    photo = _case_photos(api, response.get_json()["case_id"], people["worker"])[0]
    for url, mimetype in ((photo["url"], "image/png"), (photo["thumb_url"], "image/jpeg")):
        served = _get(api, url, people["worker"])
        assert (served.status_code, served.mimetype) == (200, mimetype)
        assert served.headers["Cache-Control"] == "private, no-store"
        assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_no_photo_row_names_is_not_served(api, login, media) -> None:
    stray = media / "cases" / "1" / ("0" * 32 + ".jpg")
    stray.parent.mkdir(parents=True)
    stray.write_bytes(_png())
    response = _get(api, "/media/cases/1/" + stray.name, login("admin"))
    assert response.status_code == 404 and response.get_data() != _png()


# --- refusals, in order, before any decoding ------------------------------------------------------

def test_a_decompression_bomb_is_refused_in_both_languages_and_nothing_is_stored(
        api, tx, people, media, opened) -> None:
    before = tx.execute(text("SELECT count(*) FROM case_photo")).scalar_one()
    response = _intake(api, people, [(_png(), "ok.png"), (_bomb(), "bomb.png")])
    message = _message(response, 400)
    assert "像素过多" in message and "megapixels" in message and "bomb.png" in message
    assert tx.execute(text("SELECT count(*) FROM case_photo")).scalar_one() == before
    assert not list(media.rglob("*.*"))


def test_a_request_too_large_is_refused_from_its_content_length(api, people, media,
                                                                opened) -> None:
    """Refused from the header: not a byte of the body is read, nothing is decoded."""
    class Body(io.BytesIO):
        reads = 0

        def read(self, *args: Any) -> bytes:
            Body.reads += 1
            return super().read(*args)

    response = api.post("/api/cases", input_stream=Body(b"--x--\r\n"),
                        content_type="multipart/form-data; boundary=x", headers=people["worker"],
                        environ_overrides={
                            "CONTENT_LENGTH": str(cases.max_request_bytes() + 1)})
    assert "MB" in _message(response, 413)
    assert Body.reads == 0 and opened == []


def test_a_request_as_large_as_its_photos_allow_is_not_refused_for_size(api, people,
                                                                       media) -> None:
    """The limit is the photos' rule (5 × 8 MB and the fields), not the app's general cap."""
    body = b"--x\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nx\r\n--x--\r\n"
    response = api.post("/api/cases", input_stream=io.BytesIO(body),
                        content_type="multipart/form-data; boundary=x", headers=people["worker"],
                        environ_overrides={"CONTENT_LENGTH": str(cases.max_request_bytes())})
    assert response.status_code != 413, response.data[:400]


def test_a_role_that_reports_nothing_is_refused_before_any_photo_is_decoded(
        api, people, media, opened) -> None:
    response = _intake(api, people, [(_png(), "a.png")], who=people["heating"])
    assert "may not" in _message(response, 403)
    assert opened == [] and not list(media.rglob("*.*"))


def test_a_worker_outside_their_grids_is_refused_before_any_photo_is_decoded(
        api, crew, grids, people, media, opened) -> None:
    response = _intake(api, people, [(_png(), "a.png")], who=crew(grids[0]["code"])["worker"])
    assert "outside your grids" in _message(response, 403)
    assert opened == [] and not list(media.rglob("*.*"))


def test_too_many_photos_are_refused_before_any_is_decoded(api, people, media, opened) -> None:
    files = [(_png(), f"{i}.png") for i in range(cases.MAX_PHOTOS + 1)]
    assert f"at most {cases.MAX_PHOTOS}" in _message(_intake(api, people, files), 400)
    assert opened == []


def _act(api: Any, case_id: int, who: dict[str, str], files: list[tuple[bytes, str]]) -> Any:
    form = {"action": "dispatch", "version": "1", "department": "heating",
            "after_photos": [(io.BytesIO(data), name) for data, name in files]}
    return api.post(f"/api/cases/{case_id}/actions", data=form,
                    content_type="multipart/form-data", headers=who)


@pytest.mark.parametrize(("who", "status"), [("admin", 403), ("heating", 404)])
def test_a_person_who_may_not_act_is_refused_before_any_photo_is_decoded(
        api, login, people, media, opened, who, status) -> None:
    """An administrator reads every case but works none (403); a department's staff does not
    see a case not sent to it (404): either way nothing is opened or stored."""
    case_id = _intake(api, people, []).get_json()["case_id"]
    headers = login("admin") if who == "admin" else people[who]
    response = _act(api, case_id, headers, [(_png(), "after.png")])
    assert response.status_code == status, response.data[:400]
    assert opened == [] and not list(media.rglob("*.*"))


def test_too_many_after_photos_are_refused_before_any_is_decoded(api, people, media,
                                                                 opened) -> None:
    case_id = _intake(api, people, []).get_json()["case_id"]
    files = [(_png(), f"{i}.png") for i in range(cases.MAX_PHOTOS + 1)]
    response = _act(api, case_id, people["worker"], files)
    assert f"at most {cases.MAX_PHOTOS}" in _message(response, 400)
    state = api.get(f"/api/cases/{case_id}", headers=people["worker"]).get_json()["state"]
    assert opened == [] and state == "reported"
