"""The study's ablation variants (paper Table 1), defined once: what each changes, and which runs they share.

A variant is the VQGAN's four improvement flags (fields of ``inkgen.models.vqgan.VQGANConfig``: the residual
dense blocks, the attention encoder of eq. 6, the dual codebook of eq. 10, the text-style normalisation of
eq. 8), whether CLIP guides phase 1 (``L_CLIP`` of eq. 13 in eq. 14; without it lambda is 0) and whether the
prior has the cross-modal alignment of eq. 11. Everything else follows from these: two variants with the
same flags and the same guidance are the same phase-1 run (:func:`vqgan_owner`), and a guided run equals its
unguided twin until ``L_CLIP`` joins (:func:`branch_source`). The models never read this module (they take
flags); ``inkgen.config`` checks variant names against it. It imports nothing of the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

_IMPROVED = {"rdb": True, "attention_encoder": True, "dual_codebook": True, "text_style_norm": True}


@dataclass(frozen=True)
class Variant:
    name: str
    vqgan: Mapping[str, bool]  # the VQGAN's improvement flags (VQGANConfig fields)
    clip_guided: bool          # L_CLIP (eq. 13) in eq. 14; False: trained with lambda = 0
    alignment: bool            # the prior's cross-modal alignment (eq. 11); False: a pooled-text projection


# In the paper's Table 1 order, which is also every table's and plot's order.
VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("full", _IMPROVED, clip_guided=True, alignment=True),            # MTDIG-TIGIVM-CLIP
    Variant("no_clip", _IMPROVED, clip_guided=False, alignment=True),
    Variant("no_transformer", _IMPROVED, clip_guided=True, alignment=False),  # no cross-modal alignment
    Variant("vqgan_clip", {**_IMPROVED, "rdb": False}, clip_guided=True, alignment=True),  # taming's decoder blocks
    Variant("vqgan", dict.fromkeys(_IMPROVED, False), clip_guided=False, alignment=True),  # taming's VQGAN
)}
NAMES = tuple(VARIANTS)


def variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; allowed: {list(NAMES)}")
    return VARIANTS[name]


def vqgan_owner(name: str) -> str:
    """The variant whose phase-1 run ``name`` uses: the first in ``NAMES`` order with the same VQGAN flags
    and the same CLIP guidance (hence the very same run): ``no_transformer`` uses ``full``'s."""
    me = variant(name)
    return next(v.name for v in VARIANTS.values() if v.vqgan == me.vqgan and v.clip_guided == me.clip_guided)


def branch_source(name: str) -> str | None:
    """The CLIP-free variant whose phase-1 run ``name``'s continues from the step ``L_CLIP`` joins eq. 14, or
    None: a guided run and the unguided run of the same VQGAN are the same computation until then."""
    owner = variant(vqgan_owner(name))
    if not owner.clip_guided:
        return None
    return next((v.name for v in VARIANTS.values() if v.vqgan == owner.vqgan and not v.clip_guided), None)


def stage_runs() -> dict[str, tuple[str, ...]]:
    """The variants of each training stage's dvc.yaml matrix: ``prior`` every variant; ``vqgan`` the owners of
    a VQGAN that train it from step 0; ``vqgan_guided`` the owners that continue a twin's run. DVC reads
    matrices from params only, so params.yaml's ``variants`` lists them, checked against this."""
    owners = [n for n in NAMES if vqgan_owner(n) == n]
    return {"prior": NAMES, "vqgan": tuple(n for n in owners if branch_source(n) is None),
            "vqgan_guided": tuple(n for n in owners if branch_source(n) is not None)}
