"""Reconstruction fidelity (paper section 3, Table 1 "PSNR / dB"): how faithfully the VQGAN of a variant
reproduces test images through its codebook (encode -> quantise -> decode).

PSNR = 10 log10(R^2 / MSE) with R the data range, computed per image by torchmetrics'
``peak_signal_noise_ratio`` (``reduction="none"`` over the channel and pixel dimensions) so that an
interval can be bootstrapped over images. Images in [-1, 1] are measured with range (-1, 1), which is the
same PSNR as on the [0, 1] or [0, 255] scale.
"""

from __future__ import annotations

import numpy as np
import torch

import inkgen  # noqa: F401  (torchmetrics imports torchvision: the CPU fix comes first)
from torchmetrics.functional.image import peak_signal_noise_ratio


def psnr_per_image(real: torch.Tensor, reconstructed: torch.Tensor,
                   value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """(N,) PSNR in dB of each reconstruction against its original; both (N, C, H, W) in ``value_range``
    (reconstructions are clipped to it first, as a saved image would be).

    A reconstruction identical to its original has infinite PSNR; that is refused with the indices
    named, since it means the "reconstruction" is the input itself.
    """
    if real.shape != reconstructed.shape or real.ndim != 4:
        raise ValueError(f"real and reconstructed images must both be (N, C, H, W) of one shape, got "
                         f"{tuple(real.shape)} and {tuple(reconstructed.shape)}")
    lo, hi = value_range
    psnr = peak_signal_noise_ratio(reconstructed.detach().double().clamp(lo, hi), real.detach().double(),
                                   data_range=(lo, hi), reduction="none", dim=(1, 2, 3))
    out = psnr.cpu().numpy()
    bad = np.flatnonzero(~np.isfinite(out))
    if len(bad):
        raise ValueError(f"reconstruction(s) {bad[:10].tolist()} equal their originals (infinite PSNR)")
    return out
