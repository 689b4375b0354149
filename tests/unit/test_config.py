"""Settings from the environment: the public base URL."""

from __future__ import annotations

import pytest

from gridmap.config import Settings
from gridmap.errors import ConfigurationError

REQUIRED = {"GRIDMAP_DATABASE_URL": "postgresql://u@h/db", "GRIDMAP_SECRET_KEY": "s"}


@pytest.mark.parametrize(("raw", "kept"), [
    ("https://gridmap.example.cn", "https://gridmap.example.cn"),
    (" https://gridmap.example.cn/city/ ", "https://gridmap.example.cn/city"),
    ("http://10.0.0.5:8000/", "http://10.0.0.5:8000"),
])
def test_public_base_url_is_read_without_a_trailing_slash(raw: str, kept: str) -> None:
    settings = Settings.from_env({**REQUIRED, "GRIDMAP_PUBLIC_BASE_URL": raw})
    assert settings.public_base_url == kept


def test_public_base_url_is_empty_by_default() -> None:
    assert Settings.from_env(REQUIRED).public_base_url == ""


@pytest.mark.parametrize("raw", ["gridmap.example.cn", "/city", "ftp://x.cn", "https://x.cn/?a=1",
                                 "javascript:alert(1)", "https://"])
def test_a_bad_public_base_url_is_refused(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="GRIDMAP_PUBLIC_BASE_URL"):
        Settings.from_env({**REQUIRED, "GRIDMAP_PUBLIC_BASE_URL": raw})
