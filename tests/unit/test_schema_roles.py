"""Which role the upgrade grants to: the app's, when it differs from the owner's."""

from __future__ import annotations

import pytest

from gridmap import schema
from gridmap.config import Settings


@pytest.mark.parametrize(("app", "owner", "role"), [
    ("postgresql://gridmap_app:a@h/db", "postgresql://gridmap_owner:o@h/db", "gridmap_app"),
    ("postgresql://gridmap_app:a@h/db", "", None),
    ("postgresql://same:a@h/db", "postgresql://same:b@h/db", None),
])
def test_the_app_role_is_granted_only_when_it_is_not_the_owner(app: str, owner: str,
                                                               role: str | None) -> None:
    settings = Settings(database_url=app, secret_key="s", owner_database_url=owner)
    assert schema.app_role(settings) == role
