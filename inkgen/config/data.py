"""Sections of the data stages: ``paths``, ``collect``, ``curate``, ``annotate``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from inkgen.config.schema import ParamsError, _range


@dataclass(frozen=True)
class Paths:
    """Where each stage writes; written once here, interpolated into dvc.yaml as ``${paths.*}``."""

    raw: str
    http_cache: str
    curated: str
    dataset: str
    models: str
    notebooks: str
    figures: str
    metrics: str
    governance: str  # the governance stage's ledger, report and governed images (rebuilt by each run)
    expert_kit: str  # the evaluate stage's blinded package for raters; its key goes beside it, in <expert_kit>_key

    def check(self, prefix: str) -> None:
        # Stages empty their output folders before writing: a path that is the project root, leaves it,
        # or contains another stage's folder would destroy data, so refuse it before any work.
        parts = {}
        for name, value in dataclasses.asdict(self).items():
            pure = PurePosixPath(value)
            if not value.strip() or pure.is_absolute() or ".." in pure.parts or pure == PurePosixPath("."):
                raise ParamsError(f"{prefix}.{name}: {value!r} must be a folder inside the project "
                                  "(relative, not '.', no '..')")
            parts[name] = pure.parts
        for a, pa in parts.items():
            for b, pb in parts.items():
                if a != b and pb[:len(pa)] == pa:
                    raise ParamsError(f"{prefix}.{a}: {'/'.join(pa)!r} contains {prefix}.{b} "
                                      f"({'/'.join(pb)!r}); stage folders must not nest")


@dataclass(frozen=True)
class ProceduralParams:
    long_side: int = _range(64, 4096, doc="pixels of a rendered painting's long side")
    workers: int = _range(1, 64, doc="rendering processes")


@dataclass(frozen=True)
class FolderParams:
    path: str
    metadata_csv: str
    license: str


@dataclass(frozen=True)
class MuseumParams:
    query: str
    max_items: int = _range(1, 1_000_000)
    timeout_s: float = _range(0.01, 600)
    retries: int = _range(0, 20)
    backoff_s: float = _range(0.0, 600)
    rate_per_s: float = _range(0.001, 80, doc="polite request rate; The Met asks for at most 80/s")
    user_agent: str
    met_url: str
    met_department_id: int = _range(1, 10_000)
    cleveland_url: str
    cleveland_department: str
    cleveland_type: str
    aic_url: str
    aic_image_url: str

    def check(self, prefix: str) -> None:
        for name in ("met_url", "cleveland_url", "aic_url", "aic_image_url"):
            if not getattr(self, name).startswith(("http://", "https://")):
                raise ParamsError(f"{prefix}.{name}: {getattr(self, name)!r} is not an http(s) URL")


@dataclass(frozen=True)
class CollectParams:
    source: Literal["procedural", "folder", "met", "cleveland", "aic"]
    n_images: int = _range(1, 10_000_000)
    seed: int = _range(0, 2**31 - 1)
    max_image_pixels: int = _range(1024, 2**31 - 1, doc="decompression-bomb guard")
    procedural: ProceduralParams = None  # type: ignore[assignment]
    folder: FolderParams = None  # type: ignore[assignment]
    museum: MuseumParams = None  # type: ignore[assignment]


@dataclass(frozen=True)
class ClassifierParams:
    arch: Literal["resnet18", "resnet34", "resnet50"]
    weights: str  # a local checkpoint to start from; "" trains from scratch here
    input_size: int = _range(32, 1024)
    epochs: int = _range(0, 1000)
    batch_size: int = _range(2, 4096, doc="batch norm needs at least two images per batch")
    lr: float = _range(1e-7, 10.0)
    weight_decay: float = _range(0.0, 1.0)
    holdout_fraction: float = _range(0.05, 0.9)
    seed: int = _range(0, 2**31 - 1)
    threads: int = _range(0, 256, doc="torch CPU threads; 0 leaves torch's default")


@dataclass(frozen=True)
class SubjectParams:
    """Subject detection for the paper's eq. 2-5 resize."""

    blur: int = _range(1, 99, doc="odd Gaussian kernel before thresholding")
    min_area_fraction: float = _range(0.0, 1.0, doc="below this share of the image, detection fails")
    pad_value: int = _range(0, 255, doc="grey level of eq. 4 padding (rice paper is light)")
    ignore_border: float = _range(0.0, 0.25, doc="share of each side cleared from the ink mask (paper edge)")
    ground_grid: int = _range(0, 512, doc="samples on the long side of the ground fit; 0 = plain Otsu")
    ground_degree: int = _range(0, 4, doc="degree of the polynomial fitted to the ground (tone + vignetting)")
    min_ink_contrast: float = _range(0.0, 1.0, doc="least darkness relative to the ground that counts as ink")

    def check(self, prefix: str) -> None:
        if self.blur % 2 == 0:
            raise ParamsError(f"{prefix}.blur: {self.blur} must be odd (a Gaussian kernel has a centre)")


@dataclass(frozen=True)
class CurateParams:
    target_size: int = _range(16, 4096)
    screen_threshold: float = _range(0.0, 1.0, doc="min classifier confidence to keep an item")
    subject: SubjectParams = None  # type: ignore[assignment]
    classifier: ClassifierParams = None  # type: ignore[assignment]


@dataclass(frozen=True)
class SplitParams:
    train: float = _range(0.0, 1.0)
    val: float = _range(0.0, 1.0)
    test: float = _range(0.0, 1.0)
    tolerance: float = _range(0.0, 0.5, doc="allowed deviation of each split's share")
    seed: int = _range(0, 2**31 - 1)
    near_duplicate_distance: int = _range(0, 64, doc="perceptual-hash bits; closer items share a split")

    def check(self, prefix: str) -> None:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ParamsError(f"{prefix}: train + val + test must be 1, got {total:g}")


@dataclass(frozen=True)
class AnnotateParams:
    human_annotations: str  # optional CSV of human labels (item_id, annotator, field, value); "" for none
    seed: int = _range(0, 2**31 - 1, doc="adjective choice in captions")
    min_image_size: int = _range(1, 4096)
    caption_max_elements: int = _range(1, 64, doc="main elements a caption names (the manifest keeps all)")
    caption_max_techniques: int = _range(1, 64, doc="techniques a caption names (the manifest keeps all)")
    # secondary categories kept out of training (split "withheld"): the generalisation claim measures them
    withheld_secondary: tuple[str, ...] = _range(doc="secondary category keys of inkgen/data/taxonomy.yaml")
    split: SplitParams = None  # type: ignore[assignment]

    def check(self, prefix: str) -> None:
        from inkgen.data.taxonomy import load_taxonomy  # the vocabulary file is read only when annotate is checked

        tax = load_taxonomy()
        key = f"{prefix}.withheld_secondary"
        unknown = [s for s in self.withheld_secondary if s not in tax.secondary]
        if unknown:
            raise ParamsError(f"{key}: {unknown} are not secondary categories (known: {sorted(tax.secondary)})")
        if len(set(self.withheld_secondary)) != len(self.withheld_secondary):
            raise ParamsError(f"{key}: {list(self.withheld_secondary)} repeats a category")
        for pkey, primary in tax.primary.items():
            if set(primary.secondary) <= set(self.withheld_secondary):
                raise ParamsError(f"{key}: withholds every secondary category of {pkey!r}, which would empty "
                                  "the training split of that primary category")
