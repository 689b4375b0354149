"""Property-based test of the whole HTTP API against its OpenAPI document (schemathesis).

For every operation in ``/api/openapi.json``, schemathesis generates requests from the document
(valid ones, then invalid ones), sends them to the live test server (real PostGIS) and checks
that no answer is a 5xx and that every answer conforms to the document: a documented status,
its media type, its body schema and headers.

Examples per operation are bounded (``EXAMPLES``), so the run stays a few minutes of CI's 90
(the run time is printed). Operations that need an account are sent with a personal API token
of an allowed role, chosen so that writes stay harmless to the shared test database:

- the case, coverage, territory-edit, import and grid-assignment operations act as staff of an
  **empty district** (``210199``: a valid code with nothing loaded), so every write aimed at
  沈河区's data is refused by scope (403/404), yet parsing, validation and the scope checks run;
- admin-only operations (accounts, Open311 clients, audit, metrics) act as an administrator; what
  they can create (accounts, people, tokens, Open311 clients, jobs, imports, cases) is deleted
  afterwards: every row with an id above the one the table had before the run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, text

EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}
"""Examples per operation and mode: up to 40 requests each (fewer where the document allows
fewer distinct ones), ~3,000 in all."""
EMPTY_DISTRICT = "210199"
PREFERENCE = ("district_centre", "planner", "data_officer", "admin")
"""Whose token an operation is sent with: the first role it allows (all but the admin are
scoped to the empty district)."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
CREATED = ("api_token", "account", "person", "open311_client", "case_photo", "case_cohandler",
           "case_event", "case", "data_import", "procrastinate_events", "procrastinate_jobs",
           "job", "whatif_scenario")
"""Tables whose new rows the run removes, children before parents."""
_PARENT = {"case_photo": ("case_id", "case"), "case_cohandler": ("case_id", "case"),
           "case_event": ("case_id", "case"),
           "procrastinate_events": ("job_id", "procrastinate_jobs")}


@pytest.fixture(scope="module")
def tokens(engine: Engine, owner_engine: Engine) -> Iterator[dict[str, dict[str, str]]]:
    """Authorization headers per role: staff of the empty district (a code no district has, as
    in the access matrix; made in SQL, since the accounts service checks the area exists), and
    an administrator. Committed (the live server reads them), removed afterwards."""
    from gridmap.accounts import credentials

    headers, accounts = {}, []
    with engine.begin() as conn:
        for role in PREFERENCE:
            person = conn.execute(text("INSERT INTO person (name, role) VALUES (:n, 'staff') "
                                       "RETURNING id"), {"n": f"契约{role}"}).scalar_one()
            accounts.append(conn.execute(text(
                "INSERT INTO account (username, person_id, role, area_code, password_hash, "
                "must_change_password) VALUES (:u, :p, :r, :a, 'x', false) RETURNING id"),
                {"u": f"schema-{role}-{uuid.uuid4().hex[:8]}", "p": person, "r": role,
                 "a": None if role == "admin" else EMPTY_DISTRICT}).scalar_one())
            secret, digest, prefix = credentials.new_secret("gmt")
            conn.execute(text("INSERT INTO api_token (account_id, name, digest, prefix) "
                              "VALUES (:a, 'schemathesis', :d, :p)"),
                         {"a": accounts[-1], "d": digest, "p": prefix})
            headers[role] = {"Authorization": f"Bearer {secret}"}
    yield headers
    with owner_engine.begin() as conn:
        people = conn.execute(text("SELECT person_id FROM account WHERE id = ANY(:a)"),
                              {"a": accounts}).scalars().all()
        conn.execute(text("DELETE FROM api_token WHERE account_id = ANY(:a)"), {"a": accounts})
        conn.execute(text("DELETE FROM account WHERE id = ANY(:a)"), {"a": accounts})
        conn.execute(text("DELETE FROM person WHERE id = ANY(:p)"), {"p": list(people)})


def _max_ids(conn: Any) -> dict[str, int]:
    return {t: int(conn.execute(text(f'SELECT coalesce(max(id), 0) FROM "{t}"'))  # noqa: S608
                   .scalar_one())
            for t in CREATED if t not in _PARENT}


@pytest.fixture(scope="module")
def restored(owner_engine: Engine, tokens: dict[str, dict[str, str]]) -> Iterator[None]:
    """Delete whatever the run created (rows past each table's id before it)."""
    with owner_engine.connect() as conn:
        before = _max_ids(conn)
    yield
    with owner_engine.begin() as conn:
        for table in CREATED:
            if table in _PARENT:
                column, parent = _PARENT[table]
                conn.execute(text(f'DELETE FROM "{table}" WHERE {column} > :n'),  # noqa: S608 (names from CREATED)
                             {"n": before[parent]})
            elif table == "person":
                conn.execute(text("DELETE FROM person p WHERE id > :n AND NOT EXISTS "
                                  "(SELECT 1 FROM account a WHERE a.person_id = p.id)"),
                             {"n": before[table]})
            elif table == "account":
                conn.execute(text("DELETE FROM account WHERE id > :n"), {"n": before[table]})
            else:
                conn.execute(text(f'DELETE FROM "{table}" WHERE id > :n'),  # noqa: S608 (CREATED)
                             {"n": before[table]})


def _headers(operation: Any, tokens: dict[str, dict[str, str]]) -> dict[str, str]:
    roles = operation.definition.raw.get("x-gridmap-roles")
    if roles is None:
        return {}
    allowed = PREFERENCE if roles == "any account" else [r for r in PREFERENCE if r in roles]
    return tokens[allowed[0]] if allowed else {}


def _exercise(operation: Any, mode: GenerationMode, live_server: str, headers: dict[str, str],
              session: requests.Session) -> list[str]:
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[mode], deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call(base_url=live_server, session=session, headers=headers, timeout=60)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # a failure or a group: keep all
            failures.append(f"{mode}: {case.method} {case.formatted_path} "
                            f"{case.query or ''} {str(case.body)[:200] if case.body else ''}: "
                            f"{str(exc)[:1500]}")

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
        assert mode is GenerationMode.NEGATIVE, operation.label
    return failures


@pytest.mark.usefixtures("restored")
def test_every_operation_conforms_to_the_document(live_server: str,
                                                  tokens: dict[str, dict[str, str]]) -> None:
    """No 5xx and answers as documented, for every operation (a bounded number of examples)."""
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{live_server}/api/openapi.json")
    failures: list[str] = []
    operations = 0
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            for mode in EXAMPLES:
                failures += _exercise(operation, mode, live_server, _headers(operation, tokens),
                                      session)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {operations} operations in {elapsed:.0f} s")
    assert operations >= 80
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures[:40])
