"""How the evaluation measures (paper section 3): the settings of every Table 1 row and claim verdict.

Each field declares its type, range and meaning here, once (``inkgen.settings.setting``); params.yaml's
``evaluate`` section is these fields less ``batch_size`` (the shared ``inference`` section's) plus what the
evaluate stage alone decides (``inkgen.config.evaluation``). No defaults: every value the study tunes comes
from params.yaml. This module imports no torch: the params file is validated without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping

from inkgen.settings import check_fields, from_mapping, setting


@dataclass(frozen=True)
class EvalConfig:
    """The evaluation's settings (params.yaml ``evaluate``, with ``inference.batch_size``)."""

    confidence: float = setting(0.5, 0.9999, doc="level of every interval")
    n_resamples: int = setting(1, 1_000_000, doc="bootstrap resamples per interval")
    seed: int = setting(0, 2**31 - 1, doc="seed of the bootstrap resampling")
    ci_method: Literal["BCa", "percentile", "basic"] = setting(
        doc="scipy's bootstrap method for per-image metrics; set-level metrics always use percentile")
    clip_score_w: float = setting(1e-6, 100.0, doc="CLIPScore's w (Hessel et al. 2021: 2.5)")
    classifier_head: Literal["primary", "painting_type"] = setting(
        doc="the curation classifier head of the classifier score")
    is_splits: int = setting(1, 100, doc="groups the IS formula averages over (Salimans et al.: 10; 1 suits small N)")
    inception_weights: str = setting(doc='a local Inception-v3 file for FID/IS; "" = none (then only frechet_clip '
                                     "and classifier_score)")
    batch_size: int = setting(1, 65_536, doc="images per forward pass")
    timing_warmup: int = setting(0, 10_000, doc="untimed calls of the inference benchmark")
    timing_runs: int = setting(1, 100_000, doc="timed calls of the inference benchmark")
    set_resamples: int = setting(2, 1_000_000, doc="bootstrap resamples of the shared item indices for set-level "
                                 "metrics across seeds (each recomputes a Frechet distance per seed and variant)")

    def __post_init__(self) -> None:
        check_fields(self, "EvalConfig")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "EvalConfig":
        return from_mapping(cls, d, require_all=True)

