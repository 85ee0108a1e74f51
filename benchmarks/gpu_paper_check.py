"""The paper profile on a GPU, in one command (<= 10 minutes on one A100/H100-class GPU):

    python benchmarks/gpu_paper_check.py --out reports/gpu_paper_check.json

trains each phase of the ``paper`` profile (VQGAN f16 at 256 px with the GAN and CLIP guidance on, then the
12-layer Transformer stacked decoder) for a fixed number of steps with the library's own training functions
(mixed precision on CUDA: bf16 where supported, else fp16 with a grad scaler), and reports training
images/s (the second epoch's, after warm-up), peak GPU memory, and the latency of text -> image generation
at 256 px (one prompt, median of timed runs after warm-up) beside the paper's 23 ms (section 3.3). Writes
everything to ``--out`` (JSON). The data are random images and captions: speed and memory do not depend on
the pixels, and the weights trained here are thrown away.

The profile is applied in memory (params.yaml is not rewritten). ``--profile smoke --device cpu`` runs the
same code in seconds (tests/test_paper_shapes.py does).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inkgen.paper_shapes import (PAPER_LATENCY_MS, PeakMemory, build_models, parameter_breakdown,  # noqa: E402
                                 profile_params)

PROMPT = ("a flower and bird painting with winding branches and several birds perched on them, light ink wash, "
          "freehand brushwork")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu", "mps"])
    ap.add_argument("--steps", type=int, default=40, help="training steps per phase (two epochs of half)")
    ap.add_argument("--batch", type=int, default=0, help="global batch (0: the profile's vqgan_train.batch_size)")
    ap.add_argument("--latency-runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: the profile's train.threads)")
    ap.add_argument("--out", default=str(ROOT / "reports" / "gpu_paper_check.json"))
    args = ap.parse_args(argv)

    from inkgen.generate import Generator
    from inkgen.models.clip import build_clip, freeze
    from inkgen.models.text_encoder import TextEncoder
    from inkgen.training.runs import prior_run, vqgan_config, vqgan_run
    from inkgen.training import (PhaseData, autocast_dtype, effective_lambda, encode_captions, prior_config,
                                 resolve_device, train_prior, train_vqgan)
    from inkgen.training.features import empty_caption_features

    start = time.perf_counter()
    params = profile_params(args.profile, args.params)
    device = resolve_device(args.device)
    threads = args.threads or params.train.threads
    torch.set_num_threads(threads)
    encoder = TextEncoder(params.text_encoder.path or "", max_tokens=params.text_encoder.max_tokens)
    batch = args.batch or params.vqgan_train.batch_size
    per_epoch = max(1, args.steps // 2)
    n = per_epoch * batch
    res = params.curate.target_size
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(n, 3, res, res, generator=gen) * 2 - 1
    captions = [f"{PROMPT}, study {i}" for i in range(n)]
    text = encode_captions(encoder, captions)
    val = slice(0, min(n, 2 * batch))
    common = {"device": args.device, "epochs": 2, "batch_size": batch, "checkpoint_every": 0, "threads": threads}
    run = dataclasses.replace(vqgan_run(params, "full"), disc_start=0, **common)
    prior_settings = dataclasses.replace(prior_run(params, "full"), **common)
    report: dict = {"profile": args.profile, "device": str(device), "torch": torch.__version__,
                    "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
                    "mixed_precision": str(autocast_dtype(device)), "cpu_threads": threads, "resolution": res,
                    "batch": batch,
                    "steps_per_phase": 2 * per_epoch, "data": "random images and captions (speed only)"}
    models = build_models(params, encoder.dim)
    report["parameters"] = parameter_breakdown(models, encoder)
    del models

    phases = {}
    epochs: list[dict] = []
    guide = None
    if effective_lambda(run) > 0:
        guide = freeze(build_clip(params.clip.model, seed=params.clip.seed))
    with PeakMemory() as mem:
        data = PhaseData(images, text, captions, val_images=images[val], val_text=_rows(text, val))
        vq = train_vqgan(run, vqgan_config(params, "full", encoder.dim), data, params_hash=args.profile,
                         clip=guide, on_epoch=epochs.append, progress=False)
    phases["vqgan"] = _phase(epochs, mem)
    del guide
    epochs = []
    cm = prior_config(vq.model, encoder.dim, "full", **dataclasses.asdict(params.model.prior))
    with PeakMemory() as mem:
        empty = empty_caption_features(encoder) if prior_settings.uncond_prob > 0 else None
        pr = train_prior(prior_settings, vq.model, cm, PhaseData(images, text, val_images=images[val],
                                                                  val_text=_rows(text, val), empty_text=empty),
                         params_hash=args.profile, on_epoch=epochs.append, progress=False)
    phases["prior"] = _phase(epochs, mem)
    report["phases"] = phases

    generator = Generator(vq.model, pr.model, encoder, device=device, guidable=empty is not None)
    times = []
    for i in range(3 + args.latency_runs):  # 3 untimed warm-up calls
        _sync(device)
        t0 = time.perf_counter()
        generator.generate_tensors([PROMPT], seed=i, guidance_scale=params.generate.guidance_scale)
        _sync(device)
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    median = statistics.median(times)
    report["generate"] = {"resolution": res, "prompts_per_call": 1, "runs": len(times), "median_ms": median,
                          "min_ms": min(times), "max_ms": max(times), "paper_ms": PAPER_LATENCY_MS,
                          "ours_over_paper": median / PAPER_LATENCY_MS,
                          "tokens_decoded": sum(h * w for (h, w) in pr.model.shapes)}
    report["wall_seconds"] = time.perf_counter() - start
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for name, ph in phases.items():
        print(f"{name:>6}: {ph['images_per_second']:8.1f} images/s (epoch 2), peak GPU {ph['cuda_peak_mb']} MB, "
              f"peak RSS +{ph['peak_rss_delta_mb']:.0f} MB")
    print(f"generate at {res} px: median {median:.1f} ms over {len(times)} runs (paper: {PAPER_LATENCY_MS} ms)")
    print(f"wrote {out} in {report['wall_seconds']:.0f} s")
    return report


def _rows(text, sl: slice):
    from inkgen.training import TextFeatures

    return TextFeatures(text.tokens[sl], text.mask[sl], text.pooled[sl])


def _phase(epochs: list[dict], mem: PeakMemory) -> dict:
    warm = epochs[-1]  # the first epoch pays for allocation and kernel selection
    return {"images_per_second": warm["images_per_second"], "first_epoch_images_per_second":
            epochs[0]["images_per_second"], "epoch_seconds": [e["seconds"] for e in epochs],
            "cuda_peak_mb": None if mem.cuda_peak is None else round(mem.cuda_peak / 2**20),
            "peak_rss_delta_mb": mem.delta_bytes / 2**20}


if __name__ == "__main__":
    main()
