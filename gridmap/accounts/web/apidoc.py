"""OpenAPI detail of sign-in, the account page and administration (HTML forms; see
:mod:`gridmap.web.openapi`). Their answers are pages or redirects (303 after a form)."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import INTEGER, STRING, form_body, query

_SEE_OTHER = {"302": {"description": "done: to the next page"},
              "303": {"description": "done: to the next page"}}
_ROLE = {"type": "string", "enum": ["grid_worker", "community_staff", "subdistrict_staff",
                                    "district_centre", "department_staff", "planner",
                                    "data_officer", "admin"]}
_AUDIT = [query(name, STRING) for name in ("action", "target_kind", "since", "until",
                                            "username", "after")] + [
    query("target_id", INTEGER), query("actor_id", INTEGER)]


def _form(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"requestBody": form_body(properties, required), "responses": _SEE_OTHER}


OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "accounts.sign_in": {"get": {"parameters": [query("next", STRING)]},
                         "post": _form({"username": STRING, "password": STRING, "next": STRING},
                                       ("username", "password"))},
    "accounts.sign_out": {"post": {"responses": _SEE_OTHER}},
    "accounts.password": {"get": {"parameters": [query("next", STRING)]},
                          "post": _form({"current": STRING, "new": STRING, "repeat": STRING,
                                         "next": STRING}, ("current", "new", "repeat"))},
    "accounts.create_token": {"post": {**_form({"name": STRING}, ("name",)),
                                       "responses": {"201": {"description": "the new token, "
                                                             "shown once"}}}},
    "accounts.revoke_token": {"post": {"responses": _SEE_OTHER}},
    "admin.accounts": {"get": {"parameters": [query("q", STRING), query("role", STRING),
                                              query("after", STRING)]}},
    "admin.new_account": {"get": {"parameters": [query("q", STRING), query("after", STRING),
                                                 query("person_id", INTEGER)]}},
    "admin.create_account": {"post": {**_form({
        "username": STRING, "role": _ROLE, "area_code": STRING, "department_code": STRING,
        "person_id": INTEGER, "name": STRING, "phone": STRING}, ("username", "role")),
        "responses": {"201": {"description": "made: the one-time password, shown once"}}}},
    "admin.change_scope": {"post": _form({"role": _ROLE, "area_code": STRING,
                                          "department_code": STRING}, ("role",))},
    "admin.deactivate": {"post": _form({"confirm": STRING})},
    "admin.reactivate": {"post": {"responses": _SEE_OTHER}},
    "admin.reset_password": {"post": {"responses": {
        "200": {"description": "the one-time password, shown once"}}}},
    "admin.revoke_token": {"post": {"responses": _SEE_OTHER}},
    "admin.audit_log": {"get": {"parameters": _AUDIT}},
    "admin.audit_csv": {"get": {"parameters": _AUDIT}},
    "admin.create_client": {"post": {**_form({"name": STRING, "contact": STRING}, ("name",)),
                                     "responses": {"201": {"description": "the key, shown "
                                                           "once"}}}},
    "admin.revoke_client": {"post": {"responses": _SEE_OTHER}},
    "assignments.grids": {"get": {"parameters": [query("q", STRING), query("after", STRING)]}},
    "assignments.grid": {"get": {"parameters": [query("department", STRING),
                                                query("worker_q", STRING),
                                                query("staff_q", STRING)]}},
    "assignments.set_worker": {"post": _form({"person_id": INTEGER}, ("person_id",))},
    "assignments.remove_worker": {"post": {"responses": _SEE_OTHER}},
    "assignments.set_enrolment": {"post": _form({"department_code": STRING,
                                                 "person_id": INTEGER},
                                                ("department_code", "person_id"))},
    "assignments.remove_enrolment": {"post": {"responses": _SEE_OTHER}},
}
