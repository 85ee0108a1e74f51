"""The blinded rating package of the paper's expert evaluation (section 3.2, Table 2).

The paper's protocol: generated works "randomly intermixed with 500 authentic masterpieces", "neither
artists nor model origins were disclosed", each specialist scoring every work on four sub-semantic
dimensions (5-point scale) that are then weighted (0.4 / 0.3 / 0.1 / 0.2) into a total.

:func:`build_package` writes, for raters:

- ``images/<id>.png``: every work (generated and authentic mixed), resized to one display size so that
  size does not give the origin away, saved without metadata, named by an opaque random id;
- ``rating_sheet.csv``: one row per work (sorted by id, which is random), its text description, one empty
  column per dimension and a ``notes`` column for the deduction rationale;
- ``README.txt``: the instructions.

and, *outside* the package folder, ``key.csv``: id -> origin (generated / authentic), source id, group
(e.g. the variant) and description. The key is what :func:`inkgen.expert_kit.analysis.compare_origins`
applies after rating.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image

ORIGINS = ("generated", "authentic")
SHEET = "rating_sheet.csv"
KEY = "key.csv"


class ExpertKitError(ValueError):
    """A kit input, package or filled sheet that cannot be used; the message names the file, row, column."""


@dataclass(frozen=True)
class KitConfig:
    """The ``expert:`` params: ``dimensions`` maps each sub-semantic dimension to its weight (the paper's
    Table 2: painting_types_techniques 0.4, main_elements 0.3, element_relationship 0.1, composition
    0.2; weights must sum to 1), ``scale_min``/``scale_max`` the integer scale (1..5), ``seed`` the
    shuffle and id seed, ``display_size`` the side images are shown at, ``confidence`` and
    ``n_resamples`` for the intervals of the analysis."""

    dimensions: Mapping[str, float]
    scale_min: int
    scale_max: int
    seed: int
    display_size: int
    confidence: float
    n_resamples: int

    def __post_init__(self) -> None:
        if not self.dimensions:
            raise ExpertKitError("KitConfig.dimensions is empty")
        for name, w in self.dimensions.items():
            if not str(name).isidentifier() or name in ("item_id", "description", "notes"):
                raise ExpertKitError(f"KitConfig.dimensions: {name!r} is not a usable column name")
            if not w > 0:
                raise ExpertKitError(f"KitConfig.dimensions[{name!r}] = {w}: weights must be positive")
        total = sum(self.dimensions.values())
        if abs(total - 1.0) > 1e-9:
            raise ExpertKitError(f"KitConfig.dimensions: weights sum to {total}, not 1")
        if not self.scale_min < self.scale_max:
            raise ExpertKitError(f"KitConfig: scale {self.scale_min}..{self.scale_max} is empty")
        if self.display_size < 8 or not 0 < self.confidence < 1 or self.n_resamples < 1:
            raise ExpertKitError("KitConfig: display_size >= 8, 0 < confidence < 1, n_resamples >= 1 required")

    @property
    def names(self) -> list[str]:
        return list(self.dimensions)


@dataclass(frozen=True)
class Work:
    """One work to rate: ``image`` (uint8 (H, W, 3) array or PIL image), ``source_id`` (manifest item id,
    or generation id), ``description`` (the prompt, or the authentic work's caption) and ``group`` (e.g.
    the variant; "" for authentic works)."""

    source_id: str
    image: np.ndarray | Image.Image
    description: str
    group: str = ""


@dataclass(frozen=True)
class Package:
    package_dir: Path
    sheet: Path
    key: Path
    n_generated: int
    n_authentic: int


def _readme(config: KitConfig, n: int, descriptions: Mapping[str, str]) -> str:
    lines = [
        "Expert rating of Chinese paintings -- instructions",
        "",
        f"This folder holds {n} works in images/, each named by an id that says nothing about it. Some",
        "are by artists, some are not; nothing in the names, sizes or order tells which. Please rate every",
        "work on its own merits, independently of other raters.",
        "",
        "1. Copy rating_sheet.csv and name the copy after yourself, e.g. rater_wang.csv (the file name is",
        "   your rater id). Keep the columns item_id and description unchanged.",
        f"2. For every work, enter an integer from {config.scale_min} (poor) to {config.scale_max} (excellent)",
        "   in each dimension column. Every cell must be filled.",
        "3. The description column is the text the work should depict; judge the work against it.",
        "4. For any score below the maximum, write the reason for the deduction in the notes column",
        "   (e.g. 'improper ink-wash gradation in mountain ranges').",
        "",
        "Dimensions (weight in the total):",
    ]
    for name, w in config.dimensions.items():
        what = descriptions.get(name, "")
        lines.append(f"- {name} ({w:g}): {what}" if what else f"- {name} ({w:g})")
    return "\n".join(lines) + "\n"


def _dimension_texts() -> dict[str, str]:
    """The paper's "core evaluation points" of Table 2, for the README."""
    from inkgen.metrics.paper import load_paper_reported

    dims = load_paper_reported().table2["dimensions"]
    return {k: str(v.get("core_points", "")) for k, v in dims.items()}


def build_package(package_dir: str | Path, key_dir: str | Path, generated: Sequence[Work],
                  authentic: Sequence[Work], config: KitConfig) -> Package:
    """Write the blinded package to ``package_dir`` and the key to ``key_dir/key.csv`` (see module doc).

    ``key_dir`` must lie outside ``package_dir`` (the package goes to raters, the key does not), and
    ``package_dir`` must not hold files already (a stale image would be rated by mistake).
    """
    package_dir, key_dir = Path(package_dir).resolve(), Path(key_dir).resolve()
    if key_dir == package_dir or key_dir.is_relative_to(package_dir):
        raise ExpertKitError(f"key folder {key_dir} lies inside the package {package_dir}: raters would see it")
    if package_dir.exists() and any(package_dir.iterdir()):
        raise ExpertKitError(f"package folder {package_dir} is not empty")
    if not generated or not authentic:
        raise ExpertKitError(f"need generated and authentic works, got {len(generated)} and {len(authentic)}")
    works = [("generated", w) for w in generated] + [("authentic", w) for w in authentic]
    rng = np.random.default_rng(config.seed)
    ids = [f"W{k:06d}" for k in rng.choice(10**6, size=len(works), replace=False)]  # opaque, unique
    (package_dir / "images").mkdir(parents=True)
    key_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for item_id, (origin, work) in zip(ids, works):
        img = work.image if isinstance(work.image, Image.Image) else Image.fromarray(np.asarray(work.image))
        img = img.convert("RGB").resize((config.display_size, config.display_size), Image.Resampling.LANCZOS)
        img.save(package_dir / "images" / f"{item_id}.png")  # PIL writes no text chunks unless asked
        rows.append({"item_id": item_id, "origin": origin, "source_id": work.source_id, "group": work.group,
                     "description": work.description})
    rows.sort(key=lambda r: r["item_id"])  # random ids: sorted order is a shuffle
    sheet = package_dir / SHEET
    with sheet.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["item_id", "description", *config.names, "notes"])
        for r in rows:
            writer.writerow([r["item_id"], r["description"], *([""] * len(config.names)), ""])
    (package_dir / "README.txt").write_text(_readme(config, len(rows), _dimension_texts()), encoding="utf-8")
    key = key_dir / KEY
    with key.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["item_id", "origin", "source_id", "group", "description"])
        writer.writeheader()
        writer.writerows(rows)
    return Package(package_dir, sheet, key, len(generated), len(authentic))
