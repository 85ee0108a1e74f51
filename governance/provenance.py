"""Provenance records: artifacts, source records with their licences, pipeline stages, and lineage.

Paper section 6.2, *ownership attribution*: "a provenance tracing mechanism was developed to
cross-reference training samples". Here every artifact the study reads or writes (raw and curated images,
manifests, checkpoints, generated images, reports) is entered in the ledger by SHA-256, size and path
relative to the ledger root; every source record with its licence and URL; every pipeline stage with its
inputs, params and outputs. :func:`lineage` walks those links back from any artifact (a generated image
→ its checkpoint → the training manifest → the source records and their licences), which is what the
reviewer's report prints and what the W3C PROV export (:mod:`governance.prov_export`) encodes.

Entry kinds written here::

    artifact       {path, type: file|tree, sha256, size, role, derived_from: [sha256], sources: [item_id],
                    attributes, files (tree only): [[relpath, sha256, size], ...]}
    source_record  {item_id, license, sha256, url, source, title, holder, file}
    stage          {name, params, params_sha256, inputs: [{path, sha256}], outputs: [{path, sha256}]}

A folder is recorded as one *tree* artifact whose digest is the SHA-256 of the canonical list of its
files' (relative path, SHA-256, size); the list itself is kept so that verification can name the file
that changed.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from governance.digest import file_digest, is_sha256, sha256_json
from governance.ledger import Entry, Ledger, LedgerError

#: Fields a source record must have, and the ones it may have; anything else is refused so a typo in a
#: caller never silently drops a licence.
SOURCE_REQUIRED = ("item_id", "license", "sha256")
SOURCE_OPTIONAL = ("url", "source", "title", "holder", "file", "object_url")


class ProvenanceError(ValueError):
    """A record that cannot be entered (bad path, missing licence ...); the message names it."""


def relative_path(ledger: Ledger, path: str | os.PathLike[str]) -> str:
    """``path`` relative to the ledger root, POSIX-style; a path outside the root is refused."""
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(ledger.root).as_posix()
    except ValueError:
        raise ProvenanceError(f"{path}: outside the ledger root {ledger.root}") from None


def recorded_path(ledger: Ledger, path: str | os.PathLike[str]) -> str:
    """How a generated image's path is recorded: relative to the ledger root inside it (the ledger moves with
    the project), absolute POSIX outside it (an image someone asked for at ``~/x.png`` stays verifiable on
    this machine; ``root / path`` resolves both)."""
    absolute = Path(path).expanduser().resolve()
    try:
        return absolute.relative_to(ledger.root).as_posix()
    except ValueError:
        return absolute.as_posix()


def tree_listing(folder: Path) -> list[list[Any]]:
    """[[relative path, sha256, size], ...] for every file under ``folder``, sorted by path."""
    rows = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        sha, size = file_digest(file)
        rows.append([file.relative_to(folder).as_posix(), sha, size])
    return rows


def _digest_of(path: Path) -> dict[str, Any]:
    if path.is_dir():
        files = tree_listing(path)
        return {"type": "tree", "sha256": sha256_json(files), "size": sum(r[2] for r in files), "files": files}
    if path.is_file():
        sha, size = file_digest(path)
        return {"type": "file", "sha256": sha, "size": size}
    raise ProvenanceError(f"{path}: no such file or folder")


def _shas(items: Iterable[Any]) -> list[str]:
    out = []
    for item in items:
        sha = item.payload.get("sha256") if isinstance(item, Entry) else item
        if not is_sha256(sha):
            raise ProvenanceError(f"derived_from: {item!r} is not a SHA-256 hex digest or an artifact entry")
        out.append(sha)
    return out


def record_artifact(ledger: Ledger, path: str | os.PathLike[str], role: str, *,
                    derived_from: Iterable[Any] = (), sources: Iterable[str] = (),
                    attributes: Mapping[str, Any] | None = None) -> Entry:
    """Hash ``path`` (a file or a folder) and enter it with its ``role`` (e.g. ``checkpoint``).

    ``derived_from``: SHA-256 digests (or artifact entries) it was made from, e.g. a checkpoint from its
    training manifest. ``sources``: item ids of source records it contains, e.g. a manifest's rows.
    """
    return _append_artifact(ledger, path, role, _digest_of(Path(path)), derived_from, sources, attributes)


def _append_artifact(ledger: Ledger, path: str | os.PathLike[str], role: str, digest: dict[str, Any],
                     derived_from: Iterable[Any] = (), sources: Iterable[str] = (),
                     attributes: Mapping[str, Any] | None = None) -> Entry:
    if not role or not isinstance(role, str):
        raise ProvenanceError(f"{path}: an artifact needs a role")
    payload = {"path": relative_path(ledger, path), "role": role, "derived_from": _shas(derived_from),
               "sources": sorted({str(s) for s in sources}), "attributes": dict(attributes or {}), **digest}
    return ledger.append("artifact", payload)


def record_source_records(ledger: Ledger, records: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """Enter source records (one entry each): item id, licence, SHA-256 of the source image, URL ...

    Every record is checked before any is written, so a bad batch leaves the ledger untouched.
    """
    payloads = []
    for n, record in enumerate(records, 1):
        item = record.get("item_id", f"record #{n}")
        missing = [k for k in SOURCE_REQUIRED if not record.get(k)]
        if missing:
            raise ProvenanceError(f"source record {item}: missing {', '.join(missing)}")
        if not is_sha256(record["sha256"]):
            raise ProvenanceError(f"source record {item}: sha256 {record['sha256']!r} is not a SHA-256 digest")
        payloads.append({k: record.get(k) for k in SOURCE_REQUIRED + SOURCE_OPTIONAL})
    return [ledger.append("source_record", p) for p in payloads]


def read_records_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Source records from a ``records.jsonl`` file (extra fields are dropped, missing ones checked)."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ProvenanceError(f"{path} line {lineno}: not JSON ({exc.msg})") from None
            rows.append({k: data.get(k) for k in SOURCE_REQUIRED + SOURCE_OPTIONAL})
    return rows


def item_ids_from_csv(path: str | os.PathLike[str], column: str) -> list[str]:
    """The ``column`` of a CSV (e.g. a training manifest's ``item_id``) for an artifact's ``sources``."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if column not in (reader.fieldnames or []):
            raise ProvenanceError(f"{path}: no column {column!r} (columns: {reader.fieldnames})")
        return [row[column] for row in reader]


def record_stage(ledger: Ledger, name: str, inputs: Iterable[str | os.PathLike[str]], params: Mapping[str, Any],
                 outputs: Iterable[str | os.PathLike[str]], *, roles: Mapping[str, str] | None = None) -> Entry:
    """Enter a pipeline stage: each input and output is hashed and recorded (unless the ledger already
    holds the same path with the same digest), then one ``stage`` entry links them with the params.

    ``roles`` maps a path (as given) to its artifact role; the default role is ``input``/``output``.
    """
    roles = dict(roles or {})
    latest = latest_artifacts(ledger)
    linked = {}
    for side in ("inputs", "outputs"):
        linked[side] = []
        for path in (inputs if side == "inputs" else outputs):
            rel = relative_path(ledger, path)
            digest = _digest_of(Path(path))
            known = latest.get(rel)
            if known is None or known.payload["sha256"] != digest["sha256"]:
                _append_artifact(ledger, path, roles.get(str(path), side[:-1]), digest, attributes={"stage": name})
            linked[side].append({"path": rel, "sha256": digest["sha256"]})
    payload = {"name": name, "params": dict(params), "params_sha256": sha256_json(dict(params)), **linked}
    return ledger.append("stage", payload)


def latest_artifacts(ledger: Ledger | Iterable[Entry]) -> dict[str, Entry]:
    """The most recent artifact-bearing entry (``artifact`` or ``generation``) per path."""
    entries = ledger.entries() if isinstance(ledger, Ledger) else ledger
    return {e.payload["path"]: e for e in entries
            if e.kind in ("artifact", "generation") and "path" in e.payload}


@dataclass
class Lineage:
    """What an artifact was made from: the chain of artifacts and stages, and the source records."""

    start: str
    artifacts: list[dict[str, Any]] = field(default_factory=list)   # {path, role, sha256}
    stages: list[dict[str, Any]] = field(default_factory=list)      # {name, params_sha256}
    sources: list[dict[str, Any]] = field(default_factory=list)     # source_record payloads
    missing_sources: list[str] = field(default_factory=list)        # item ids with no source_record

    @property
    def licences(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.sources:
            counts[s["license"]] = counts.get(s["license"], 0) + 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "artifacts": self.artifacts, "stages": self.stages,
                "sources": self.sources, "missing_sources": self.missing_sources, "licences": self.licences}


class ProvenanceGraph:
    """The links of a ledger, indexed once, so that many lineages (one per output in a report) are cheap."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.by_sha: dict[str, Entry] = {}
        self.producing: dict[str, Entry] = {}
        self.records: dict[str, dict[str, Any]] = {}
        for e in entries:  # later entries win: the ledger's latest word about a digest
            if e.kind in ("artifact", "generation"):
                self.by_sha[e.payload["sha256"]] = e
            elif e.kind == "stage":
                for out in e.payload["outputs"]:
                    self.producing[out["sha256"]] = e
            elif e.kind == "source_record":
                self.records[e.payload["item_id"]] = e.payload

    def lineage(self, sha256: str) -> Lineage:
        """Walk back from the artifact with digest ``sha256`` through ``derived_from`` links, the
        checkpoint of a generation, and the stages that produced each artifact, collecting every source
        record reached (with its licence)."""
        if sha256 not in self.by_sha:
            raise LedgerError(f"artifact {sha256[:12]}…: not in the ledger")
        result = Lineage(start=sha256)
        seen: set[str] = set()
        seen_stages: set[str] = set()
        item_ids: set[str] = set()
        todo = [sha256]
        while todo:
            sha = todo.pop()
            if sha in seen:
                continue
            seen.add(sha)
            entry = self.by_sha.get(sha)
            if entry is not None:
                p = entry.payload
                result.artifacts.append({"path": p["path"], "role": p.get("role", entry.kind), "sha256": sha})
                todo.extend(p.get("derived_from", []))
                if entry.kind == "generation":
                    todo.append(p["checkpoint_sha256"])
                item_ids.update(p.get("sources", []))
            stage = self.producing.get(sha)
            if stage is not None and stage.hash not in seen_stages:
                seen_stages.add(stage.hash)
                result.stages.append({"name": stage.payload["name"], "params_sha256": stage.payload["params_sha256"]})
                todo.extend(i["sha256"] for i in stage.payload["inputs"])
        for item in sorted(item_ids):
            if item in self.records:
                result.sources.append(self.records[item])
            else:
                result.missing_sources.append(item)
        return result


def lineage(entries: Iterable[Entry], sha256: str) -> Lineage:
    """What the artifact with digest ``sha256`` was made from (see :class:`ProvenanceGraph`)."""
    return ProvenanceGraph(entries).lineage(sha256)
