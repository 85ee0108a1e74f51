"""Where the study puts every file a stage reads or writes: one place, so that a change of layout is one edit.

``Layout(params, root)`` turns the ``paths:`` section of params.yaml into the files themselves; the stages,
the CLI and the tests ask it instead of spelling a file name. dvc.yaml spells the same folders through
``${paths.*}`` (tests/test_dvc_stages.py checks that the two agree on the training folders).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PHASES = ("vqgan", "prior")  # the two training stages' folder names under paths.models and paths.metrics
MANIFEST = "manifest.csv"
CLIP_FILES = {"guide": "clip.pt", "judge": "clip_judge.pt"}  # the CLIP of eq. 13, and the independent judge


class LayoutError(ValueError):
    """A run outside the study's matrix (a seed not in ``seeds``, an unknown phase)."""


class Layout:
    """The study's files under ``root`` for ``params`` (only ``paths`` and ``seeds`` are read)."""

    def __init__(self, params: Any, root: str | Path = ".") -> None:
        self.params, self.root = params, Path(root)

    def _path(self, key: str) -> Path:
        return self.root / getattr(self.params.paths, key)

    # ------------------------------------------------------------------------------- data
    @property
    def raw(self) -> Path:
        return self._path("raw")

    @property
    def curated(self) -> Path:
        return self._path("curated")

    @property
    def dataset(self) -> Path:
        return self._path("dataset")

    @property
    def manifest(self) -> Path:
        """``<paths.dataset>/manifest.csv``: the annotated, split dataset every later stage reads."""
        return self.dataset / MANIFEST

    # ----------------------------------------------------------------------------- models
    @property
    def models(self) -> Path:
        return self._path("models")

    @property
    def classifier(self) -> Path:
        """The curation classifier (eq. 1), written by stage curate."""
        return self.models / "classifier.pt"

    def clip(self, role: str = "guide") -> Path:
        """``clip.pt`` (the guide of eq. 13) or ``clip_judge.pt`` (the independent judge)."""
        if role not in CLIP_FILES:
            raise LayoutError(f"CLIP role {role!r} is not one of {sorted(CLIP_FILES)}")
        return self.models / CLIP_FILES[role]

    @property
    def text_features(self) -> Path:
        """The frozen BERT's features of every split's captions (stage text_features)."""
        return self.models / "text_features.pt"

    def seed_dir(self, seed: int) -> str:
        if seed not in self.params.seeds:
            raise LayoutError(f"seed {seed!r} is not one of seeds {list(self.params.seeds)}")
        return f"seed-{int(seed)}"

    def vqgan_checkpoint(self, variant: str, seed: int) -> Path:
        """``models/vqgan/<variant>/seed-<S>/vqgan-last.pt``: the phase-1 run of (variant, seed)."""
        return self.models / "vqgan" / variant / self.seed_dir(seed) / "vqgan-last.pt"

    def prior_checkpoint(self, variant: str, seed: int) -> Path:
        """``models/prior/<variant>/seed-<S>/prior-last.pt`` (its per-epoch snapshots beside it)."""
        return self.models / "prior" / variant / self.seed_dir(seed) / "prior-last.pt"

    def prior_checkpoints(self) -> list[Path]:
        """Every phase-2 checkpoint present: ``models/prior/<variant>/seed-<S>/prior-last.pt``."""
        return sorted((self.models / "prior").glob("*/seed-*/prior-last.pt"))

    def default_checkpoint(self) -> Path:
        """The study's full model, what ``inkgen generate`` paints with unless ``--checkpoint`` says otherwise:
        the full variant's checkpoint of the first training seed."""
        return self.models / "prior" / "full" / f"seed-{int(list(self.params.seeds)[0])}" / "prior-last.pt"

    # ---------------------------------------------------------------------------- reports
    @property
    def metrics(self) -> Path:
        return self._path("metrics")

    def stage_metrics(self, stage: str) -> Path:
        """``<paths.metrics>/<stage>.json``: a stage's metrics file."""
        return self.metrics / f"{stage}.json"

    def read_stage_metrics(self, stage: str) -> dict[str, Any]:
        """An upstream stage's metrics file: what a stage needs of another stage's run it reads there, not
        in that stage's params section (so it tracks the file in dvc.yaml, not the other section)."""
        path = self.stage_metrics(stage)
        if not path.is_file():
            raise LayoutError(f"{path}: no metrics of stage {stage!r}; run it first (dvc repro {stage})")
        return json.loads(path.read_text(encoding="utf-8"))

    def run_metrics(self, phase: str, variant: str, seed: int) -> Path:
        """``reports/metrics/<phase>/<variant>/seed-<S>.json`` (phase ``"vqgan"`` or ``"prior"``)."""
        if phase not in PHASES:
            raise LayoutError(f"phase {phase!r} is not one of {PHASES}")
        return self.metrics / phase / variant / f"{self.seed_dir(seed)}.json"

    def live_dir(self, phase: str, variant: str, seed: int) -> Path:
        """dvclive's folder of one run: ``reports/metrics/live/<phase>-<variant>-seed-<S>``."""
        return self.metrics / "live" / f"{phase}-{variant}-{self.seed_dir(seed)}"

    @property
    def expert_kit(self) -> Path:
        """The blinded package for raters (Table 2's protocol)."""
        return self._path("expert_kit")

    @property
    def expert_key(self) -> Path:
        """Which work of the package is which: kept apart from the package (``<paths.expert_kit>_key``)."""
        return self.expert_kit.with_name(self.expert_kit.name + "_key")

    @property
    def governance(self) -> Path:
        return self._path("governance")


def default_checkpoint(params: Any, root: str | Path = ".") -> Path:
    """The study's full model (:meth:`Layout.default_checkpoint`)."""
    return Layout(params, root).default_checkpoint()


def write_metrics(path: Path, metrics: dict[str, Any]) -> Path:
    """A metrics file as every stage writes it: sorted keys, two-space indent, a final newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
