"""Stage vqgan@<variant>-<seed> (notebook 05a_vqgan): phase 1 of MTDIG-TIGIVM-CLIP (paper section 2.2), the
improved VQGAN trained with eq. 14, for each variant that owns a VQGAN (``no_transformer`` uses ``full``'s,
:func:`inkgen.training.runs.vqgan_owner`) and each seed of ``seeds``; checkpoint under
``models/vqgan/<variant>/seed-<S>/``, metrics ``<paths.metrics>/vqgan/<variant>/seed-<S>.json``. ``full``'s
run continues ``no_clip``'s at ``vqgan_train.clip_start`` (:func:`inkgen.training.runs.branch_source`; dvc.yaml's
stage ``vqgan_guided``), since until then the two are the same computation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from inkgen.config import Params, project_root
from inkgen.layout import Layout, write_metrics
from inkgen.models.vqgan.config import VQGANConfig
from inkgen.training.config import TrainError, effective_lambda
from inkgen.training.runs import (branch_source, fit_vqgan, load_data, parameter_table, params_hash, vqgan_run,
                                  vqgan_config, vqgan_owner)
from inkgen.training.vqgan_phase import TrainResult


@dataclass
class VQGANStage:
    variant: str
    config: VQGANConfig
    result: TrainResult
    history: pd.DataFrame
    parameters: pd.Series
    originals: torch.Tensor        # validation images shown in the notebook, (n, 3, R, R) in [-1, 1]
    reconstructions: torch.Tensor
    metrics: dict[str, Any]


def shown_items(rows: pd.DataFrame, n: int) -> list[int]:
    """Row positions of ``n`` validation items to show reconstructed: the coloured fine-brush (``gongbi``)
    paintings first, half of them, where colour errors show, then the others in split order."""
    types = rows["painting_type"].to_numpy() if "painting_type" in rows else np.array([""] * len(rows))
    gongbi = [i for i, t in enumerate(types) if t == "gongbi"][: max(1, n // 2)]
    rest = [i for i in range(len(rows)) if i not in set(gongbi)]
    return (gongbi + rest)[:n]


def run(params: Params, root: str | Path | None, variant: str, seed: int, *, show: int = 8,
        progress: bool = True) -> VQGANStage:
    """Phase 1 for ``variant`` (which must own its VQGAN) with training seed ``seed`` (one of
    ``seeds``), checkpoint to ``models/vqgan/<variant>/seed-<seed>/``."""
    root = Path(root) if root is not None else project_root()
    layout = Layout(params, root)
    checkpoint = layout.vqgan_checkpoint(variant, seed)  # refuses a seed that is not in seeds, before any work
    owner = vqgan_owner(params, variant)
    if owner != variant:
        raise TrainError(f"variant {variant!r} trains no VQGAN of its own: it uses {owner!r}'s (same flags, same "
                         "CLIP weight); run the vqgan stage for that variant")
    config = vqgan_run(params, variant, seed)
    data = load_data(params, root)
    vq_config = vqgan_config(params, variant, data.encoder.dim)
    start = time.perf_counter()
    if params.train.nproc > 1:  # torchrun: every process runs fit_vqgan; the checkpoint is read back here
        from inkgen.launch import load_result, run_phase  # the torchrun launcher, only for nproc > 1

        record = run_phase("vqgan", params, variant, seed, root, progress=progress)
        result = load_result(checkpoint, params_hash(params, "vqgan"), record)
    else:
        result = fit_vqgan(params, variant, seed, root, data, progress=progress)
    wall = time.perf_counter() - start
    model = result.model
    shown = torch.as_tensor(shown_items(data.val.rows, show))
    x = data.val.as_float_tensor()[shown]
    with torch.no_grad():
        recon = model(x, data.val_text.pooled[shown] if vq_config.text_style_norm else None).recon.clamp(-1, 1)
    last = result.history[-1]
    parameters = parameter_table(model, result.discriminator)
    twin = branch_source(params, variant)
    metrics = {"variant": variant, "seed": int(seed), "epochs": len(result.history), "steps": result.steps,
               # the first clip_start steps are the twin's run (the same computation): wall time is this run's own
               "continues": {"variant": twin, "from_step": min(config.clip_start, result.steps)} if twin else None,
               "converged_epoch": result.converged_epoch, "wall_seconds": wall,
               "train_images_per_second": result.images_per_second,
               "parameters": int(parameters["generator total"]),
               "lambda_clip": effective_lambda(config), "n_train": len(data.train), "n_val": len(data.val),
               "excluded_by_copyright_screen": len(data.excluded),
               **{k: v for k, v in last.items() if k.startswith("val_")},
               "codes_reinitialised": {k: int(q.n_reinit) for k, q in model.codebooks().items()}}
    write_metrics(layout.run_metrics("vqgan", variant, seed), metrics)
    return VQGANStage(variant, vq_config, result, pd.DataFrame(result.history), parameters, x, recon, metrics)
