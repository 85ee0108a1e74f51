"""The collect stage's output folder: images, ``records.jsonl``, the quarantine and what was left out.

Layout under the raw root::

    images/<item_id>.png        every kept image, normalised (RGB PNG)
    records.jsonl               one inkgen.data.records.Record per kept image, sorted by item_id
    quarantine/<item_id>.<ext>  the original bytes of every refused item (nothing is lost)
    quarantine.jsonl            one row per refused item: item_id, source, reason, file, sha256, context
    not_collected.jsonl         one row per item deliberately not collected (not public domain, beyond
                                collect.n_images, ...): item_id, source, reason, object_url, context

Rows are written sorted by item_id so that the same inputs give byte-identical files; every list is
written even when empty, so the stage's DVC output always has the same files.

An item id is in at most one of the three lists: keeping, quarantining or leaving out an id that is
already kept, quarantined or left out raises ``ValueError`` naming the id (a source that meets an id
twice must skip the repeat itself, see ``MuseumSource.collect``).
"""

from __future__ import annotations

import io
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from inkgen.data.records import Record, sha256_bytes, write_jsonl

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

NOT_COLLECTED_FILE = "not_collected.jsonl"


def is_safe_item_id(item_id: str) -> bool:
    """Whether ``item_id`` can be used as a file name as it is (letters, digits, ``. _ -``, no ``..``)."""
    return isinstance(item_id, str) and _SAFE_ID.fullmatch(item_id) is not None and ".." not in item_id


def check_item_id(item_id: str) -> str:
    """Item ids become file names: refuse anything that could escape the folder or clash."""
    if not is_safe_item_id(item_id):
        raise ValueError(f"item id {item_id!r} is not a safe file name (letters, digits, . _ -)")
    return item_id


def encode_png(image: Image.Image) -> bytes:
    """PNG bytes with no timestamp or other varying chunk, so equal pixels give equal bytes."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


@dataclass
class QuarantineEntry:
    item_id: str
    source: str
    reason: str
    file: str | None
    sha256: str | None
    context: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, sort_keys=True, default=str)


@dataclass
class NotCollectedEntry:
    """An item a source saw and deliberately did not collect; ``reason`` is ``"<kind>: <detail>"``."""

    item_id: str
    source: str
    reason: str
    object_url: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, sort_keys=True, default=str)


class RawStore:
    """Collects kept, quarantined and left-out items, then writes the three lists in one go (``close``)."""

    def __init__(self, root: str | Path, *, fresh: bool = True):
        self.root = Path(root)
        if fresh and self.root.exists():
            shutil.rmtree(self.root)
        (self.root / "images").mkdir(parents=True, exist_ok=True)
        (self.root / "quarantine").mkdir(parents=True, exist_ok=True)
        self.records: dict[str, Record] = {}
        self.quarantined: dict[str, QuarantineEntry] = {}
        self.skipped: dict[str, NotCollectedEntry] = {}

    def status_of(self, item_id: str) -> str | None:
        """``"kept"``, ``"quarantined"``, ``"not collected"`` or None: where ``item_id`` already is."""
        if item_id in self.records:
            return "kept"
        if item_id in self.quarantined:
            return "quarantined"
        if item_id in self.skipped:
            return "not collected"
        return None

    def _claim(self, item_id: str, action: str) -> None:
        status = self.status_of(item_id)
        if status is not None:
            raise ValueError(f"item {item_id!r} is already {status}; it cannot also be {action}")

    # -- kept items
    def add_png(self, item_id: str, png: bytes, width: int, height: int, **fields: Any) -> Record:
        """Store already-encoded PNG bytes with their record fields (source, license, truth, ...)."""
        check_item_id(item_id)
        if item_id in self.records:
            raise ValueError(f"item {item_id!r} collected twice")
        self._claim(item_id, "kept")
        rel = f"images/{item_id}.png"
        (self.root / rel).write_bytes(png)
        record = Record(item_id=item_id, file=rel, sha256=sha256_bytes(png), width=width, height=height,
                        **fields)
        self.records[item_id] = record
        return record

    def add_image(self, item_id: str, image: Image.Image, **fields: Any) -> Record:
        return self.add_png(item_id, encode_png(image), image.width, image.height, **fields)

    # -- refused items
    def quarantine(self, item_id: str, source: str, reason: str, data: bytes | None = None,
                   suffix: str = ".bin", **context: Any) -> QuarantineEntry:
        """Keep the refused bytes (if any) and the reason; the item is then never silently lost.

        An id that is not a safe file name is still listed under its own id; its bytes are stored
        under ``unsafe-<hash>``. Raises ValueError when the id is already kept, quarantined or left out.
        """
        self._claim(item_id, "quarantined")
        safe_id = item_id if is_safe_item_id(item_id) else f"unsafe-{sha256_bytes(item_id.encode())[:16]}"
        rel = sha = None
        if data is not None:
            rel = f"quarantine/{safe_id}{suffix}"
            (self.root / rel).write_bytes(data)
            sha = sha256_bytes(data)
        entry = QuarantineEntry(item_id=item_id, source=source, reason=reason, file=rel, sha256=sha,
                                context=context)
        self.quarantined[item_id] = entry
        return entry

    # -- items deliberately not collected
    def skip(self, item_id: str, source: str, reason: str, *, object_url: str | None = None,
             **context: Any) -> NotCollectedEntry:
        """List an item that was seen but deliberately not collected (``not_collected.jsonl``).

        Raises ValueError when the id is already kept, quarantined or left out.
        """
        self._claim(item_id, "listed as not collected")
        entry = NotCollectedEntry(item_id=item_id, source=source, reason=reason, object_url=object_url,
                                  context=context)
        self.skipped[item_id] = entry
        return entry

    def close(self) -> tuple[int, int]:
        """Write records.jsonl, quarantine.jsonl and not_collected.jsonl (sorted); return (kept, quarantined)."""
        kept = write_jsonl(self.root / "records.jsonl", (self.records[k] for k in sorted(self.records)))
        held = write_jsonl(self.root / "quarantine.jsonl",
                           (self.quarantined[k] for k in sorted(self.quarantined)))
        write_jsonl(self.root / NOT_COLLECTED_FILE, (self.skipped[k] for k in sorted(self.skipped)))
        return kept, held
