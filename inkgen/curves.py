"""Training and quality against epoch: the study's analogues of the paper's Figures 8-10 and 12 (section 3.2).

The paper plots, for its models, the training loss (Figure 8(a)), IS (Figure 9) and FID (Figure 10)
against training rounds, and shows one prompt painted after 10, 20, 30 and 40 rounds (Figure 12). Here:

- :func:`history_frame`: every per-epoch number the training stages kept in their checkpoints
  (``ck["loop"]["history"]``: the VQGAN's loss terms and validation PSNR, the prior's training and
  validation cross-entropy), one long table over variants, so nothing is re-trained to draw a curve.
- :func:`snapshot_quality`: the prior's weights after every epoch (``prior-epoch-NNN.pt``, kept by
  ``prior_train.snapshots``) paint the same held-out test captions; the CLIP cosine between caption and
  painting (eq. 13's quantity) and the IS formula on the curation classifier's softmax, per epoch, each
  with its 95% interval. This is a text -> image quality curve measured, not read from a log.
- :func:`snapshot_images`: one prompt (the paper's Figure 12 text) painted by every snapshot.
- :func:`write_plot_files`: one wide CSV per curve (``epoch`` plus one column per variant) for
  ``dvc plots show``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from inkgen.metrics.alignment import clip_cosine
from inkgen.metrics.distribution import classifier_log_probs
from inkgen.metrics.stats import bootstrap_ci, bootstrap_ci_indices
from inkgen.variants import NAMES

SNAPSHOT = re.compile(r"prior-epoch-(\d+)\.pt$")
# (phase, history key) -> the plot file it is drawn from, with what the reader sees on the y axis
PLOTS = {
    ("vqgan", "loss"): ("vqgan_train_loss", "VQGAN training objective (eq. 14)"),
    ("vqgan", "val_loss"): ("vqgan_val_loss", "VQGAN validation loss"),
    ("vqgan", "val_psnr"): ("vqgan_val_psnr", "VQGAN validation PSNR (dB)"),
    ("prior", "loss"): ("prior_train_loss", "prior training cross-entropy per code"),
    ("prior", "val_loss"): ("prior_val_loss", "prior validation cross-entropy per code"),
    ("snapshot", "clip_cosine"): ("snapshot_clip_cosine", "CLIP cosine, caption vs painting"),
    ("snapshot", "classifier_score"): ("snapshot_classifier_score", "IS formula on the classifier"),
}


def history_frame(histories: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]]) -> pd.DataFrame:
    """Long table ``variant, phase, epoch, metric, value`` from ``{(variant, phase): history}``, where a
    history is a checkpoint's ``ck["loop"]["history"]`` (one dict of numbers per epoch, in order)."""
    rows = []
    for (variant, phase), history in histories.items():
        for i, entry in enumerate(history):
            epoch = int(entry.get("epoch", i + 1)) if isinstance(entry.get("epoch"), (int, float)) else i + 1
            for key, value in entry.items():
                if key in ("epoch", "step") or isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                rows.append({"variant": variant, "phase": phase, "epoch": epoch, "metric": key,
                             "value": float(value)})
    return pd.DataFrame(rows, columns=["variant", "phase", "epoch", "metric", "value"])


def is_formula(log_probs: np.ndarray) -> float:
    """``exp(E_x KL(p(y|x) || p(y)))`` of (N, C) log-probabilities with one split: the formula of
    :func:`inkgen.metrics.distribution.inception_type_score` in plain numpy (equal to it, tested), fast
    enough to bootstrap once per snapshot epoch (torchmetrics' object costs ~15 ms per resample)."""
    logp = np.asarray(log_probs, dtype=np.float64)
    p = np.exp(logp)
    log_marginal = np.log(np.clip(p.mean(axis=0), 1e-30, None))
    return float(np.exp((p * (logp - log_marginal)).sum(axis=1).mean()))


def snapshot_paths(directory: str | Path) -> list[tuple[int, Path]]:
    """``(epoch, path)`` of every per-epoch prior snapshot in ``directory``, by epoch."""
    found = []
    for path in Path(directory).glob("prior-epoch-*.pt"):
        m = SNAPSHOT.search(path.name)
        if m:
            found.append((int(m.group(1)), path))
    return sorted(found)


def _snapshot_generator(generator, path: Path, params_hash: str | None):
    # the generator and training stack (CLIP, BERT) only for the snapshot curves; reading the metrics files,
    # as inkgen.metrics.seeded does, needs neither
    from inkgen.generate import Generator
    from inkgen.training import load_snapshot

    prior = load_snapshot(path, generator.prior, params_hash=params_hash)
    return Generator(generator.vqgan, prior, generator.text_encoder, source=str(path), device=generator.device,
                     guidable=generator.guidable)


def snapshot_quality(variant: str, generator, snapshots: Sequence[tuple[int, Path]], prompts: Sequence[str], *,
                     clip, classifier, gen_kwargs: Mapping[str, Any], classifier_head: str, confidence: float,
                     n_resamples: int, seed: int, batch_size: int, params_hash: str | None = None) -> pd.DataFrame:
    """Per snapshot epoch: the prompts painted by that epoch's prior, scored. Columns ``variant, epoch,
    metric, value, low, high, n`` (metrics ``clip_cosine``, ``classifier_score``)."""
    rows = []
    for epoch, path in snapshots:
        images = _snapshot_generator(generator, path, params_hash).generate_tensors(list(prompts), **gen_kwargs)
        cos = clip_cosine(clip, images, prompts, batch_size)
        est = {"clip_cosine": bootstrap_ci(cos, np.mean, confidence=confidence, n_resamples=n_resamples,
                                           seed=seed, method="percentile")}
        logp = classifier_log_probs(classifier, images, classifier_head, batch_size)
        est["classifier_score"] = bootstrap_ci_indices(lambda i: is_formula(logp[i]), (len(logp),),
                                                       confidence=confidence, n_resamples=n_resamples, seed=seed)
        for metric, e in est.items():
            rows.append({"variant": variant, "epoch": epoch, "metric": metric, "value": e.mean, "low": e.low,
                         "high": e.high, "n": e.n})
    return pd.DataFrame(rows, columns=["variant", "epoch", "metric", "value", "low", "high", "n"])


def snapshot_images(generator, snapshots: Sequence[tuple[int, Path]], prompt: str, count: int, *,
                    gen_kwargs: Mapping[str, Any], params_hash: str | None = None) -> tuple[list[int], torch.Tensor]:
    """Figure 12: ``prompt`` painted ``count`` times by every snapshot (same seeds for every epoch, so the
    pictures differ only by what training changed). Returns the epochs and (E * count, 3, R, R) images."""
    epochs, images = [], []
    kwargs = {**gen_kwargs, "count": count}
    for epoch, path in snapshots:
        epochs.append(epoch)
        images.append(_snapshot_generator(generator, path, params_hash).generate_tensors([prompt], **kwargs))
    if not images:
        raise FileNotFoundError("no per-epoch prior snapshots (prior-epoch-NNN.pt): set prior_train.snapshots")
    return epochs, torch.cat(images)


def curve_table(history: pd.DataFrame, snapshots: pd.DataFrame) -> pd.DataFrame:
    """History and snapshot scores in one long table ``variant, phase, epoch, metric, value``."""
    snap = snapshots.assign(phase="snapshot")[["variant", "phase", "epoch", "metric", "value"]]
    return pd.concat([history, snap], ignore_index=True)


def write_plot_files(curves: pd.DataFrame, folder: str | Path) -> dict[str, Path]:
    """One CSV per curve of :data:`PLOTS`: ``epoch`` and one column per variant (what dvc.yaml's
    ``plots:`` names). Returns plot name -> file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for (phase, metric), (name, _label) in PLOTS.items():
        part = curves[(curves["phase"] == phase) & (curves["metric"] == metric)]
        if part.empty:
            continue
        wide = part.pivot_table(index="epoch", columns="variant", values="value", aggfunc="first")
        wide = wide.reset_index().rename_axis(columns=None)
        path = folder / f"{name}.csv"
        wide.to_csv(path, index=False, float_format="%.6g")
        written[name] = path
    return written


def plot_curves(curves: pd.DataFrame, keys: Sequence[tuple[str, str]], cols: int = 3):
    """A grid of line plots, one per ``(phase, metric)`` of ``keys``, one line per variant."""
    import matplotlib.pyplot as plt  # pyplot (about a second) only when a figure is drawn

    keys = [k for k in keys if not curves[(curves["phase"] == k[0]) & (curves["metric"] == k[1])].empty]
    if not keys:
        raise ValueError("plot_curves: none of the requested curves was recorded")
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, min(cols, len(keys)), figsize=(4.2 * min(cols, len(keys)), 3.0 * rows),
                             squeeze=False)
    for ax in axes.flat[len(keys):]:
        ax.axis("off")
    for ax, (phase, metric) in zip(axes.flat, keys):
        part = curves[(curves["phase"] == phase) & (curves["metric"] == metric)]
        for variant, g in part.groupby("variant", sort=False):
            # one colour per variant in every panel (a panel may lack variants that share a VQGAN)
            colour = f"C{NAMES.index(variant)}" if variant in NAMES else None
            ax.plot(g["epoch"], g["value"], marker="o", markersize=3, label=variant, color=colour)
        ax.set_title(PLOTS.get((phase, metric), (metric, f"{phase} {metric}"))[1], fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
