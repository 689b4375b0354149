"""Background jobs: long computations started from a page or a script, run by ``gridmap worker``.

A job is a row of ``job`` (kind, owner, parameters, progress, result or error, cancel flag)
and a message on procrastinate's PostgreSQL queue that carries its id to a worker; both are
written in the same transaction, so a job exists with its message or not at all. Features say
what a kind does (a handler, wired in :mod:`gridmap.worker`) and start their kinds through
:func:`gridmap.jobs.services.jobs.start`; pages follow a job through ``/api/jobs/<id>``.
"""
