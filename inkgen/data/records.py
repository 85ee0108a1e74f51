"""The record every collected item carries, and the JSON-lines files that hold records.

One schema for every source (procedural, folder, museum APIs), so that curation, annotation and the
governance ledger can trace any image back to where it came from and under which licence.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Iterator


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Record:
    """One collected image.

    ``file`` is relative to the directory holding ``records.jsonl``. ``truth`` is set only for procedural
    items: the renderer's own knowledge of what it drew (painting_type, primary, secondary, elements,
    techniques, period, seed). ``metadata`` keeps whatever else the source said, verbatim.
    ``period_source`` says where ``period`` came from: ``"procedural truth"``, ``"metadata_csv"``, or for
    museum items ``"museum dynasty"`` / ``"museum period"`` / ``"museum culture"`` / ``"museum
    style_title"`` / ``"museum date_display"`` (the museum's own dating) or ``"years"`` (the midpoint of
    its begin/end years); None when there is no period.
    """

    item_id: str
    source: str
    file: str
    sha256: str
    width: int
    height: int
    license: str
    url: str | None = None
    object_url: str | None = None
    title: str | None = None
    date: str | None = None
    period: str | None = None
    period_source: str | None = None
    retrieved_at: str | None = None
    truth: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Record":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"record {data.get('item_id', '?')}: unknown fields {sorted(unknown)}")
        return cls(**data)


def write_jsonl(path: str | Path, rows: Iterable[Any]) -> int:
    """Write records (or plain dicts) one JSON object per line; return how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row.to_json() if hasattr(row, "to_json") else json.dumps(row, ensure_ascii=False,
                                                                              sort_keys=True)) + "\n")
            n += 1
    return n


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield each line's object; a malformed line is an error naming the file and line number."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc


def read_records(path: str | Path) -> list[Record]:
    return [Record.from_dict(row) for row in read_jsonl(path)]


@dataclass(frozen=True)
class CuratedItem:
    """A record after the curate stage (paper eq. 1-5): resized image, classifier verdict.

    ``record`` is the collected record with ``file``/``sha256``/``width``/``height`` now describing the
    curated image (``file`` relative to the curated folder); ``raw_sha256`` keeps the link to the raw one.
    ``resize_branch`` names the eq. 2-5 branch taken: ``crop_scale`` (eq. 3), ``scale_pad`` (eq. 4) or
    ``center_crop`` (eq. 5), and ``resize_reason`` why no subject was found when it is ``center_crop``.
    ``predicted`` holds the classifier's labels and confidences.
    """

    record: Record
    raw_sha256: str
    resize_branch: str
    predicted: dict[str, Any]
    confidence: float
    resize_reason: str = ""  # why no subject was found (center_crop only)

    def to_json(self) -> str:
        row = asdict(self)
        if math.isnan(row["confidence"]):  # no screening happened; strict JSON has no NaN
            row["confidence"] = None
        return json.dumps(row, ensure_ascii=False, sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CuratedItem":
        data = dict(data)
        data["record"] = Record.from_dict(data["record"])
        if data.get("confidence") is None:
            data["confidence"] = float("nan")
        return cls(**data)
