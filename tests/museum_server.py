"""A scripted HTTP server on 127.0.0.1 for the museum-source tests, and helpers to build test data.

Each route answers with a list of scripted :class:`Reply` objects, one per request, the last one
repeating (so ``[Reply(429, ...), Reply.json(obj)]`` is "rate-limited once, then fine"), or with a
function of the request (used for paged listings). Every request is recorded with its arrival time
and headers, so tests can count what was fetched, measure intervals and check headers. The server runs
in a daemon thread on an ephemeral port (a reply can also drip its body byte by byte) and shuts itself down after ``max_lifetime_s`` even if a test
forgets to; nothing here touches the internet.
"""

from __future__ import annotations

import dataclasses
import io
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import numpy as np
from PIL import Image

from inkgen.config import CollectParams, load

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before answering: longer than the client's timeout makes it time out
    drip_s: float = 0.0  # send the body one byte at a time, this long apart (a slow-drip server)

    @classmethod
    def json(cls, obj: Any, status: int = 200, **kwargs: Any) -> "Reply":
        return cls(status, json.dumps(obj).encode(), {"Content-Type": "application/json"}, **kwargs)

    @classmethod
    def image(cls, data: bytes, content_type: str = "image/jpeg") -> "Reply":
        return cls(200, data, {"Content-Type": content_type})


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


Handler = Callable[[Seen], Reply]


class MuseumServer:
    def __init__(self, max_lifetime_s: float = 30.0):
        self.routes: dict[str, list[Reply] | Handler] = {}
        self.requests: list[Seen] = []
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._watchdog = threading.Timer(max_lifetime_s, self._httpd.shutdown)
        self._watchdog.daemon = True

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply | Handler) -> None:
        if len(replies) == 1 and callable(replies[0]):
            self.routes[path] = replies[0]
        else:
            self.routes[path] = list(replies)

    def paths(self) -> list[str]:
        with self._lock:
            return [seen.path for seen in self.requests]

    def count(self, path: str) -> int:
        return self.paths().count(path)

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def __enter__(self) -> "MuseumServer":
        self._thread.start()
        self._watchdog.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._watchdog.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            route = self.routes.get(seen.path)
            if route is None:
                return Reply.json({"error": f"no route {seen.path}"}, status=404)
            if callable(route):
                return route(seen)
            index = self._served.get(seen.path, 0)
            self._served[seen.path] = index + 1
            return route[min(index, len(route) - 1)]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                parts = urlsplit(self.path)
                seen = Seen(parts.path, parse_qs(parts.query), dict(self.headers.items()), time.monotonic())
                reply = server._answer(seen)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.drip_s:
                        for i in range(len(reply.body)):
                            self.wfile.write(reply.body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(reply.drip_s)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout); nothing to deliver

            def log_message(self, *args: Any) -> None:
                pass

        return _Handler


class RecordingSleep:
    """An injectable ``sleep`` that records the delays asked for and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    def backoffs(self, at_least: float = 0.01) -> list[float]:
        """The delays that were backoffs, not the rate limiter's sub-millisecond waits."""
        return [s for s in self.calls if s >= at_least]


# ------------------------------------------------------------------------------------------ test data
def image_bytes(size: tuple[int, int] = (24, 16), colour: tuple[int, ...] = (40, 40, 40), fmt: str = "PNG",
                mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, format=fmt)
    return buf.getvalue()


def noisy_jpeg(size: tuple[int, int] = (64, 64), seed: int = 0) -> bytes:
    pixels = (np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG")
    return buf.getvalue()


HTML_ERROR = b"<!DOCTYPE html><html><body><h1>Service temporarily unavailable</h1></body></html>"


def collect_params(source: str, base_url: str, **museum: Any) -> CollectParams:
    """The repository's collect params pointed at the local server; ``museum`` overrides museum keys."""
    collect = load(ROOT / "params.yaml").collect
    urls = {"met_url": f"{base_url}/met", "cleveland_url": f"{base_url}/cma", "aic_url": f"{base_url}/aic",
            "aic_image_url": f"{base_url}/iiif"}
    defaults = {"timeout_s": 2.0, "retries": 2, "backoff_s": 0.01, "rate_per_s": 80.0, "max_items": 50,
                "user_agent": "inkgen-tests/1.0 (loopback)"}
    museum_params = dataclasses.replace(collect.museum, **{**urls, **defaults, **museum})
    return dataclasses.replace(collect, source=source, n_images=100, museum=museum_params)
