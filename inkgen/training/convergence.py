"""The "convergence rounds" of the paper's evaluation (section 3): after how many epochs training
stopped paying off, read from the validation loss curve.
"""

from __future__ import annotations

import math
from typing import Sequence


def smoothed(losses: Sequence[float], window: int) -> list[float]:
    """Moving average over ``window`` epochs: entry ``i`` is the mean of epochs ``i-window+1 .. i``
    (0-based), defined from epoch ``window-1`` on; the result has ``len(losses) - window + 1`` entries."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    return [sum(losses[i - window + 1:i + 1]) / window for i in range(window - 1, len(losses))]


def convergence_epoch(val_losses: Sequence[float], window: int, min_rel_improvement: float) -> int | None:
    """The epoch (1-based) after which training had converged, or ``None`` if it was still improving.

    In plain words: average the validation loss over the last ``window`` epochs (a moving average, so
    that one noisy epoch does not decide). Walk along that smoothed curve. The first time the next
    epoch lowers the smoothed loss by no more than ``min_rel_improvement`` (a fraction, e.g. 0.01 = 1%)
    of its current value -- or raises it -- training has stopped improving, and the current epoch is the
    convergence epoch. If every epoch still improves by more than that, training has not converged and
    the answer is ``None`` (as it is when there are fewer than ``window + 1`` epochs to compare).

    Example: losses 4, 2, 1, 0.99, 0.98 with window 1 and 5%: 4->2 and 2->1 improve by 50%, 1->0.99 by
    1% only, so training converged after epoch 3.
    """
    if min_rel_improvement < 0 or not math.isfinite(min_rel_improvement):
        raise ValueError(f"min_rel_improvement must be a finite number >= 0, got {min_rel_improvement}")
    for i, v in enumerate(val_losses):
        if not math.isfinite(float(v)):
            raise ValueError(f"validation loss of epoch {i + 1} is not finite ({v})")
    s = smoothed([float(v) for v in val_losses], window)
    for j in range(len(s) - 1):
        if s[j] - s[j + 1] <= min_rel_improvement * abs(s[j]):
            return j + window  # s[j] ends at 0-based epoch j + window - 1, i.e. 1-based epoch j + window
    return None
