"""Jobs over HTTP: starting a coverage compute, watching it, cancelling it, and who may do what.

Every write joins the test's transaction (the ``tx`` fixture), so the job rows and their queue
messages are rolled back; no worker runs here (tests/db/jobs runs real ones).
"""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import Connection, text

TYPE, CIRCLE = "elder_care_station", "15min"


def _start(api: FlaskClient, headers: dict[str, str], body: dict[str, object]):
    return api.post("/api/coverage/jobs", json=body, headers=headers)


def test_a_planner_starts_a_compute_and_its_queue_message_is_written_with_it(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> None:
    planner = login("planner", area="210103")
    answer = _start(api, planner, {"type": TYPE, "circle": CIRCLE})
    assert answer.status_code == 202, answer.get_json()
    job = answer.get_json()["job"]
    assert answer.get_json()["created"] is True
    assert answer.headers["Location"] == f"/api/jobs/{job['id']}"
    assert (job["kind"], job["state"], job["progress"]) == ("coverage.compute", "queued", 0.0)
    assert job["params"] == {"facility_type": TYPE, "circle": CIRCLE}
    assert job["may_cancel"] is True and job["finished"] is False
    queued = tx.execute(text(
        "SELECT q.task_name, q.queue_name, q.args->>'job_id', q.status FROM job j "
        "JOIN procrastinate_jobs q ON q.id = j.queue_job_id WHERE j.id = :id"),
        {"id": job["id"]}).one()
    assert tuple(queued) == ("gridmap.run_job", "gridmap", str(job["id"]), "todo")


def test_starting_the_same_compute_again_joins_the_job_under_way(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> None:
    first = _start(api, login("planner"), {"all": True}).get_json()["job"]
    again = _start(api, login("data_officer"), {"all": True})
    assert again.status_code == 200
    assert again.get_json() == {"job": {**first, "may_cancel": False}, "created": False}
    count = tx.execute(text("SELECT count(*) FROM job WHERE kind = 'coverage.compute_all' "
                            "AND state IN ('queued', 'running')")).scalar_one()
    assert count == 1


def test_who_may_start_watch_and_cancel(api: FlaskClient,
                                        login: Callable[..., dict[str, str]]) -> None:
    owner = login("planner")
    job = _start(api, owner, {"type": TYPE, "circle": CIRCLE}).get_json()["job"]
    path = f"/api/jobs/{job['id']}"
    # Community staff read coverage: they watch the city's compute, without a cancel button.
    community = login("community_staff", area="210103005003")
    watched = api.get(path, headers=community)
    assert watched.status_code == 200 and watched.get_json()["job"]["may_cancel"] is False
    assert _start(api, community, {"all": True}).status_code == 403
    assert api.post(f"{path}/cancel", headers=community).status_code == 403
    # Grid workers do not read coverage: the job does not exist for them.
    worker = login("grid_worker")
    assert api.get(path, headers=worker).status_code == 404
    assert api.post(f"{path}/cancel", headers=worker).status_code == 404
    assert api.get("/api/coverage/jobs", headers=worker).status_code == 403
    # The public is asked to sign in.
    assert api.get(path).status_code == 401
    assert api.get("/api/coverage/jobs").status_code == 401
    # Another planner watches but may not cancel; an administrator may.
    assert api.post(f"{path}/cancel", headers=login("planner")).status_code == 403
    cancelled = api.post(f"{path}/cancel", headers=login("admin"))
    assert cancelled.status_code == 200
    assert cancelled.get_json()["job"]["state"] == "cancelled"


def test_cancelling_a_waiting_job_cancels_its_queue_message_too(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> None:
    owner = login("planner")
    job = _start(api, owner, {"type": TYPE, "circle": CIRCLE}).get_json()["job"]
    answer = api.post(f"/api/jobs/{job['id']}/cancel", headers=owner).get_json()["job"]
    assert (answer["state"], answer["finished"], answer["may_cancel"]) == ("cancelled", True,
                                                                          False)
    status = tx.execute(text("SELECT q.status FROM job j JOIN procrastinate_jobs q "
                             "ON q.id = j.queue_job_id WHERE j.id = :id"),
                        {"id": job["id"]}).scalar_one()
    assert status == "cancelled"
    # Cancelling a finished job changes nothing; a new compute of the rule may start.
    assert api.post(f"/api/jobs/{job['id']}/cancel",
                    headers=owner).get_json()["job"]["state"] == "cancelled"
    assert _start(api, owner, {"type": TYPE, "circle": CIRCLE}).status_code == 202


def test_lists_show_what_one_may_watch(api: FlaskClient,
                                       login: Callable[..., dict[str, str]]) -> None:
    planner = login("planner")
    job = _start(api, planner, {"type": TYPE, "circle": CIRCLE}).get_json()["job"]
    active = api.get("/api/coverage/jobs?active=1", headers=planner).get_json()["jobs"]
    assert job["id"] in [j["id"] for j in active]
    mine = api.get("/api/jobs", headers=planner).get_json()["jobs"]
    assert job["id"] in [j["id"] for j in mine]
    api.post(f"/api/jobs/{job['id']}/cancel", headers=planner)
    active = api.get("/api/coverage/jobs?active=1", headers=planner).get_json()["jobs"]
    assert job["id"] not in [j["id"] for j in active]
    # A department's staff member watches no coverage compute.
    staff = api.get("/api/jobs", headers=login("department_staff", department="housing"))
    assert job["id"] not in [j["id"] for j in staff.get_json()["jobs"]]


def test_a_compute_of_a_rule_that_does_not_exist_is_refused(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> None:
    planner = login("planner")
    before = tx.execute(text("SELECT count(*) FROM job")).scalar_one()
    for body in ({"type": "no_such_type", "circle": CIRCLE}, {"type": TYPE}, {},
                 {"all": "maybe"}, ["all"]):
        answer = _start(api, planner, body)
        assert answer.status_code == 400, (body, answer.get_json())
        assert answer.get_json()["error"]["message"]
    assert tx.execute(text("SELECT count(*) FROM job")).scalar_one() == before


def test_a_district_siting_runs_as_the_planners_own_job(
        api: FlaskClient, login: Callable[..., dict[str, str]]) -> None:
    planner = login("planner", area="210103")
    body = {"type": TYPE, "circle": CIRCLE, "area": "210103", "k": 3, "background": True}
    answer = api.post("/api/coverage/siting", json=body, headers=planner)
    assert answer.status_code == 202, answer.get_json()
    job = answer.get_json()["job"]
    assert job["kind"] == "coverage.site" and job["params"]["area"] == "210103"
    assert answer.headers["Location"] == f"/api/jobs/{job['id']}"
    # One at a time per planner, as in a request.
    again = api.post("/api/coverage/siting", json=body, headers=planner)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "planning_running"
    # Outside the planner's district, or not a planner: refused before anything is queued.
    outside = api.post("/api/coverage/siting", json={**body, "area": "210104"},
                       headers=login("planner", area="210103"))
    assert outside.status_code == 403
    assert api.post("/api/coverage/siting", json=body,
                    headers=login("data_officer")).status_code == 403
    # Only the planner (and administrators) watch it.
    path = f"/api/jobs/{job['id']}"
    assert api.get(path, headers=login("planner", area="210103")).status_code == 404
    assert api.get(path, headers=login("community_staff",
                                       area="210103005003")).status_code == 404
    assert api.get(path, headers=planner).status_code == 200
