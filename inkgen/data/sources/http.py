"""A polite, resumable HTTP client for the museum sources, built on ``requests.Session``.

* **Timeout** on every socket operation (``museum.timeout_s``), so a stalled server cannot hang the
  stage, and an overall **deadline** per attempt (``deadline_s``, by default
  ``timeout_s * DEADLINE_FACTOR``, i.e. 60 s for the default 20 s): a server that drips its body a few
  bytes at a time never trips the per-read timeout, so the body is read with ``read1`` (one socket read
  at a time) and the deadline is checked between reads. An attempt therefore ends at most one
  ``timeout_s`` after its deadline, and fails as ``timeout`` (retried like any timeout).
* **Retries** with exponential backoff (``backoff_s * 2**attempt``) on 429, 5xx, connection errors and
  timeouts; a ``Retry-After`` header (seconds or an HTTP date, RFC 9110 section 10.2.3) replaces the
  computed delay. Other statuses (404, 403, ...) are final at once, and so is a URL that can never work
  (no scheme, a scheme other than http(s), no host: ``invalid_url``).
* **Rate limit**: one request start per ``1 / rate_per_s`` seconds for the whole client; a source
  makes one client, so search, detail and image requests share the budget. The Met asks for at most
  80 requests/s (https://metmuseum.github.io/), the Art Institute of Chicago allows 60/min anonymous
  (https://api.artic.edu/docs/#authentication); the caller passes the lower of that and the params.
* **Identification**: a ``User-Agent`` on every request, plus any extra headers a source needs
  (the AIC asks for ``AIC-User-Agent``).
* **On-disk cache** under ``paths.http_cache``, keyed by the full URL: a re-run, also one after an
  interruption, fetches only what is missing. Entries are written atomically (temporary file, then
  ``os.replace``), so an interrupted write never leaves a half entry behind. Only successful responses
  are cached, JSON only once it parses, and images (:meth:`HttpClient.get_image`) only when the server
  calls them ``image/*`` (an HTML error page sent with status 200 is not kept), so transient failures
  are tried again next time. A caller that finds a cached body unusable (intake refused the image)
  drops it with :meth:`HttpClient.evict`, so a re-run fetches it again instead of refusing it forever.

Every failure raises :class:`FetchError`, which names the URL and the reason (HTTP status, timeout,
connection error, malformed JSON with its position) and keeps the response body when there was one.
``sleep`` and ``clock`` are injectable so that tests exercise backoff without waiting.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import requests
import urllib3

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 300.0  # a server asking for longer than this is treated as down, not waited for
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # larger bodies are refused while streaming, before buffering
DEADLINE_FACTOR = 3.0  # the default whole-attempt deadline is this many times the per-read timeout
READ_CHUNK = 1 << 16
#: Request errors that no retry can mend: the URL itself is unusable.
PERMANENT_ERRORS = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema, requests.exceptions.URLRequired)


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class FetchError(RuntimeError):
    """A request that failed for good. ``kind`` is a short token (``http_404``, ``timeout``, ...)."""

    def __init__(self, url: str, reason: str, kind: str, *, status: int | None = None,
                 body: bytes | None = None):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.kind = kind
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Fetched:
    """A successful response: from the network or the cache. ``data`` holds parsed JSON when asked."""

    url: str
    body: bytes
    content_type: str
    retrieved_at: str  # when the server sent it (UTC ISO); a cache hit keeps the original time
    from_cache: bool
    data: Any = None


@dataclass
class HttpStats:
    requests: int = 0  # attempts that reached the network, retries included
    cache_hits: int = 0
    retries: int = 0


def parse_json(url: str, body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FetchError(url, f"malformed JSON: not UTF-8 at byte {exc.start}", "malformed_json",
                         body=body) from exc
    except json.JSONDecodeError as exc:
        raise FetchError(url, f"malformed JSON at line {exc.lineno} column {exc.colno} (char {exc.pos}): "
                              f"{exc.msg}", "malformed_json", body=body) from exc


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class ResponseCache:
    """Response bodies on disk, one file per URL (SHA-256 of the URL) plus a small JSON sidecar."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        folder = self.root / key[:2]
        return folder / f"{key}.body", folder / f"{key}.json"

    def get(self, url: str) -> Fetched | None:
        body_path, meta_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if meta.get("url") != url or meta.get("sha256") != hashlib.sha256(body).hexdigest():
            return None  # a damaged or foreign entry counts as missing and is fetched again
        return Fetched(url=url, body=body, content_type=meta.get("content_type", ""),
                       retrieved_at=meta["retrieved_at"], from_cache=True)

    def evict(self, url: str) -> bool:
        """Remove the entry for ``url`` (sidecar first, so no half entry reads as valid); True if there was one."""
        body_path, meta_path = self._paths(url)
        existed = meta_path.exists()
        meta_path.unlink(missing_ok=True)
        body_path.unlink(missing_ok=True)
        return existed

    def put(self, fetched: Fetched) -> None:
        body_path, meta_path = self._paths(fetched.url)
        body_path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"url": fetched.url, "content_type": fetched.content_type,
                "retrieved_at": fetched.retrieved_at, "sha256": hashlib.sha256(fetched.body).hexdigest()}
        # Body first, sidecar last: an entry exists only once its sidecar does, and the sidecar checks
        # the body's hash, so an interruption between the two writes leaves nothing that reads as valid.
        _atomic_write(body_path, fetched.body)
        _atomic_write(meta_path, json.dumps(meta, sort_keys=True).encode("utf-8"))


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class HttpClient:
    """GET with timeout, retries, rate limit, identifying headers and an on-disk cache."""

    def __init__(self, *, user_agent: str, timeout_s: float, retries: int, backoff_s: float,
                 rate_per_s: float, cache_dir: str | Path | None = None,
                 headers: Mapping[str, str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                 deadline_s: float | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 session: requests.Session | None = None):
        """``deadline_s`` bounds one whole attempt (connect, headers, body); None: ``timeout_s * DEADLINE_FACTOR``.

        ``clock`` and ``sleep`` drive the rate limiter and backoff (tests inject them); the deadline is
        measured with the real ``time.monotonic``, because the socket timeouts it adds to are real too.
        """
        if rate_per_s <= 0 or retries < 0:
            raise ValueError(f"need rate_per_s > 0 and retries >= 0, got {rate_per_s}, {retries}")
        self.timeout_s = timeout_s
        self.deadline_s = timeout_s * DEADLINE_FACTOR if deadline_s is None else deadline_s
        if self.deadline_s <= 0:
            raise ValueError(f"need deadline_s > 0, got {self.deadline_s}")
        self.retries = retries
        self.backoff_s = backoff_s
        self.min_interval_s = 1.0 / rate_per_s
        self.max_bytes = max_bytes
        self.cache = ResponseCache(cache_dir) if cache_dir is not None else None
        self.stats = HttpStats()
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._next_start = float("-inf")
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.headers.update(headers or {})

    # -- public
    def get(self, url: str, params: Mapping[str, Any] | None = None, *, parse: bool = False,
            image: bool = False) -> Fetched:
        """The body at ``url`` (with ``params`` encoded into it); ``parse`` also decodes JSON into ``data``.

        ``image``: the body is meant to be an image, so it is cached only when its ``Content-Type`` is
        ``image/*`` (it is returned either way; intake decides what it is).
        Raises :class:`FetchError` when the request fails after its retries, or the JSON is malformed.
        """
        full = self.full_url(url, params)
        if self.cache is not None:
            hit = self.cache.get(full)
            if hit is not None:
                self.stats.cache_hits += 1
                return replace(hit, data=parse_json(full, hit.body)) if parse else hit
        fetched = self._fetch(full)
        if parse:
            fetched = replace(fetched, data=parse_json(full, fetched.body))
        if self.cache is not None and (not image or is_image_type(fetched.content_type)):
            self.cache.put(fetched)
        return fetched

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Fetched:
        return self.get(url, params, parse=True)

    def get_image(self, url: str, params: Mapping[str, Any] | None = None) -> Fetched:
        """Like :meth:`get`, but a response that does not say ``image/*`` is not cached."""
        return self.get(url, params, image=True)

    def evict(self, url: str, params: Mapping[str, Any] | None = None) -> bool:
        """Drop the cached response for ``url`` (the caller found it unusable); True if one was cached."""
        return self.cache.evict(self.full_url(url, params)) if self.cache is not None else False

    @staticmethod
    def full_url(url: str, params: Mapping[str, Any] | None = None) -> str:
        """The URL exactly as requested: the cache key, and what error messages name."""
        if not params:
            return url
        return requests.Request("GET", url, params=dict(params)).prepare().url

    def close(self) -> None:
        self.session.close()

    # -- internals
    def _throttle(self) -> None:
        with self._lock:
            now = self._clock()
            wait = self._next_start - now
            if wait > 0:
                self._sleep(wait)
                now += wait
            self._next_start = now + self.min_interval_s

    def _fetch(self, url: str) -> Fetched:
        attempts = self.retries + 1
        attempt = 0
        while True:
            self._throttle()
            self.stats.requests += 1
            status = body = retry_after = None
            deadline = time.monotonic() + self.deadline_s
            try:
                with self.session.get(url, timeout=self.timeout_s, stream=True) as response:
                    status = response.status_code
                    body = self._read(url, response, deadline)
                    if status == 200:
                        return Fetched(url=url, body=body, from_cache=False, retrieved_at=utc_now_iso(),
                                       content_type=response.headers.get("Content-Type", ""))
                    reason, kind = f"HTTP {status} {response.reason or ''}".rstrip(), f"http_{status}"
                    if status not in RETRY_STATUSES and status < 500:
                        raise FetchError(url, reason, kind, status=status, body=body)
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            except PERMANENT_ERRORS as exc:
                raise FetchError(url, f"unusable URL, not retried: {exc.__class__.__name__} ({exc})",
                                 "invalid_url") from exc
            except _DeadlineExceeded:
                reason, kind = (f"timeout: no complete response within the {self.deadline_s:g} s deadline",
                                "timeout")
            except requests.Timeout:
                reason, kind = f"timeout after {self.timeout_s:g} s", "timeout"
            except requests.ConnectionError as exc:
                # requests reports a read timeout in the middle of a body as a ConnectionError too
                timed_out = "timed out" in str(exc).lower()
                reason = f"timeout after {self.timeout_s:g} s" if timed_out else f"connection error ({exc})"
                kind = "timeout" if timed_out else "connection"
            except requests.RequestException as exc:
                reason, kind = f"{exc.__class__.__name__} ({exc})", "connection"
            if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
                raise FetchError(url, f"{reason}; Retry-After {retry_after:g} s is longer than "
                                      f"{MAX_RETRY_AFTER_S:g} s", kind, status=status, body=body)
            if attempt + 1 == attempts:
                raise FetchError(url, f"{reason} (gave up after {attempts} attempt(s))", kind,
                                 status=status, body=body)
            self.stats.retries += 1
            self._sleep(retry_after if retry_after is not None else self.backoff_s * 2 ** attempt)
            attempt += 1

    def _read(self, url: str, response: requests.Response, deadline: float) -> bytes:
        if time.monotonic() > deadline:
            raise _DeadlineExceeded
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(url, f"response of {int(declared):,} bytes exceeds {self.max_bytes:,}",
                             "too_large", status=response.status_code)
        chunks, size = [], 0
        for chunk in _body_chunks(response):
            if time.monotonic() > deadline:
                raise _DeadlineExceeded
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(url, f"response exceeds {self.max_bytes:,} bytes", "too_large",
                                 status=response.status_code)
            chunks.append(chunk)
        return b"".join(chunks)


class _DeadlineExceeded(Exception):
    """One attempt ran past :attr:`HttpClient.deadline_s` (a server dripping its body)."""


def is_image_type(content_type: str) -> bool:
    """Whether a ``Content-Type`` header names an image (``image/jpeg; charset=...`` included)."""
    return content_type.split(";", 1)[0].strip().lower().startswith("image/")


def _body_chunks(response: requests.Response):
    """The body as it arrives: each chunk is at most one socket read, so a deadline can be checked between.

    ``iter_content`` asks for a fixed number of bytes and blocks until they have all arrived, however
    slowly; ``read1`` returns what one read brings. urllib3's errors are mapped onto the ``requests``
    exceptions that ``iter_content`` would raise.
    """
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    if read1 is None:  # urllib3 1.x has no read1; fall back to small fixed reads
        yield from response.iter_content(chunk_size=4096)
        return
    while True:
        try:
            chunk = read1(READ_CHUNK, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except urllib3.exceptions.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.exceptions.ConnectionError(exc) from exc
        if not chunk:
            return
        yield chunk
