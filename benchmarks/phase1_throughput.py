"""Phase 1's training loop against a plain reconstruction loop on the same model, at equal CPU budgets,
for ``full`` and ``vqgan`` side by side in one process.

    python benchmarks/phase1_throughput.py [--root .] [--epochs E] [--threads 2] [--variants full vqgan]
    python benchmarks/phase1_throughput.py --profile      # CPU-seconds of one step with each term of eq. 14

Data: the study's own training and validation splits with their BERT features (``data/dataset``,
``models/text_features.pt`` under ``--root``) and the study's CLIP guide (``models/clip.pt``) when they exist
(after ``dvc repro text_features clip``); otherwise ``--n`` procedural paintings (``inkgen.data.procedural``,
long side 96, centre-fitted to ``curate.target_size``), random 384-d text vectors and a freshly built CLIP of
``clip.model``'s size (then CLIP's cost is real, its guidance is not). The header line says which.

Per variant (sizes and recipe from ``params.yaml``):

* **study loop**: ``inkgen.training.train_vqgan`` with the ``train`` section (eq. 14 with ``L_CLIP`` from
  ``clip_start`` and the GAN from ``disc_start``, learning-rate schedule, per-epoch validation, checkpoints
  every ``checkpoint_every`` steps into a temporary folder) for ``vqgan_train.epochs`` (or ``--epochs``) epochs;
* **plain loop**: the same architecture and seed, L1 + beta L_vq only, Adam(``vqgan_train.lr``, default betas),
  batch ``vqgan_train.batch_size``, no validation or checkpoints, run until it has used the CPU-seconds the study
  loop used (all of them: steps, validation, checkpoints).

Printed per variant and loop: training images/s (wall, steps only), images per CPU-second (everything the
loop did), CPU-seconds, validation PSNR (dB, [0, 1] images, eval mode); then study/plain ratios and the
full - vqgan PSNR difference. CPU time is this process's (``time.process_time``): other load on the machine
inflates wall time more than CPU time, and both loops of a variant run back to back in this process.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import ImageOps  # noqa: E402

from inkgen import config  # noqa: E402
from inkgen.models.vqgan.model import VQGAN  # noqa: E402
from inkgen.training.runs import vqgan_config, vqgan_run  # noqa: E402
from inkgen.training import PhaseData, TextFeatures, effective_lambda, evaluate_vqgan, train_vqgan  # noqa: E402

TEXT_DIM = 384  # the embedded MiniLM's width


def procedural(n: int, seed: int, size: int) -> tuple[torch.Tensor, TextFeatures]:
    from inkgen.data.procedural import plan_corpus, render_painting

    ims = []
    for spec in plan_corpus(n, seed=seed):
        im, _ = render_painting(spec, 96)
        im = ImageOps.fit(im.convert("RGB"), (size, size))
        ims.append(torch.from_numpy(np.asarray(im, dtype=np.float32) / 127.5 - 1.0).permute(2, 0, 1))
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randn(n, 8, TEXT_DIM, generator=g)
    return torch.stack(ims), TextFeatures(tokens, torch.ones(n, 8, dtype=torch.long), tokens.mean(1))


def load_inputs(params, root: Path, n: int, val: int, seed: int):
    """(train images, train text, captions or None, val images, val text, clip, what) - the study's data
    when it is there, else procedural stand-ins."""
    from inkgen.models.clip import build_clip, load_clip

    manifest = root / params.paths.dataset / "manifest.csv"
    features = root / params.paths.models / "text_features.pt"
    clip_file = root / params.paths.models / "clip.pt"
    if manifest.is_file() and features.is_file():
        from inkgen.training.runs import load_data

        data = load_data(params, root)
        clip = load_clip(clip_file) if clip_file.is_file() else None
        what = (f"the study's splits under {root} ({len(data.train)} train / {len(data.val)} val images), "
                f"{'its CLIP guide' if clip is not None else 'an untrained CLIP (no models/clip.pt)'}")
        if clip is None:
            clip = build_clip(params.clip.model, seed=seed)
        return (data.train.as_float_tensor(), data.train_text, list(data.train.captions), data.val.as_float_tensor(),
                data.val_text, clip, what)
    size = params.curate.target_size
    x, text = procedural(n, seed, size)
    vx, vtext = procedural(val, seed + 1, size)
    clip = build_clip(params.clip.model, seed=seed)
    return x, text, None, vx, vtext, clip, (f"{n} + {val} procedural images (no dataset under {root}), random text "
                                           "vectors, an untrained CLIP (speed only)")


def plain_loop(vq_cfg, x, text, vx, vtext, *, batch: int, lr: float, beta: float, cpu_budget: float,
               seed: int) -> dict:
    """L1 + beta L_vq with Adam, nothing else, until ``cpu_budget`` CPU-seconds are spent."""
    torch.manual_seed(seed)
    model = VQGAN(vq_cfg, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
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


def study_loop(params, variant: str, x, text, captions, vx, vtext, clip, *, epochs: int | None, threads: int,
               seed: int) -> tuple[dict, object]:
    cfg = vqgan_run(params, variant)
    cfg = dataclasses.replace(cfg, threads=threads, seed=seed, **({"epochs": epochs} if epochs else {}))
    vq = vqgan_config(params, variant, text.dim)
    lam = effective_lambda(cfg)
    clip_text = None
    if lam > 0 and captions is None:  # procedural stand-ins have no captions: random unit text embeddings
        g = torch.Generator().manual_seed(seed)
        clip_text = torch.nn.functional.normalize(torch.randn(len(x), clip.config.embed_dim, generator=g), dim=-1)
    with tempfile.TemporaryDirectory() as tmp:
        c0 = time.process_time()
        r = train_vqgan(cfg, vq, PhaseData(x, text, captions, clip_text, val_images=vx, val_text=vtext),
                        params_hash="bench", clip=clip if lam > 0 else None,
                        checkpoint_dir=tmp if cfg.checkpoint_every else None, progress=False)
        cpu = time.process_time() - c0
    images = r.steps * min(cfg.batch_size, len(x))
    return ({"ips": r.images_per_second, "ipc": images / cpu, "cpu": cpu, "psnr": r.history[-1]["val_psnr"],
             "images": images}, cfg)


def profile(params, seed: int, batch: int = 32, reps: int = 3) -> None:
    """CPU-seconds of one phase-1 step of ``full`` (batch ``batch``), with each term of eq. 14 on or off."""
    from inkgen.models.clip import build_clip, clip_guidance_loss, freeze
    from inkgen.models.vqgan.losses import VQGANLoss

    size = params.curate.target_size
    vq = vqgan_config(params, "full", TEXT_DIM)
    clip = freeze(build_clip(params.clip.model, seed=seed))
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
    for name, gan, with_clip in (("L1 + VQ", False, False), ("+ CLIP", False, True),
                                 ("+ GAN (and D step)", True, False), ("+ GAN + CLIP", True, True)):
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
    ap.add_argument("--root", default=".", help="project root whose data/ and models/ are used when present")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--epochs", type=int, default=None, help="study-loop epochs (default: vqgan_train.epochs)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--n", type=int, default=512, help="procedural training images when there is no dataset")
    ap.add_argument("--val", type=int, default=64)
    ap.add_argument("--variants", nargs="+", default=["full", "vqgan"])
    ap.add_argument("--profile", action="store_true", help="only time one step with each term of eq. 14")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    params = config.load(args.params)
    if args.profile:
        profile(params, args.seed)
        return
    t0 = time.perf_counter()
    x, text, captions, vx, vtext, clip, what = load_inputs(params, Path(args.root), args.n, args.val, args.seed)
    print(f"data: {what}; loaded in {time.perf_counter() - t0:.0f}s; {args.threads} threads", flush=True)
    rows = {}
    for variant in args.variants:
        study, cfg = study_loop(params, variant, x, text, captions, vx, vtext, clip, epochs=args.epochs,
                                threads=args.threads, seed=args.seed)
        plain = plain_loop(vqgan_config(params, variant, text.dim), x, text, vx, vtext, batch=cfg.batch_size,
                           lr=cfg.lr, beta=cfg.beta, cpu_budget=study["cpu"], seed=args.seed)
        rows[variant] = (study, plain)
        for name, row in (("study loop", study), ("plain L1+VQ", plain)):
            print(f"{variant:10s} {name:12s} images/s {row['ips']:6.1f}  per CPU-s {row['ipc']:6.1f}  "
                  f"CPU-s {row['cpu']:6.0f}  images {row['images']:6d}  val PSNR {row['psnr']:5.2f} dB", flush=True)
    print()
    for variant, (study, plain) in rows.items():
        print(f"{variant}: study/plain images/s x{study['ips'] / plain['ips']:.2f}, images per CPU-s "
              f"x{study['ipc'] / plain['ipc']:.2f}; PSNR at equal CPU-s: study {study['psnr']:.2f}, plain "
              f"{plain['psnr']:.2f} ({study['psnr'] - plain['psnr']:+.2f} dB)")
    if {"full", "vqgan"} <= set(rows):
        (fs, fp), (vs, vp) = rows["full"], rows["vqgan"]
        print(f"full - vqgan PSNR: study loop {fs['psnr'] - vs['psnr']:+.2f} dB (CPU-s x{fs['cpu'] / vs['cpu']:.2f}), "
              f"plain loop {fp['psnr'] - vp['psnr']:+.2f} dB")


if __name__ == "__main__":
    main()
