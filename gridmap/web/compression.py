"""Response compression (flask-compress): brotli or gzip for JSON, GeoJSON, HTML, JS, CSS, CSV.

Streamed answers (a layer, an export) stay streamed: flask-compress compresses them chunk by
chunk (``COMPRESS_STREAMS``), so a whole city's buildings are never held in memory, compressed
or not. A response that already carries ``Content-Encoding`` (a vector tile, gzip-encoded once
when it is built) is left as it is, and so are images and photos (already compressed).
"""

from __future__ import annotations

from flask import Flask, Response
from flask_compress import Compress

ALGORITHMS = ["br", "gzip"]
"""In the server's order of preference when a client accepts both (brotli is ~15–20 % smaller
on GeoJSON at a similar cost at level 4)."""
MIMETYPES = [
    "application/json", "application/geo+json", "application/vnd.oai.openapi+json",
    "application/problem+json", "text/html", "text/css", "text/javascript",
    "application/javascript", "text/csv", "text/plain", "image/svg+xml",
]


def register_compression(app: Flask) -> None:
    """Compress the app's text answers for clients that accept br or gzip."""
    app.config.update(
        COMPRESS_ALGORITHM=ALGORITHMS,
        COMPRESS_ALGORITHM_STREAMING=ALGORITHMS,  # gzip too: every client reads a gzip stream
        COMPRESS_MIMETYPES=MIMETYPES,
        COMPRESS_STREAMS=True,
        COMPRESS_BR_LEVEL=4,
        # A 256 KB window and 64 KB blocks: brotli then emits output every few hundred KB of a
        # stream. With the default 4 MB window it held a whole district's buildings inside the
        # compressor and sent them in one piece at the end (measured: 1 chunk for 5.8 MB of
        # GeoJSON, against 12 chunks and a 7 % smaller body with these).
        COMPRESS_BR_WINDOW=18,
        COMPRESS_BR_BLOCK=16,
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=500,
        # Conditional requests are ours (weak ETags from data versions, see web/caching.py):
        # flask-compress would hash the whole body of every answer to make one.
        COMPRESS_EVALUATE_CONDITIONAL_REQUEST=False,
    )
    Compress(app)
    # Runs before flask-compress's hook (after_request hooks run last-registered first).
    app.after_request(_close_source_with_response)


def _close_source_with_response(response: Response) -> Response:
    """Make the server's ``close()`` reach a streamed body's source (its database cursor and
    session) also after flask-compress has wrapped the stream in a compressor."""
    close = getattr(response.response, "close", None)
    if response.is_streamed and close is not None:
        response.call_on_close(close)
    return response
