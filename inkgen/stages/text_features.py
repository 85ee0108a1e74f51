"""Stage text_features (notebook 04_text_features): every caption of the dataset through the frozen BERT,
once, into ``models/text_features.pt``, read by every training run (each variant, each seed, both phases)
instead of each run encoding the captions again."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from inkgen.config import Params, project_root
from inkgen.data.dataset import load_split
from inkgen.layout import Layout, write_metrics
from inkgen.training.features import encode_captions, save_text_features
from inkgen.training.runs import text_encoder, text_encoder_record

SPLITS = ("train", "val", "test")


def run(params: Params, root: str | Path | None = None) -> dict[str, Any]:
    """Encode every split's captions, save them, write ``<paths.metrics>/text_features.json``; returns it."""
    root = Path(root) if root is not None else project_root()
    layout = Layout(params, root)
    start, cpu = time.perf_counter(), time.process_time()
    encoder = text_encoder(params, root)
    splits = {}
    for name in SPLITS:
        captions = load_split(layout.manifest, name, root).captions
        splits[name] = (captions, encode_captions(encoder, captions))
    path = layout.text_features
    save_text_features(path, splits, text_encoder_record(params, encoder))
    summary = {"path": str(path.relative_to(root)), "captions": {k: len(c) for k, (c, _) in splits.items()},
               "dim": int(encoder.dim), "max_tokens": {k: int(f.tokens.shape[1]) for k, (_, f) in splits.items()},
               "wall_seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}
    write_metrics(layout.stage_metrics("text_features"), summary)
    return summary
