"""Phase 1's training loop against a plain reconstruction loop on the same model, at equal CPU budgets.

    python benchmarks/bench_phase1.py [--n 512] [--val 64] [--epochs 4] [--threads 2] [--variants full vqgan]
    python benchmarks/bench_phase1.py --profile     # what each term of eq. 14 adds to one step of full

For each variant (``full``: eqs. 6-10 all on, CLIP-guided; ``vqgan``: taming's VQGAN, no CLIP) at the sizes of
``params.yaml``, in ONE process on the same procedural images (``inkgen.data.procedural``, rendered at long
side 96 and centre-fitted to ``curate.target_size``):

* the study's loop, ``inkgen.training.train_vqgan`` with the ``train`` section of params.yaml (eq. 14: GAN
  from ``disc_start``, ``L_CLIP`` from ``clip_start``, learning-rate schedule, per-epoch validation) for
  ``--epochs`` epochs; ``L_CLIP`` uses a freshly built CLIP of ``clip.model``'s size (its cost is the real
  one; its guidance is untrained, so this measures speed, not the value of guidance);
* a plain loop on the same architecture: L1 + beta L_vq only, Adam(1e-3, default betas), batch
  ``train.batch_size``, run until it has used the same CPU-seconds as the study's loop.

Printed per variant and loop: training images/s (wall) and per CPU-second, CPU-seconds, validation PSNR
(dB, [0, 1] images, eval mode); then the study/plain ratios. The text vectors are random (384-d, the
embedded MiniLM's width). CPU time is this process's (``time.process_time``), so other load on the machine
inflates wall time more than it inflates CPU time.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import ImageOps  # noqa: E402

from inkgen import config  # noqa: E402
from inkgen.data.procedural import plan_corpus, render_painting  # noqa: E402
from inkgen.models.clip import ClipConfig, build_clip  # noqa: E402
from inkgen.models.vqgan import VQGAN  # noqa: E402
from inkgen.training.runs import train_config, vqgan_config  # noqa: E402
from inkgen.training import TextFeatures, effective_lambda, evaluate_vqgan, train_vqgan  # noqa: E402

TEXT_DIM = 384


def render(n: int, seed: int, size: int) -> torch.Tensor:
    ims = []
    for spec in plan_corpus(n, seed=seed):
        im, _ = render_painting(spec, 96)
        im = ImageOps.fit(im.convert("RGB"), (size, size))
        ims.append(torch.from_numpy(np.asarray(im, dtype=np.float32) / 127.5 - 1.0).permute(2, 0, 1))
    return torch.stack(ims)


def features(n: int, seed: int) -> TextFeatures:
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randn(n, 8, TEXT_DIM, generator=g)
    return TextFeatures(tokens, torch.ones(n, 8, dtype=torch.long), tokens.mean(1))


def plain_loop(vq_cfg, x, text, vx, vtext, *, batch: int, beta: float, cpu_budget: float, seed: int) -> dict:
    torch.manual_seed(seed)
    model = VQGAN(vq_cfg, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    use_text = vq_cfg.text_style_norm
    seen, wall, c0 = 0, 0.0, time.process_time()
    while time.process_time() - c0 < cpu_budget:
        idx = torch.randperm(len(x), generator=g)[:batch]
        w0 = time.perf_counter()
        out = model(x[idx], text.pooled[idx] if use_text else None)
        loss = (out.recon - x[idx]).abs().mean() + beta * out.vq_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        wall += time.perf_counter() - w0
        seen += len(idx)
    cpu = time.process_time() - c0
    val = evaluate_vqgan(model, vx, beta=beta, batch_size=64, pooled=vtext.pooled if use_text else None)
    return {"ips": seen / wall, "ipc": seen / cpu, "cpu": cpu, "psnr": val["val_psnr"], "images": seen}


def profile(params, threads: int, seed: int, batch: int = 32, reps: int = 3) -> None:
    """CPU-seconds of one phase-1 step of ``full`` (batch ``batch``), with each term of eq. 14 on or off."""
    from inkgen.models.clip import clip_guidance_loss, freeze
    from inkgen.models.vqgan import VQGANLoss

    size = params.curate.target_size
    vq = vqgan_config(params, "full", TEXT_DIM)
    clip = freeze(build_clip(ClipConfig(**dataclasses.asdict(params.clip.model)), seed=seed))
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 3, size, size, generator=g) * 2 - 1
    t = torch.randn(batch, TEXT_DIM, generator=g)
    ct = torch.nn.functional.normalize(torch.randn(batch, clip.config.embed_dim, generator=g), dim=-1)
    model = VQGAN(vq, seed=seed)
    loss_fn = VQGANLoss(vq, eta=0.1, lam=0.1, disc_start=0)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    opt_d = torch.optim.Adam(loss_fn.discriminator.parameters(), 1e-3)

    def step(gan: bool, with_clip: bool) -> None:
        out = model(x, t)
        cl = clip_guidance_loss(clip, out.recon, ct) if with_clip else None
        loss, _ = loss_fn.generator_loss(x, out.recon, out.vq_loss, 0 if gan else -1, last_layer=model.last_layer(),
                                         clip_loss=cl)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if gan:
            d, _ = loss_fn.discriminator_loss(x, out.recon.detach(), 0)
            opt_d.zero_grad(set_to_none=True)
            d.backward()
            opt_d.step()

    base = None
    for name, gan, with_clip in (("L1 + VQ", False, False), ("+ CLIP", False, True), ("+ GAN (and D step)", True, False),
                                 ("+ GAN + CLIP", True, True)):
        step(gan, with_clip)  # warm-up
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(reps):
            step(gan, with_clip)
        cpu, wall = (time.process_time() - c0) / reps, (time.perf_counter() - w0) / reps
        base = base or cpu
        print(f"{name:22s} {cpu:6.2f} CPU-s/step  {wall:6.2f} s wall  {batch / wall:6.1f} images/s  x{cpu / base:.2f}",
              flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--val", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", nargs="+", default=["full", "vqgan"])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain loop (compare recipes only)")
    ap.add_argument("--profile", action="store_true", help="only time one step with each term of eq. 14")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    params = config.load(args.params)
    if args.profile:
        profile(params, args.threads, args.seed)
        return
    size = params.curate.target_size
    t0 = time.perf_counter()
    x, vx = render(args.n, args.seed, size), render(args.val, args.seed + 1, size)
    text, vtext = features(args.n, args.seed), features(args.val, args.seed + 1)
    print(f"{args.n} + {args.val} procedural images at {size} px rendered in {time.perf_counter() - t0:.0f}s; "
          f"{args.threads} threads; study loop {args.epochs} epochs with params.yaml's train section", flush=True)
    clip = build_clip(ClipConfig(**dataclasses.asdict(params.clip.model)), seed=args.seed)
    rows = {}
    for variant in args.variants:
        cfg = dataclasses.replace(train_config(params, variant), epochs=args.epochs, threads=args.threads,
                                  checkpoint_every=0)
        vq = vqgan_config(params, variant, TEXT_DIM)
        clip_text = None
        if effective_lambda(cfg) > 0:
            clip_text = torch.nn.functional.normalize(torch.randn(args.n, clip.config.embed_dim), dim=-1)
        c0 = time.process_time()
        r = train_vqgan(cfg, vq, x, params_hash="bench", text=text, clip=clip if clip_text is not None else None,
                        clip_text=clip_text, val_images=vx, val_text=vtext, progress=False)
        cpu = time.process_time() - c0
        steps = r.steps
        study = {"ips": r.images_per_second, "ipc": steps * cfg.batch_size / cpu, "cpu": cpu,
                 "psnr": r.history[-1]["val_psnr"], "images": steps * cfg.batch_size}
        plain = None if args.no_plain else plain_loop(vq, x, text, vx, vtext, batch=cfg.batch_size, beta=cfg.beta,
                                                      cpu_budget=cpu, seed=args.seed)
        rows[variant] = (study, plain)
        for name, row in (("study loop", study), ("plain L1+VQ", plain)):
            if row is None:
                continue
            print(f"{variant:6s} {name:12s} images/s {row['ips']:6.1f}  per CPU-s {row['ipc']:6.1f}  "
                  f"CPU-s {row['cpu']:6.0f}  images {row['images']:6d}  val PSNR {row['psnr']:5.2f} dB", flush=True)
    print()
    for variant, (study, plain) in rows.items():
        if plain is None:
            continue
        print(f"{variant}: study/plain images per CPU-s x{study['ipc'] / plain['ipc']:.2f}, "
              f"PSNR at equal CPU {study['psnr'] - plain['psnr']:+.2f} dB")
    if {"full", "vqgan"} <= set(rows):
        print(f"full - vqgan, study loop, PSNR: {rows['full'][0]['psnr'] - rows['vqgan'][0]['psnr']:+.2f} dB "
              f"(CPU-s x{rows['full'][0]['cpu'] / rows['vqgan'][0]['cpu']:.2f})")


if __name__ == "__main__":
    main()
