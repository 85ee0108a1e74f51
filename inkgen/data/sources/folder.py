"""A user's own folder of images, with an optional metadata CSV, as a collect source.

The folder is walked recursively in sorted order (by relative POSIX path), so the same folder always
gives the same items. Hidden files and folders (``.name``) and the metadata CSV itself are left out;
every other file is offered to :func:`inkgen.data.intake.intake_image`, and what it refuses is
quarantined with its bytes. Once ``collect.n_images`` items are kept, the remaining files are not read;
each is listed in the store's ``not_collected.jsonl`` (reason ``over_limit``, with its relative path)
and counted, so nothing is dropped silently. A multi-frame file keeps its first frame and its record's
metadata says ``"frames": n``. Symbolic links that lead outside the folder are quarantined without reading
them, so neither a link nor a hostile name can make the stage read outside the folder.

Item ids are ``folder-<slug>-<hash>``: an ASCII slug of the relative path (for people) and the first
ten hex digits of the path's SHA-256 (so that two names that slug alike, e.g. ``山水.png`` and
``花鸟.png``, stay distinct). ``retrieved_at`` is the file's modification time, so that a re-run over
the same folder writes identical records.

The metadata CSV (``collect.folder.metadata_csv``; UTF-8, header row) has the columns ``file`` (path
relative to the folder, required) and any of ``title, date, period, license, painting_type, primary,
secondary``. Problems that tie the CSV to no item (unknown column, a path outside the folder or not in
it, a file listed twice, a hidden file or one inside a hidden or linked folder, the CSV itself: files
the walk never collects) raise :class:`FolderMetadataError` naming the CSV and line. A label that the
taxonomy does not know quarantines that item with the line and the reason. Labels go into the record's
``truth`` with ``"origin": "metadata_csv"`` so that curation can train on them. An item gets its licence
from the CSV, else from ``collect.folder.license``; with neither it is quarantined (``no_license``).
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from inkgen.config import CollectParams
from inkgen.data.intake import ImageRejected, intake_image
from inkgen.data.raw_store import RawStore
from inkgen.data.sources.base import Source, SourceStats, image_suffix
from inkgen.data.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)

CSV_COLUMNS = ("file", "title", "date", "period", "license", "painting_type", "primary", "secondary")
LABEL_COLUMNS = ("painting_type", "primary", "secondary", "period")


class FolderMetadataError(ValueError):
    """The folder or its metadata CSV cannot be used; the message names the key, or the CSV and line."""


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]


def item_id_for(rel_path: str) -> str:
    """A safe, stable item id for a relative path (see the module docstring)."""
    ascii_name = unicodedata.normalize("NFKD", rel_path).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-")
    digest = hashlib.sha256(rel_path.encode("utf-8")).hexdigest()[:10]
    return f"folder-{slug}-{digest}" if slug else f"folder-{digest}"


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False
    return True


def _mtime_iso(path: Path) -> str:
    stamp = datetime.fromtimestamp(int(path.stat().st_mtime), tz=timezone.utc)
    return stamp.isoformat()


class FolderSource(Source):
    name = "folder"

    def __init__(self, collect: CollectParams, base_dir: str | Path, taxonomy: Taxonomy | None = None):
        """``base_dir`` resolves relative ``collect.folder`` paths (the project root)."""
        folder = collect.folder
        if not folder.path:
            raise FolderMetadataError("collect.folder.path is empty: name the folder of images to collect")
        self.root = (Path(base_dir) / folder.path).resolve()
        if not self.root.is_dir():
            raise FolderMetadataError(f"collect.folder.path: {self.root} is not a folder")
        self.csv_path = (Path(base_dir) / folder.metadata_csv).resolve() if folder.metadata_csv else None
        self.default_license = folder.license
        self.max_pixels = collect.max_image_pixels
        self.limit = collect.n_images
        self.taxonomy = taxonomy or load_taxonomy()

    # -- reading the folder and the CSV
    def files(self) -> list[str]:
        """Relative POSIX paths of the candidate files, sorted."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                path = Path(dirpath) / name
                if name.startswith(".") or (self.csv_path is not None and path == self.csv_path):
                    continue
                found.append(path.relative_to(self.root).as_posix())
        return sorted(found)

    def read_csv(self) -> dict[str, CsvRow]:
        """The CSV rows by normalised relative path; structural problems raise FolderMetadataError."""
        if self.csv_path is None:
            return {}
        where = self.csv_path.name
        if not self.csv_path.is_file():
            raise FolderMetadataError(f"collect.folder.metadata_csv: {self.csv_path} does not exist")
        rows: dict[str, CsvRow] = {}
        with open(self.csv_path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            unknown = [c for c in header if c not in CSV_COLUMNS]
            if "file" not in header or unknown:
                raise FolderMetadataError(
                    f"{where}:1: the header must have 'file' and only {', '.join(CSV_COLUMNS)}"
                    + (f"; unknown column(s) {unknown}" if unknown else ""))
            for row in reader:
                line = reader.line_num
                if None in row:
                    raise FolderMetadataError(f"{where}:{line}: more fields than the header has")
                rel = self._csv_path_of(row.get("file") or "", f"{where}:{line}")
                if rel in rows:
                    raise FolderMetadataError(f"{where}:{line}: {rel!r} is already described on line "
                                              f"{rows[rel].line}")
                rows[rel] = CsvRow(line, {k: (v or "").strip() for k, v in row.items()})
        return rows

    def _csv_path_of(self, name: str, where: str) -> str:
        pure = PurePosixPath(name.strip().replace("\\", "/"))
        if not name.strip() or pure.is_absolute() or ".." in pure.parts:
            raise FolderMetadataError(f"{where}: file {name!r} must be a path inside the folder")
        if not (self.root / pure).is_file() or not _inside(self.root / pure, self.root):
            raise FolderMetadataError(f"{where}: file {name!r} is not a file in {self.root}")
        if any(part.startswith(".") for part in pure.parts):
            raise FolderMetadataError(f"{where}: file {name!r} is hidden (a name starting with '.'); "
                                      "hidden files and folders are never collected")
        return pure.as_posix()

    def labels(self, row: CsvRow) -> dict[str, Any]:
        """The CSV's labels as a truth dict; raises ValueError naming the bad value."""
        tax = self.taxonomy
        values = {k: row.values.get(k, "") for k in LABEL_COLUMNS}
        checks = (("painting_type", tax.painting_types), ("primary", tax.primary),
                  ("secondary", tax.secondary), ("period", tax.periods))
        for column, known in checks:
            if values[column] and values[column] not in known:
                raise ValueError(f"{column} {values[column]!r} is not one of {', '.join(known)}")
        if values["secondary"]:
            parent = tax.primary_of(values["secondary"])
            if values["primary"] and values["primary"] != parent:
                raise ValueError(f"secondary {values['secondary']!r} belongs to primary {parent!r}, "
                                 f"not {values['primary']!r}")
            values["primary"] = parent
        truth = {k: v for k, v in values.items() if v}
        return {"origin": "metadata_csv", **truth} if truth else {}

    # -- the stage
    def collect(self, store: RawStore) -> SourceStats:
        rows = self.read_csv()
        files = self.files()
        walked = set(files)
        for rel, row in sorted(rows.items(), key=lambda item: item[1].line):
            if rel not in walked:
                raise FolderMetadataError(
                    f"{self.csv_path.name}:{row.line}: file {rel!r} is not one the folder walk collects "
                    "(inside a linked or hidden folder, or the metadata CSV itself)")
        stats = SourceStats()
        kept = 0
        for rel in files:
            if kept >= self.limit:
                stats.not_collected_over_limit += 1
                store.skip(item_id_for(rel), self.name,
                           f"over_limit: over collect.n_images limit ({self.limit} kept)", relative_path=rel)
                continue
            stats.seen += 1
            if self._collect_one(store, rel, rows.get(rel)):
                kept += 1
        log.info("folder: kept %d, quarantined %d, %d not collected (over collect.n_images) from %s", kept,
                 len(store.quarantined), stats.not_collected_over_limit, self.root)
        return stats

    def _collect_one(self, store: RawStore, rel: str, row: CsvRow | None) -> bool:
        item_id = item_id_for(rel)
        path = self.root / rel
        context: dict[str, Any] = {"relative_path": rel}
        if row is not None:
            context["csv_line"] = row.line

        def refuse(reason: str, data: bytes | None = None) -> bool:
            log.warning("folder: quarantined %s (%s): %s", item_id, rel, reason)
            store.quarantine(item_id, self.name, reason, data=data, suffix=image_suffix(rel), **context)
            return False

        if not _inside(path, self.root):
            return refuse("outside_folder: a link that leads outside the folder; not read")
        try:
            data = path.read_bytes()
        except OSError as exc:
            return refuse(f"unreadable: {exc.strerror or exc}")
        try:
            truth = self.labels(row) if row is not None else {}
        except ValueError as exc:
            return refuse(f"bad_metadata: {self.csv_path.name}:{row.line}: {exc}", data)
        license_ = (row.values.get("license") if row is not None else "") or self.default_license
        if not license_:
            return refuse("no_license: neither the metadata CSV nor collect.folder.license gives one", data)
        try:
            intake = intake_image(data, item_id, self.max_pixels)
        except ImageRejected as exc:
            return refuse(exc.quarantine_reason, data)
        values = row.values if row is not None else {}
        store.add_image(item_id, intake.image, source=self.name, license=license_, url=None, object_url=None,
                        title=values.get("title") or Path(rel).stem, date=values.get("date") or None,
                        period=truth.get("period"),
                        period_source="metadata_csv" if truth.get("period") else None,
                        retrieved_at=_mtime_iso(path), truth=truth or None,
                        metadata={**context, **intake.metadata})
        return True
