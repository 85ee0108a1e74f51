"""The rights registry: a CSV of registered works standing in for a national copyright database.

Paper section 6.2, *ownership attribution*: training samples are "cross-referenced against the National
Copyright Database". No such database is reachable from a re-executable study, so the registry is a CSV
file a rights officer can read and edit::

    id,holder,status,hash[,title][,url][,note]
    reg-000001,Example Estate,protected,c3a1f0e29b7d5548,Autumn Mountains,,

``file`` (optional) is the registered image, relative to the CSV's folder: with it a candidate match is
verified on the pixels (:mod:`governance.copymatch`), without it the hash alone decides. ``status`` is one of the policy's ``copyright.registry_statuses`` (e.g. protected, public_domain,
licensed); ``hash`` is the 64-bit pHash of the registered work in 16 hex digits (:mod:`governance.phash`).
Loading is strict and all-or-nothing: every malformed row is reported with its row number, id and field
(``registry.csv row 7 (id reg-9), field 'hash': 'zz' is not 16 hexadecimal digits``) and nothing is
loaded, because a silently skipped row is a registered work the cross-check would never see.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from governance.candidates import References
from governance.copymatch import expand
from governance.hash_index import HashIndex
from governance.phash import ImageHashError, hash_file, parse_hash, to_hex

REQUIRED = ("id", "holder", "status", "hash")
OPTIONAL = ("title", "url", "note", "file")
_MAX_ERRORS = 20


class RegistryError(ValueError):
    """A registry file that cannot be used; lists each bad row with its number and field."""


@dataclass(frozen=True)
class RegisteredWork:
    id: str
    holder: str
    status: str
    hash: int
    title: str = ""
    url: str = ""
    file: str = ""   # the registered image, relative to the registry CSV's folder: lets a match be verified

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "holder": self.holder, "status": self.status, "hash": to_hex(self.hash),
                "title": self.title, "url": self.url, "file": self.file}


class RightsRegistry:
    """Registered works plus a :class:`HashIndex` over their hashes."""

    def __init__(self, works: Sequence[RegisteredWork], source: str = "") -> None:
        self.works = list(works)
        self.source = source
        self.index = HashIndex(np.array([w.hash for w in self.works], dtype=np.uint64),
                               [w.id for w in self.works])
        self._by_id = {w.id: w for w in self.works}
        self._references: References | None = None

    def references(self) -> References:
        """The works as stage-one/two references (:mod:`governance.copymatch`): a work with a ``file``
        can be verified on its pixels; one without is judged by its hash alone."""
        if self._references is None:
            base = Path(self.source).parent if self.source else Path.cwd()
            self._references = References(self.index, source=self.source,
                                          files=[base / w.file if w.file else None for w in self.works])
            expand(self._references)
        return self._references

    def __len__(self) -> int:
        return len(self.works)

    def work(self, work_id: str) -> RegisteredWork:
        return self._by_id[work_id]

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for w in self.works:
            counts[w.status] = counts.get(w.status, 0) + 1
        return dict(sorted(counts.items()))


def load_registry(path: str | os.PathLike[str], statuses: Iterable[str]) -> RightsRegistry:
    """Read and validate a registry CSV; ``statuses`` are the allowed status values (from the policy)."""
    path = Path(path)
    statuses = tuple(statuses)
    try:
        fh = open(path, newline="", encoding="utf-8-sig")  # -sig: spreadsheets often write a BOM
    except OSError as exc:
        raise RegistryError(f"{path}: cannot open the registry ({exc.strerror})") from None
    errors: list[str] = []
    works: list[RegisteredWork] = []
    seen: dict[str, int] = {}
    with fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED if c not in header]
        unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
        if missing or unknown:
            raise RegistryError(f"{path}: header {header}: " + "; ".join(
                ([f"missing column(s) {missing}"] if missing else []) +
                ([f"unknown column(s) {unknown}"] if unknown else [])))
        for row_no, row in enumerate(reader, 1):
            if None in row or any(v is None for v in row.values()):
                errors.append(f"row {row_no}: wrong number of fields ({len(header)} expected)")
                continue
            rid = row["id"].strip()
            label = f"row {row_no} (id {rid or '?'})"
            bad = []
            if not rid:
                bad.append("field 'id': empty")
            elif rid in seen:
                bad.append(f"field 'id': duplicate of row {seen[rid]}")
            if not row["holder"].strip():
                bad.append("field 'holder': empty")
            if row["status"].strip() not in statuses:
                bad.append(f"field 'status': {row['status']!r} is not one of {', '.join(statuses)}")
            try:
                value = parse_hash(row["hash"], "field 'hash'")
            except ImageHashError as exc:
                bad.append(str(exc))
                value = 0
            if bad:
                errors.extend(f"{label}, {b}" for b in bad)
                continue
            seen[rid] = row_no
            works.append(RegisteredWork(rid, row["holder"].strip(), row["status"].strip(), value,
                                        (row.get("title") or "").strip(), (row.get("url") or "").strip(),
                                        (row.get("file") or "").strip()))
    if errors:
        shown = errors[:_MAX_ERRORS] + ([f"... and {len(errors) - _MAX_ERRORS} more"] if len(errors) > _MAX_ERRORS else [])
        raise RegistryError(f"{path}: {len(errors)} malformed row(s), nothing loaded:\n  " + "\n  ".join(shown))
    return RightsRegistry(works, str(path))


def write_registry(path: str | os.PathLike[str], works: Iterable[RegisteredWork]) -> int:
    """Write works as a registry CSV (the format :func:`load_registry` reads); returns the row count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(REQUIRED + ("title", "url", "file")))
        writer.writeheader()
        for w in works:
            writer.writerow(w.to_dict())
            n += 1
    return n


def works_from_images(paths: Iterable[str | os.PathLike[str]], *, holder: str, status: str,
                      id_prefix: str = "reg-") -> list[RegisteredWork]:
    """Register image files (original orientation hashed; queries are flipped instead)."""
    works = []
    for i, p in enumerate(sorted(Path(x) for x in paths), 1):
        works.append(RegisteredWork(f"{id_prefix}{i:06d}", holder, status, hash_file(p, ("original",))["original"],
                                    title=p.stem))
    return works
