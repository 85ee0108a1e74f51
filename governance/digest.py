"""Content digests and canonical JSON: what every provenance claim is pinned to.

Paper section 6.2, *ownership attribution*: a provenance trace is only as good as the identity of the
things it links. Every artifact is identified by its SHA-256 (FIPS 180-4) digest, and every ledger entry
is hashed over a *canonical* JSON form, so that the same content always yields the same bytes whatever
the dict order or the platform.

The canonical form follows the structural rules of RFC 8785 (JSON Canonicalization Scheme): object keys
sorted, no insignificant whitespace, UTF-8 output, strings as-is (no ``\\u`` escaping of non-ASCII). It
departs from RFC 8785 in one place, on purpose: non-finite floats are refused and finite floats are
written by Python's ``repr`` (shortest round-trip), which matches ECMAScript for the values the ledger
holds (sizes, distances, rates); a ledger never needs a float whose two spellings would differ.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

#: The digest algorithm every artifact id and ledger hash uses; written into the ledger's genesis entry
#: so a reader knows how to re-check it.
ALGORITHM = "sha256"
#: Read files in 1 MiB blocks: large checkpoints never need to fit in memory.
_BLOCK = 1 << 20


class CanonicalJSONError(ValueError):
    """A value that has no canonical JSON form (a NaN, an infinity, a non-string key, a set ...)."""


def _check(value: Any, where: str) -> None:
    # Walk the value ourselves: json.dumps would silently write NaN or coerce int keys to strings, and
    # either would make two different payloads hash the same or one payload hash two ways.
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CanonicalJSONError(f"{where}: {value!r} is not a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJSONError(f"{where}: key {key!r} is not a string")
            _check(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{where}[{i}]")
    elif value is not None and not isinstance(value, (str, int, bool)):
        raise CanonicalJSONError(f"{where}: a {type(value).__name__} has no JSON form")


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (sorted keys, no whitespace, UTF-8 characters kept)."""
    _check(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_bytes(value: Any) -> bytes:
    return canonical_json(value).encode("utf-8")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_json(value: Any) -> str:
    """SHA-256 of the canonical JSON of ``value``: the hash of a ledger entry or of a params dict."""
    return sha256_bytes(canonical_bytes(value))


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read in blocks; an unreadable file is an error naming it."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(_BLOCK):
                digest.update(block)
    except OSError as exc:
        raise OSError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def file_digest(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(SHA-256, size in bytes) of a file."""
    path = Path(path)
    sha = sha256_file(path)
    return sha, path.stat().st_size


def is_sha256(text: Any) -> bool:
    return isinstance(text, str) and len(text) == 64 and all(c in "0123456789abcdef" for c in text)
