"""Settings from the environment: the public base URL, the rate limits."""

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


def test_rate_limits_default_to_per_process_memory_and_modest_budgets() -> None:
    rates = Settings.from_env(REQUIRED).rate_limits
    assert rates.storage_url == "memory://"
    assert (rates.intake, rates.open311, rates.planning) == ("30/minute", "20/minute", "10/minute")
    assert Settings.from_env(REQUIRED).trusted_proxies == 0


def test_rate_limits_are_read_from_the_environment() -> None:
    settings = Settings.from_env({**REQUIRED, "GRIDMAP_RATELIMIT_STORAGE_URL": "redis://r:6379/0",
                                  "GRIDMAP_RATELIMIT_PLANNING": "3/minute;50/day",
                                  "GRIDMAP_TRUSTED_PROXIES": "1"})
    assert settings.rate_limits.storage_url == "redis://r:6379/0"
    assert settings.rate_limits.planning == "3/minute;50/day"
    assert settings.rate_limits.intake == "30/minute"
    assert settings.trusted_proxies == 1


@pytest.mark.parametrize("raw", ["lots", "30 per fortnight", "minute/30"])
def test_a_bad_rate_is_refused_at_start(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="GRIDMAP_RATELIMIT_INTAKE"):
        Settings.from_env({**REQUIRED, "GRIDMAP_RATELIMIT_INTAKE": raw})


def test_without_an_owner_url_the_one_url_does_everything() -> None:
    settings = Settings.from_env(REQUIRED)
    assert settings.as_owner() is settings


def test_the_owner_url_is_used_as_the_owner_only() -> None:
    owner = "postgresql://gridmap_owner:pw@h/db"
    settings = Settings.from_env({**REQUIRED, "GRIDMAP_OWNER_DATABASE_URL": owner})
    assert settings.database_url == REQUIRED["GRIDMAP_DATABASE_URL"]
    assert settings.as_owner().database_url == owner
    assert settings.as_owner().secret_key == settings.secret_key
