"""Stages clip and judge (notebook 04_clip, ``role`` guide or judge): the CLIP that guides training (paper eq. 13), and an independent CLIP that
judges text-image agreement in the evaluation.

No CLIP weights can be downloaded here, so by default a small open_clip model is trained from scratch on
the training split's (image, caption) pairs with open_clip's contrastive ``ClipLoss``; with
``clip.pretrained`` it is loaded from a local checkpoint instead. Either way the stage reports
text→image retrieval recall@1 and @5 on the validation split beside their chance levels, so a reader can
see how much guidance this CLIP can give, and saves it to ``<paths.models>/clip.pt``.

**The judge** (``role="judge"``, params ``judge:``, ``<paths.models>/clip_judge.pt``). The full model is
optimised against the guide's embedding (eq. 13), so CLIP metrics measured with the guide favour the
CLIP-trained variants by construction. The judge is a second CLIP that never touched training: its own
seed and its own architecture (8-pixel patches instead of 16, other widths: ``params.yaml`` refuses a
judge equal to the guide in either), trained on the same training split. Why that split and not unseen
data: the bias comes from the generator having been optimised against the guide's *weights*, which an
independently trained judge does not share; the validation split (~200 pairs at the default size) is too
small to train a CLIP from scratch to useful retrieval, the test split must stay unseen by everything, and
a second rendered corpus would cost a collect/curate/annotate pass of the 30-minute budget. The judge's
validation retrieval is reported beside the guide's so that its competence is visible. A judge loaded
from a file (``judge.pretrained``) must not be the guide's file, by path or by bytes:
:func:`inkgen.judge.check_judge_is_not_guide` refuses it before any work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from inkgen.config import Params, project_root
from inkgen.data.dataset import load_split
from inkgen.judge import check_judge_is_not_guide, resolve
from inkgen.layout import Layout, write_metrics
from inkgen.models.clip import build_clip, load_clip, retrieval_recall, save_clip
from inkgen.models.clip_train import ClipTrainReport, train_clip

RECALL_AT = (1, 5)  # the recall@1 / recall@5
# role -> its params section, which is also its stage's name and metrics file (<paths.metrics>/<section>.json)
ROLES = {"guide": "clip", "judge": "judge"}


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


def run(params: Params, root: str | Path | None = None, role: str = "guide") -> ClipSummary:
    """Train (or load) the study's guide CLIP (``role="guide"``, params ``clip:``) or its independent judge
    (``role="judge"``, params ``judge:``), measure validation retrieval, save checkpoint and metrics."""
    root = Path(root) if root is not None else project_root()
    if role not in ROLES:
        raise ValueError(f"role must be one of {sorted(ROLES)}, got {role!r}")
    section, layout = ROLES[role], Layout(params, root)
    if role == "judge":
        check_judge_is_not_guide(params, root)  # before any work
    cp = getattr(params, section)
    train = load_split(layout.manifest, "train", root)
    val = load_split(layout.manifest, "val", root)
    config = cp.model
    report = None
    if cp.pretrained:
        weights = resolve(root, cp.pretrained)
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
    metrics["role"] = role
    if role == "judge":
        guide_metrics = layout.stage_metrics("clip")
        if guide_metrics.is_file():  # the guide's retrieval beside the judge's
            guide = json.loads(guide_metrics.read_text(encoding="utf-8"))
            metrics.update({f"guide_val_recall@{k}": guide.get(f"val_recall@{k}") for k in RECALL_AT})
    checkpoint = save_clip(model, layout.clip(role),
                           params_hash=params.section_hash(section),
                           metrics={k: v for k, v in metrics.items() if k != "train_images_per_second"})
    if role == "judge":
        check_judge_is_not_guide(params, root, checkpoint)
    write_metrics(layout.stage_metrics(section), metrics)
    return ClipSummary(source, len(train), len(val), report, table, checkpoint, metrics)
