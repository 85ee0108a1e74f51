"""Provenance carried inside generated PNGs (PNG 1.2 / ISO 15948 tEXt and iTXt chunks).

Paper section 6.2, *ownership attribution*: an image that leaves the study should say where it came
from even when separated from the ledger. Each generated PNG carries

- ``governance:provenance_id`` (tEXt, ASCII): the id of its ``generation`` entry in the ledger;
- ``governance:ledger_head`` (tEXt, ASCII): the ledger head (SHA-256 of the last entry) at the moment it
  was written — a commitment that lets ``governance verify`` detect a ledger cut short after the fact;
- ``governance:record`` (iTXt, UTF-8 JSON): a small summary (prompt, status, checkpoint digest), iTXt
  because prompts may be Chinese and tEXt is Latin-1 only.

Writing goes through PIL's ``PngInfo``; the pixels are untouched (PNG is lossless), so the metadata does
not change what the copyright cross-check sees.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from governance.digest import is_sha256

KEY_ID = "governance:provenance_id"
KEY_HEAD = "governance:ledger_head"
KEY_RECORD = "governance:record"
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class ImageMetadataError(ValueError):
    """An image that cannot be read, or whose provenance chunks are malformed; names the file."""


def save_with_provenance(image: Image.Image, path: str | os.PathLike[str], *, provenance_id: str,
                         ledger_head: str, record: dict[str, Any] | None = None) -> Path:
    """Save ``image`` as PNG at ``path`` with the provenance chunks; returns the path."""
    if not _ID.match(provenance_id):
        raise ImageMetadataError(f"provenance id {provenance_id!r}: letters, digits and ._:- only (max 128)")
    if not is_sha256(ledger_head):
        raise ImageMetadataError(f"ledger head {ledger_head!r} is not a SHA-256 hex digest")
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ImageMetadataError(f"{path}: generated images are written as .png (metadata lives in PNG chunks)")
    info = PngInfo()
    info.add_text(KEY_ID, provenance_id)
    info.add_text(KEY_HEAD, ledger_head)
    if record is not None:
        info.add_itxt(KEY_RECORD, json.dumps(record, ensure_ascii=False, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", pnginfo=info)
    return path


def read_provenance(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``{"provenance_id", "ledger_head", "record"}`` from a PNG, or None if it carries none.

    An unreadable file, a non-PNG, or provenance chunks that are present but malformed are errors naming
    the file: a damaged label must not read as "no label".
    """
    try:
        with Image.open(path) as img:
            if img.format != "PNG":
                raise ImageMetadataError(f"{path}: a {img.format} image, not a PNG")
            text = dict(getattr(img, "text", {}) or {})
    except (OSError, UnidentifiedImageError) as exc:
        if isinstance(exc, ImageMetadataError):
            raise
        raise ImageMetadataError(f"{path}: cannot read as an image ({exc})") from None
    if KEY_ID not in text and KEY_HEAD not in text:
        return None
    pid, head = text.get(KEY_ID), text.get(KEY_HEAD)
    if not pid or not _ID.match(pid):
        raise ImageMetadataError(f"{path}: {KEY_ID} is missing or malformed ({pid!r})")
    if not is_sha256(head):
        raise ImageMetadataError(f"{path}: {KEY_HEAD} is missing or not a SHA-256 digest ({head!r})")
    record = None
    if KEY_RECORD in text:
        try:
            record = json.loads(text[KEY_RECORD])
        except json.JSONDecodeError as exc:
            raise ImageMetadataError(f"{path}: {KEY_RECORD} is not JSON ({exc.msg})") from None
    return {"provenance_id": pid, "ledger_head": head, "record": record}
