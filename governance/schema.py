"""What each ledger entry kind must hold, so that a damaged or forged payload is named, never a crash.

``governance verify`` reads ledgers it did not write. A payload without ``sha256``, with a number where a
path belongs or a path that climbs out of the project (``../../etc/passwd``) is reported as *malformed*
with the field and the reason, and left out of the checks that would trust it.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Callable

from governance.digest import is_sha256
from governance.ledger import Entry


def _path(v: Any) -> bool:
    if not isinstance(v, str) or not v:
        return False
    p = PurePosixPath(v)
    return not p.is_absolute() and ".." not in p.parts and "\\" not in v


def _image_path(v: Any) -> bool:
    """A generated image's path: relative inside the project, or absolute (normalised, no ``..``) for an image
    asked for outside it (``inkgen generate --out ~/x.png``; ``governance.provenance.recorded_path``)."""
    if isinstance(v, str) and v and PurePosixPath(v).is_absolute():
        return ".." not in PurePosixPath(v).parts and "\\" not in v
    return _path(v)


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _list(v: Any) -> bool:
    return isinstance(v, list)


def _dict(v: Any) -> bool:
    return isinstance(v, dict)


def _files(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(r, list) and len(r) == 3 and _path(r[0]) and is_sha256(r[1])
                                       and isinstance(r[2], int) for r in v)


_SHA: Callable[[Any], bool] = is_sha256
#: kind -> {field: (check, what it must be)}
FIELDS: dict[str, dict[str, tuple[Callable[[Any], bool], str]]] = {
    "artifact": {"path": (_path, "a relative path inside the project"), "sha256": (_SHA, "a SHA-256 hex digest"),
                 "type": (lambda v: v in ("file", "tree"), "'file' or 'tree'"), "derived_from": (_list, "a list"),
                 "attributes": (_dict, "an object")},
    "generation": {"provenance_id": (_str, "text"),
                   "path": (_image_path, "a relative path inside the project, or a normalised absolute one"),
                   "sha256": (_SHA, "a SHA-256 hex digest"), "status": (lambda v: v in ("released", "held"),
                                                                         "'released' or 'held'"),
                   "held_for": (_list, "a list"), "embedded_head": (_SHA, "a SHA-256 hex digest"),
                   "checkpoint_sha256": (_SHA, "a SHA-256 hex digest"), "release_path": (_image_path, "a relative or normalised absolute path"),
                   "decision": (_dict, "an object"), "prompt": (_str, "text"), "copyright": (_dict, "an object")},
    "review_request": {"provenance_id": (_str, "text"), "path": (_path, "a relative path"), "motifs": (_list, "a list")},
    "review_decision": {"provenance_id": (_str, "text"), "consultant": (_str, "text"),
                        "decision": (lambda v: v in ("approve", "reject"), "'approve' or 'reject'"),
                        "rationale": (_str, "text"), "decided_at": (_str, "text")},
    "stage": {"name": (_str, "text"), "inputs": (_list, "a list"), "outputs": (_list, "a list"),
              "params_sha256": (_SHA, "a SHA-256 hex digest")},
    "source_record": {"item_id": (_str, "text"), "license": (_str, "text"), "sha256": (_SHA, "a SHA-256 hex digest")},
    "prompt_decision": {"prompt": (_str, "text"), "decision": (_dict, "an object")},
}


def payload_problem(entry: Entry) -> str | None:
    """Why ``entry``'s payload cannot be trusted by the checks (None when it is well formed)."""
    rules = FIELDS.get(entry.kind, {})
    bad = [f"{name} missing" if name not in entry.payload else f"{name} is not {what}"
           for name, (ok, what) in rules.items() if name not in entry.payload or not ok(entry.payload[name])]
    if entry.kind == "artifact" and not bad and entry.payload["type"] == "tree" and not _files(entry.payload.get("files")):
        bad.append("files is not a list of [path, sha256, size]")
    if entry.kind == "generation" and not bad and not isinstance(entry.payload["decision"].get("action"), str):
        bad.append("decision.action missing")
    if entry.kind == "prompt_decision" and not bad and not isinstance(entry.payload["decision"].get("action"), str):
        bad.append("decision.action missing")
    return "; ".join(bad) or None


def split_well_formed(entries: list[Entry]) -> tuple[list[Entry], list[tuple[Entry, str]]]:
    """(well-formed entries, [(malformed entry, why)])."""
    good, bad = [], []
    for e in entries:
        why = payload_problem(e)
        (bad.append((e, why)) if why else good.append(e))
    return good, bad
