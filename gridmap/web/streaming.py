"""Streamed answers (CSV, GeoJSON) that fail before their status is sent, not halfway through."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import stream_with_context


class _Primed:
    """An iterator whose first item was produced at construction; closing it closes the source."""

    def __init__(self, chunks: Iterator[Any]) -> None:
        self._chunks = chunks
        self._first: list[Any] = []
        try:
            self._first.append(next(chunks))
        except StopIteration:
            pass
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> _Primed:
        return self

    def __next__(self) -> Any:
        if self._first:
            return self._first.pop()
        return next(self._chunks)

    def close(self) -> None:
        """Release what the source holds (a session, a server-side cursor)."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


def streamed(chunks: Iterator[Any]) -> Iterator[Any]:
    """``chunks`` for a streamed response, its first chunk already made.

    The first chunk runs the query and whatever checks the producer makes, while the request can
    still be answered with an error (a 400 names the parameter; a 200 is never cut off by a
    failure there). Call it after every parameter has been parsed.
    """
    return stream_with_context(_Primed(chunks))
