"""Streamed answers make their first chunk before the status is sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from gridmap import writers
from gridmap.web.streaming import streamed


def _failing() -> Iterator[str]:
    raise OverflowError("date value out of range")
    yield ""  # pragma: no cover - makes this a generator


def test_a_failure_in_the_first_chunk_is_raised_by_the_handler_not_mid_stream() -> None:
    with Flask(__name__).test_request_context(), pytest.raises(OverflowError):
        streamed(_failing())


def test_a_feature_collection_runs_its_query_in_the_first_chunk() -> None:
    def features() -> Iterator[str]:
        raise OverflowError("query failed")
        yield ""  # pragma: no cover

    with Flask(__name__).test_request_context(), pytest.raises(OverflowError):
        streamed(writers.feature_collection(features()))


def test_the_stream_is_whole_and_closes_its_source() -> None:
    closed: list[bool] = []

    def chunks() -> Iterator[str]:
        try:
            yield from ("a", "b", "c")
        finally:
            closed.append(True)

    with Flask(__name__).test_request_context():
        body = streamed(chunks())
    assert "".join(body) == "abc"
    assert closed == [True]
