"""Evaluation of the study (paper section 3: Tables 1-3, Figures 8-13), every number with N and a 95% CI.

Modules: ``stats`` (Estimate, bootstrap and across-seed intervals), ``seeds`` (intervals over training
seeds x test items, Holm), ``seeded`` (Table 1's metrics per seed, assembled across seeds), ``claims``
(verdicts on directional claims), ``distribution`` (Fréchet distance and IS-formula scores; FID/IS only with local Inception
weights), ``alignment`` (CLIP cosine, CLIPScore), ``reconstruction`` (PSNR), ``cost`` (parameters, MACs,
inference time, convergence rounds), ``eval_config`` (EvalConfig: how it measures), ``table1`` (one variant's Table 1 row), ``paper`` (the
paper's reported numbers and claims).
"""

# No re-exports: importing a submodule (``inkgen.metrics.study``) must not import the others, because
# ``distribution`` pulls in torchmetrics and torchvision (seconds) that the study and instruction stages
# never use (every notebook kernel pays for its imports).
