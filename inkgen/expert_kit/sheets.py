"""Reading the raters' filled sheets (and the key) of the expert evaluation, with every error named.

A filled sheet is a copy of the package's ``rating_sheet.csv`` named after its rater (the file stem is
the rater id). :func:`read_sheets` checks each one against the package's template: every column of the
template present, every id known and listed once, every work of the package rated, every score an
integer within the scale. All problems are collected (up to :data:`MAX_LISTED_ERRORS`) and raised
together, each naming the file, the CSV line (1 = header) and the column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from inkgen.expert_kit.config import ExpertKitError, KitConfig
from inkgen.expert_kit.package import ORIGINS

MAX_LISTED_ERRORS = 20


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ExpertKitError(f"{path}: file does not exist")
    # dtype=str and no NA conversion: an empty cell stays "" and is reported, never silently NaN
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    return df


def template_ids(template: str | Path) -> list[str]:
    """The work ids of a package's ``rating_sheet.csv``."""
    df = _read_csv(Path(template))
    if "item_id" not in df.columns:
        raise ExpertKitError(f"{template}: no item_id column")
    return [s.strip() for s in df["item_id"]]


def _parse_score(text: str, config: KitConfig) -> int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not value.is_integer() or not config.scale_min <= value <= config.scale_max:
        return None
    return int(value)


def read_sheet(path: str | Path, ids: Sequence[str], config: KitConfig) -> tuple[pd.DataFrame, list[str]]:
    """One filled sheet -> (long rows ``rater, item_id, dimension, score``, list of error messages)."""
    path = Path(path)
    rater = path.stem
    df = _read_csv(path)
    missing_cols = [c for c in ("item_id", *config.names) if c not in df.columns]
    if missing_cols:
        return pd.DataFrame(), [f"{path}: missing column(s) {missing_cols} (expected item_id and "
                                f"{config.names})"]
    known, errors, rows, seen = set(ids), [], [], {}
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2  # header is line 1
        item = rec["item_id"].strip()
        if item not in known:
            errors.append(f"{path}: line {line}, column 'item_id': unknown id {item!r} (not in the package)")
            continue
        if item in seen:
            errors.append(f"{path}: line {line}, column 'item_id': {item!r} already rated on line {seen[item]}")
            continue
        seen[item] = line
        for dim in config.names:
            cell = rec[dim].strip()
            if not cell:
                errors.append(f"{path}: line {line} ({item}), column {dim!r}: missing score")
                continue
            score = _parse_score(cell, config)
            if score is None:
                errors.append(f"{path}: line {line} ({item}), column {dim!r}: {cell!r} is not an integer "
                              f"in {config.scale_min}..{config.scale_max}")
                continue
            rows.append({"rater": rater, "item_id": item, "dimension": dim, "score": score})
    unrated = [i for i in ids if i not in seen]
    if unrated:
        errors.append(f"{path}: {len(unrated)} work(s) of the package not rated, e.g. {unrated[:5]}")
    return pd.DataFrame(rows, columns=["rater", "item_id", "dimension", "score"]), errors


def read_sheets(paths: Sequence[str | Path], template: str | Path, config: KitConfig) -> pd.DataFrame:
    """All filled sheets -> one long frame ``rater, item_id, dimension, score`` (int); raises
    :class:`ExpertKitError` listing every problem found."""
    if len(paths) < 2:
        raise ExpertKitError(f"agreement needs at least two raters' sheets, got {len(paths)}")
    raters = [Path(p).stem for p in paths]
    dupes = sorted({r for r in raters if raters.count(r) > 1})
    if dupes:
        raise ExpertKitError(f"several sheets have the rater id(s) {dupes} (the file name is the rater id)")
    ids = template_ids(template)
    frames, errors = [], []
    for p in paths:
        frame, errs = read_sheet(p, ids, config)
        frames.append(frame)
        errors.extend(errs)
    if errors:
        more = f"\n... and {len(errors) - MAX_LISTED_ERRORS} more" if len(errors) > MAX_LISTED_ERRORS else ""
        raise ExpertKitError(f"{len(errors)} problem(s) in the rating sheets:\n"
                             + "\n".join(errors[:MAX_LISTED_ERRORS]) + more)
    out = pd.concat(frames, ignore_index=True)
    out["score"] = out["score"].astype(int)
    return out


def read_key(path: str | Path, ids: Sequence[str] | None = None) -> pd.DataFrame:
    """The key (``item_id, origin, source_id, group, description``); with ``ids``, it must cover them."""
    path = Path(path)
    df = _read_csv(path)
    missing = [c for c in ("item_id", "origin") if c not in df.columns]
    if missing:
        raise ExpertKitError(f"{path}: missing column(s) {missing}")
    bad = df.index[~df["origin"].isin(ORIGINS)].tolist()
    if bad:
        raise ExpertKitError(f"{path}: line {bad[0] + 2}, column 'origin': {df['origin'][bad[0]]!r} is not one "
                             f"of {ORIGINS}")
    if ids is not None:
        absent = sorted(set(ids) - set(df["item_id"]))
        if absent:
            raise ExpertKitError(f"{path}: key lacks {len(absent)} rated id(s), e.g. {absent[:5]}")
    return df
