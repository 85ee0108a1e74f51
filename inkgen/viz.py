"""Pictures for the executed notebooks: image grids with captions, saved figures.

Notebooks stay thin by calling these; every figure they show is drawn from files a stage wrote.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from inkgen.display import SavedFile


def image_grid(images: Sequence[Image.Image | str | Path], titles: Sequence[str] = (), cols: int = 6,
               cell_inches: float = 2.2, wrap: int = 28, max_lines: int = 3,
               suptitle: str | None = None) -> plt.Figure:
    """A grid of images with wrapped titles (at most ``max_lines`` lines) over each (paths or PIL images)."""
    n = len(images)
    if n == 0:
        raise ValueError("image_grid: no images to show")
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell_inches, rows * (cell_inches + 0.15 * max_lines)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        ax.imshow(Image.open(img).convert("RGB") if isinstance(img, (str, Path)) else img)
        if i < len(titles):
            ax.set_title("\n".join(textwrap.wrap(titles[i], wrap)[:max_lines]), fontsize=7)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def save_figure(fig: plt.Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save a figure (PNG, fixed metadata so re-runs give the same bytes) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})

    return SavedFile(path)  # a notebook cell ending here shows "saved: <relative path>", not PosixPath('/...')


def confusion_figures(matrices: dict[str, pd.DataFrame], cell_inches: float = 0.55) -> plt.Figure:
    """Confusion matrices (rows: true label, columns: predicted) side by side, counts written in cells."""
    fig, axes = plt.subplots(1, len(matrices), squeeze=False,
                             figsize=(sum(cell_inches * m.shape[1] + 2.4 for m in matrices.values()),
                                      cell_inches * max(m.shape[0] for m in matrices.values()) + 2.0))
    for ax, (name, matrix) in zip(axes.flat, matrices.items()):
        ax.imshow(matrix.to_numpy(), cmap="Greys")
        ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(matrix.shape[0]), matrix.index, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(name)
        peak = matrix.to_numpy().max() or 1
        for (i, j), value in np.ndenumerate(matrix.to_numpy()):
            ax.text(j, i, str(value), ha="center", va="center", fontsize=8,
                    color="white" if value > peak / 2 else "black")
    fig.tight_layout()
    return fig
