"""The improved VQGAN of MTDIG-TIGIVM-CLIP (paper section 2.2, eqs. 6-10), based on
taming-transformers' VQModel (Esser et al. 2021); ablation variants are flags of ``VQGANConfig``.

Modules: ``config`` (``VQGANConfig``, every architectural value; no torch), ``model`` (``VQGAN``),
``quantizer`` (eqs. 7 and 10), ``losses`` (eq. 14's terms, ``VQGANLoss``), ``discriminator`` (PatchGAN),
and the blocks (``encoder``, ``decoder``, ``blocks``).
"""

# No re-exports: ``inkgen.config`` reads ``config`` to validate params.yaml, and importing the package must not
# import torch for it (``inkgen generate`` forks its generator before torch is imported).
