"""The clip stage: the CLIP that guides training (paper eq. 13) and judges text-image agreement.

No CLIP weights can be downloaded here, so by default a small open_clip model is trained from scratch on
the training split's (image, caption) pairs with open_clip's contrastive ``ClipLoss``; with
``clip.pretrained`` it is loaded from a local checkpoint instead. Either way the stage reports
text→image retrieval recall@1 and @5 on the validation split beside their chance levels, so a reader can
see how much guidance this CLIP can give, and saves it to ``<paths.models>/clip.pt``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from inkgen.config import Params, project_root
from inkgen.data.dataset import load_split
from inkgen.models.clip import ClipConfig, build_clip, load_clip, retrieval_recall, save_clip
from inkgen.models.clip_train import ClipTrainReport, train_clip

RECALL_AT = (1, 5)  # the recall@1 / recall@5
CHECKPOINT = "clip.pt"


@dataclass(frozen=True)
class ClipSummary:
    """What the clip notebook shows."""

    source: str  # "trained from scratch" or "loaded from <file>"
    n_train: int
    n_val: int
    report: ClipTrainReport | None
    recall: pd.DataFrame  # rows recall@k: measured on the validation split, and chance
    checkpoint: Path
    metrics: dict[str, Any]

    def loss_curve(self) -> pd.DataFrame:
        if self.report is None:
            return pd.DataFrame(columns=["epoch", "loss"])
        return pd.DataFrame({"epoch": range(1, len(self.report.epoch_losses) + 1),
                             "loss": self.report.epoch_losses})


def run_clip(params: Params, root: str | Path | None = None) -> ClipSummary:
    """Train (or load) the study's CLIP, measure validation retrieval, save checkpoint and metrics."""
    root = Path(root) if root is not None else project_root()
    cp = params.clip
    manifest = root / params.paths.dataset / "manifest.csv"
    train = load_split(manifest, "train", root)
    val = load_split(manifest, "val", root)
    config = ClipConfig(**dataclasses.asdict(cp.model))
    report = None
    if cp.pretrained:
        weights = Path(cp.pretrained) if Path(cp.pretrained).is_absolute() else root / cp.pretrained
        model = load_clip(weights, config if config.arch else None)
        source = f"loaded from {Path(cp.pretrained).name}"
    else:
        model = build_clip(config, seed=cp.seed)
        report = train_clip(model, train.as_float_tensor(), train.captions, epochs=cp.epochs,
                            batch_size=cp.batch_size, lr=cp.lr, weight_decay=cp.weight_decay,
                            warmup_fraction=cp.warmup_fraction, seed=cp.seed, augment=cp.augment,
                            threads=cp.threads)
        source = "trained from scratch"
    recall = retrieval_recall(model, val.as_float_tensor(), val.captions, ks=RECALL_AT)
    table = pd.DataFrame({"validation split": [recall[f"recall@{k}"] for k in RECALL_AT],
                          "chance": [recall[f"chance@{k}"] for k in RECALL_AT]},
                         index=[f"recall@{k}" for k in RECALL_AT])
    metrics = {"source": source, "n_train": len(train), "n_val": len(val),
               **{f"val_recall@{k}": recall[f"recall@{k}"] for k in RECALL_AT},
               **{f"chance@{k}": recall[f"chance@{k}"] for k in RECALL_AT}}
    if report is not None:
        metrics.update(epochs=len(report.epoch_losses), final_loss=report.epoch_losses[-1] if
                       report.epoch_losses else None, train_images_per_second=report.images_per_second)
    checkpoint = save_clip(model, root / params.paths.models / CHECKPOINT, params_hash=params.section_hash("clip"),
                           metrics={k: v for k, v in metrics.items() if k != "train_images_per_second"})
    out = root / params.paths.metrics / "clip.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return ClipSummary(source, len(train), len(val), report, table, checkpoint, metrics)
