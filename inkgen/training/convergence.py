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
    """The epoch (1-based) after which the validation loss never again improved, or ``None``.

    In plain words: average the validation loss over the last ``window`` epochs (a moving average, so
    that one noisy epoch does not decide). The convergence epoch is the *first* epoch after which the
    smoothed loss never again falls more than ``min_rel_improvement`` (a fraction, e.g. 0.01 = 1%) below
    its value at that epoch -- at any later epoch, not only the next one. A plateau that training later
    leaves is therefore not convergence. If even the last comparable epoch is followed by such an
    improvement, training had not converged and the answer is ``None`` (as it is with fewer than
    ``window + 1`` epochs: there is no later epoch to compare with).

    Example: losses 4, 2, 2, 1, 0.99, 0.98 with window 1 and 5%: epoch 2's plateau (2 -> 2) is left later
    (1 < 2 * 0.95), epoch 4's loss 1 is never again beaten by more than 5% (0.98 > 0.95), so training
    converged after epoch 4. ``params.yaml`` (``vqgan_train.convergence_*``, ``prior_train.convergence_*``) describes the same rule.
    """
    if min_rel_improvement < 0 or not math.isfinite(min_rel_improvement):
        raise ValueError(f"min_rel_improvement must be a finite number >= 0, got {min_rel_improvement}")
    for i, v in enumerate(val_losses):
        if not math.isfinite(float(v)):
            raise ValueError(f"validation loss of epoch {i + 1} is not finite ({v})")
    s = smoothed([float(v) for v in val_losses], window)
    for j in range(len(s) - 1):
        later_best = min(s[j + 1:])
        if s[j] - later_best <= min_rel_improvement * abs(s[j]):
            return j + window  # s[j] ends at 0-based epoch j + window - 1, i.e. 1-based epoch j + window
    return None
