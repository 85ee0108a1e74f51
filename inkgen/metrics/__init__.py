"""Evaluation of the study (paper section 3: Tables 1-3, Figures 8-13), every number with N and a 95% CI.

Modules: ``stats`` (Estimate, bootstrap and across-seed intervals), ``seeds`` (intervals over training
seeds x test items, Holm), ``seeded`` (Table 1's metrics per seed, assembled across seeds), ``claims``
(verdicts on directional claims), ``distribution`` (Fréchet distance and IS-formula scores; FID/IS only with local Inception
weights), ``alignment`` (CLIP cosine, CLIPScore), ``reconstruction`` (PSNR), ``cost`` (parameters, MACs,
inference time, convergence rounds), ``table1`` (EvalConfig, one variant's Table 1 row), ``paper`` (the
paper's reported numbers and claims).
"""

from inkgen.metrics.alignment import clip_cosine, clip_score
from inkgen.metrics.claims import (DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, NOT_APPLICABLE, ClaimVerdict, Comparison,
                                   Seeded, compare_exact, compare_samples, compare_seeded, holm_verdicts, judge)
from inkgen.metrics.cost import (Convergence, Timing, convergence_rounds, count_macs, device_name,
                                 parameter_count, time_inference, time_interleaved)
from inkgen.metrics.distribution import (InceptionExtractor, classifier_log_probs, clip_image_features,
                                         distribution_metrics, frechet_distance, frechet_distance_lowrank,
                                         inception_type_score)
from inkgen.metrics.paper import (STAND_INS, Claim, PaperDataError, PaperReported, judge_claims,
                                  load_paper_reported)
from inkgen.metrics.reconstruction import psnr_per_image
from inkgen.metrics.stats import Estimate, across_seeds, bootstrap_ci, bootstrap_ci_indices, exact
from inkgen.metrics.table1 import EvalConfig, VariantMetrics, evaluate_variant

__all__ = ["DOES_NOT_HOLD", "HOLDS", "INCONCLUSIVE", "NOT_APPLICABLE", "STAND_INS", "Seeded", "compare_exact",
           "compare_seeded", "holm_verdicts", "Claim", "ClaimVerdict", "Comparison",
           "Convergence", "Estimate", "EvalConfig", "InceptionExtractor", "PaperDataError", "PaperReported",
           "Timing", "VariantMetrics", "across_seeds", "bootstrap_ci", "bootstrap_ci_indices",
           "classifier_log_probs", "clip_cosine", "clip_image_features", "clip_score", "compare_samples", "convergence_rounds", "count_macs", "device_name", "distribution_metrics",
           "evaluate_variant", "exact", "frechet_distance", "frechet_distance_lowrank", "inception_type_score", "judge", "judge_claims",
           "load_paper_reported", "parameter_count", "psnr_per_image", "time_inference", "time_interleaved"]
