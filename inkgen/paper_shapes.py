"""The ``paper`` profile's models at the paper's shapes: built from params (the profile applied in memory,
params.yaml untouched), counted part by part against the paper's 89 M, and trained for one step each
through the library's own training functions, with step time and peak memory measured.

The paper (section 3.3) reports 89 M parameters and 23 ms per image for the complete model, 72 M and 19 ms
without CLIP, and does not list the parts. :func:`parameter_breakdown` lists ours. What the architecture
explains: at the paper's f16 / 256 px sizes, the improved VQGAN autoencoder alone (attention encoder, dual
codebook, RDB + text-style decoder) has ~92 M parameters, and taming-transformers' plain f16 VQGAN (the
``vqgan`` variant) ~70 M: the paper's 89 M and 72 M match these two within 4%, not the generator with its
Transformer (a 12-layer, 512-wide decoder adds ~52 M) nor a CLIP (a ViT-B/32-size CLIP has ~151 M; CLIP adds
no weights to the VQGAN it guides). So the paper's figures most plausibly count the VQGAN only.

Memory: peak resident set size of this process during each model's run, minus the resident size just
before it (psutil, sampled every few milliseconds; tensors live outside Python's heap, so tracemalloc would
not see them), and ``resource.getrusage``'s lifetime maximum. On CUDA: ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import dataclasses
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import psutil
import torch
import yaml
from torch import nn

from inkgen import config
from inkgen.models.classifier import HEADS, build_classifier, default_classes, train_classifier
from inkgen.models.clip import build_clip, freeze
from inkgen.models.clip_train import train_clip
from inkgen.models.cross_modal import TextToCodes
from inkgen.models.vqgan.model import VQGAN
from inkgen.models.vqgan.losses import VQGANLoss
from inkgen.training import PhaseData, TextFeatures, effective_lambda, prior_config, train_prior, train_vqgan
from inkgen.training.runs import prior_run, vqgan_config, vqgan_run

PAPER_PARAMETERS = 89_000_000          # section 3.3: the complete model
PAPER_PARAMETERS_NO_CLIP = 72_000_000  # section 3.3: without CLIP
PAPER_LATENCY_MS = 23.0                # section 3.3: inference time of the complete model
IMPROVED = "improved VQGAN autoencoder (variant full)"
PLAIN = "taming f16 VQGAN (variant vqgan)"


def profile_params(profile: str = "paper", path: str | Path | None = None) -> config.Params:
    """params.yaml with a profile's overrides applied in memory (the file is not rewritten)."""
    path = Path(path) if path else config.find_params()
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if profile not in raw.get("profiles", {}):
        raise config.ParamsError(f"profiles.{profile}: no such profile (have {sorted(raw.get('profiles', {}))})")
    return config.parse(config.apply_overrides(raw, raw["profiles"][profile], f"profiles.{profile}"))


def _count(module: nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def build_models(params: config.Params, text_dim: int, variant: str = "full") -> dict[str, nn.Module]:
    """Every model of the study at ``params``' sizes, freshly initialised: ``vqgan``, ``discriminator``,
    ``prior``, ``clip``, ``classifier``."""
    vq_cfg = vqgan_config(params, variant, text_dim)
    vqgan = VQGAN(vq_cfg, seed=params.seeds[0])
    prior = TextToCodes(prior_config(vqgan, text_dim, variant, **dataclasses.asdict(params.model.prior)))
    clf = params.curate.classifier
    return {"vqgan": vqgan, "vqgan_plain": VQGAN(vqgan_config(params, "vqgan", text_dim), seed=params.seeds[0]),
            "discriminator": VQGANLoss(vq_cfg).discriminator, "prior": prior,
            "clip": build_clip(params.clip.model, seed=params.clip.seed),
            "classifier": build_classifier(clf.arch, clf.input_size, seed=clf.seed)}


def parameter_breakdown(models: dict[str, nn.Module], text_encoder: nn.Module | None = None) -> dict[str, int]:
    """Parameters per part, and the totals the paper's figures can be compared with."""
    vq = models["vqgan"].param_counts()
    clip = models["clip"].clip
    rows = {"VQGAN encoder (eq. 6)": vq["encoder"], "VQGAN codebooks (eq. 7/10)": vq["quantizer"],
            "VQGAN decoder (eq. 8-9)": vq["decoder"], "Transformer stacked decoder (eq. 11)": _count(models["prior"]),
            "CLIP image tower (eq. 13)": _count(clip.visual),
            "CLIP text tower (eq. 13)": _count(models["clip"]) - _count(clip.visual),
            "PatchGAN discriminator (training only)": _count(models["discriminator"]),
            "ResNet classifier (curation, eq. 1)": _count(models["classifier"])}
    if text_encoder is not None:
        rows["BERT text encoder (frozen)"] = _count(text_encoder)
    autoencoder = vq["encoder"] + vq["quantizer"] + vq["decoder"]
    rows[IMPROVED] = autoencoder
    rows[PLAIN] = _count(models["vqgan_plain"])
    rows["generator: improved VQGAN + Transformer"] = autoencoder + rows["Transformer stacked decoder (eq. 11)"]
    rows["generator + CLIP"] = rows["generator: improved VQGAN + Transformer"] + _count(models["clip"])
    return rows


class PeakMemory:
    """Peak resident memory of this process while the block runs, above what it held when it began
    (``delta_bytes``), sampled every ``interval`` seconds; on CUDA also the peak of allocated tensors."""

    def __init__(self, interval: float = 0.005):
        self.proc, self.interval = psutil.Process(), interval
        self.start = self.peak = 0
        self.cuda_peak = None

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        if torch.cuda.is_available():
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
            self.cuda_peak = int(torch.cuda.max_memory_allocated())

    @property
    def delta_bytes(self) -> int:
        return self.peak - self.start


def max_rss_bytes() -> int:
    """``resource.getrusage``'s peak resident set of this process so far (kB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _images(n: int, size: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _text(n: int, dim: int, seed: int, length: int = 32):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randn(n, length, dim, generator=g)
    return TextFeatures(tokens, torch.ones(n, length, dtype=torch.long), tokens.mean(1))


def _measured(train: Callable[[], float], batch: int, steps: int) -> dict[str, Any]:
    """Run ``train`` (it returns its training images/s) and measure it: seconds per step, the whole run's
    wall and CPU time, the peak memory it added (:class:`PeakMemory`)."""
    t0, c0 = time.perf_counter(), time.process_time()
    with PeakMemory() as mem:
        ips = train()
    cpu = time.process_time() - c0
    return {"batch": batch, "steps": steps, "images_per_second": ips,
            "seconds_per_step": batch / ips if ips else float("nan"),
            "wall_seconds": time.perf_counter() - t0, "cpu_seconds": cpu,
            "peak_rss_delta_mb": mem.delta_bytes / 2**20,
            "cuda_peak_mb": None if mem.cuda_peak is None else mem.cuda_peak / 2**20}


def train_steps(params: config.Params, text_dim: int, *, batch: int = 2, steps: int = 1, variant: str = "full",
                device: str | None = None,
                only: tuple[str, ...] = ("vqgan", "prior", "clip", "classifier"),
                on_result: Callable[[str, dict[str, Any]], None] | None = None) -> dict[str, dict[str, Any]]:
    """``steps`` training steps of each model at ``params``' shapes on random data (speed and memory do
    not depend on the pixels), through the library's own training functions. Per model: images/s of the
    training steps, seconds per step, peak memory, the run's wall time and this process's CPU time (all its
    threads; on a shared machine the honest figure) for the whole run (building, validation included).
    CLIP (contrastive) and the classifier (BatchNorm) train on at least 2 images per batch."""
    n = batch * steps
    res = params.curate.target_size
    # one epoch of `steps` steps at batch `batch`, GAN and checkpointing on from the first step
    common = {"epochs": 1, "batch_size": batch, "checkpoint_every": 0, **({"device": device} if device else {})}
    run = dataclasses.replace(vqgan_run(params, variant), disc_start=0, **common)
    prior = dataclasses.replace(prior_run(params, variant), **common)
    out: dict[str, dict[str, Any]] = {}

    def measure(name: str, fn: Callable[[], float]) -> None:
        out[name] = _measured(fn, batch if name in ("vqgan", "prior") else max(2, batch), steps)
        if on_result is not None:
            on_result(name, out[name])

    x, text = _images(n, res, 0), _text(n, text_dim, 0)
    captions = [f"a landscape painting number {i} with mountains and rivers, freehand" for i in range(n)]
    vq_cfg = vqgan_config(params, variant, text_dim)
    trained: dict[str, Any] = {}
    clip_cfg = params.clip.model
    if "vqgan" in only:
        guide = freeze(build_clip(clip_cfg, seed=0)) if effective_lambda(run) > 0 else None

        def vqgan() -> float:
            r = train_vqgan(run, vq_cfg, PhaseData(x, text, captions), params_hash="paper-shapes", clip=guide,
                            progress=False)
            trained["vqgan"] = r.model
            return r.images_per_second
        measure("vqgan", vqgan)
    if "prior" in only:
        frozen = trained.get("vqgan") or VQGAN(vq_cfg, seed=0)
        sizes = dataclasses.asdict(params.model.prior)
        empty = _text(1, text_dim, 1, length=2) if prior.uncond_prob > 0 else None  # the empty caption: [CLS] [SEP]
        measure("prior", lambda: train_prior(prior, frozen, prior_config(frozen, text_dim, variant, **sizes),
                                             PhaseData(x, text, empty_text=empty), params_hash="paper-shapes",
                                             progress=False).images_per_second)
    if max(2, batch) > batch:  # CLIP and the classifier: 2 images per batch at least
        x, captions = _images(2 * steps, res, 0), [f"a landscape painting number {i}" for i in range(2 * steps)]
    if "clip" in only:
        c = params.clip
        measure("clip", lambda: train_clip(build_clip(clip_cfg, seed=c.seed), x, captions, epochs=1,
                                           batch_size=max(2, batch), lr=c.lr, weight_decay=c.weight_decay,
                                           seed=c.seed, augment=c.augment).images_per_second)
    if "classifier" in only:
        clf = params.curate.classifier
        pixels = list(((x.permute(0, 2, 3, 1) + 1) * 127.5).to(torch.uint8).numpy())
        labels = {h: [default_classes()[h][0]] * len(pixels) for h in HEADS}
        measure("classifier", lambda: train_classifier(
            build_classifier(clf.arch, clf.input_size, seed=clf.seed), pixels, labels, epochs=1,
            batch_size=max(2, batch), lr=clf.lr, weight_decay=clf.weight_decay, seed=clf.seed).images_per_second)
    return out


def format_breakdown(rows: dict[str, int]) -> str:
    lines = [f"{name:<45} {count / 1e6:>8.2f} M" for name, count in rows.items()]
    lines.append(f"{'paper: complete model / without CLIP (3.3)':<45} {PAPER_PARAMETERS / 1e6:>8.2f} M / "
                 f"{PAPER_PARAMETERS_NO_CLIP / 1e6:.2f} M; ours: {IMPROVED} / paper 89 M = "
                 f"{rows[IMPROVED] / PAPER_PARAMETERS:.3f}, {PLAIN} / paper 72 M = "
                 f"{rows[PLAIN] / PAPER_PARAMETERS_NO_CLIP:.3f}")
    return "\n".join(lines)


__all__ = ["PAPER_LATENCY_MS", "PAPER_PARAMETERS", "PAPER_PARAMETERS_NO_CLIP", "PeakMemory", "build_models",
           "format_breakdown", "max_rss_bytes", "parameter_breakdown", "profile_params", "train_steps"]
