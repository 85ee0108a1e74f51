"""Pictures for the executed notebooks: image grids with captions, saved figures.

Notebooks stay thin by calling these; every figure they show is drawn from files a stage wrote.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
from PIL import Image


def image_grid(images: Sequence[Image.Image | str | Path], titles: Sequence[str] = (), cols: int = 6,
               cell_inches: float = 2.2, wrap: int = 28, suptitle: str | None = None) -> plt.Figure:
    """A grid of images with short wrapped titles under each (paths or PIL images)."""
    n = len(images)
    if n == 0:
        raise ValueError("image_grid: no images to show")
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell_inches, rows * (cell_inches + 0.45)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        ax.imshow(Image.open(img).convert("RGB") if isinstance(img, (str, Path)) else img)
        if i < len(titles):
            ax.set_title("\n".join(textwrap.wrap(titles[i], wrap)[:3]), fontsize=7)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def save_figure(fig: plt.Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save a figure (PNG, fixed metadata so re-runs give the same bytes) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path
