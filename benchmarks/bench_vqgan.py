"""Training speed and reconstruction quality of the improved VQGAN against taming's VQGAN, side by side.

    python benchmarks/bench_vqgan.py [--steps 150] [--batch 16] [--n 64] [--threads 2] [--seed 0]

Both models (variant ``full``: eqs. 6-10 all on; variant ``vqgan``: taming-transformers' architecture)
are built at the sizes of ``params.yaml`` (``model.vqgan``, resolution ``curate.target_size``) and trained in ONE process on the same images, the same
batch order and the same optimiser, their steps interleaved so that any other load on the machine hits
both alike. Each step is L1 + beta * L_vq (+ hinge GAN with taming's adaptive weight from
``--disc-start``), with a discriminator step after it. The images are procedural ink paintings
(``inkgen.data.procedural``) rendered at long side 96 and centre-fitted to 64x64; the full model gets a
fixed random 384-d text vector per image (its eq. 8 input; the vqgan variant ignores it).

Printed per model: parameters, images/s (wall, and per CPU-second of this process), reconstruction
PSNR (dB, on [0, 1] images, eval mode) on the training images at the end, codebook usage; then the
ratios full / vqgan.
"""

from __future__ import annotations

import argparse
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
from inkgen.models.vqgan.model import VQGAN  # noqa: E402
from inkgen.models.vqgan.losses import VQGANLoss
from inkgen.training.runs import vqgan_config  # noqa: E402


TEXT_DIM = 384  # the embedded MiniLM's width; the full model's eq. 8 input is a fixed random vector per image


def load_images(n: int, seed: int, size: int) -> torch.Tensor:
    ims = []
    for spec in plan_corpus(n, seed=seed):
        im, _ = render_painting(spec, 96)
        im = ImageOps.fit(im.convert("RGB"), (size, size))            # centre crop to square, resize
        ims.append(torch.from_numpy(np.asarray(im, dtype=np.float32) / 127.5 - 1.0).permute(2, 0, 1))
    return torch.stack(ims)                                            # (N, 3, size, size) in [-1, 1]


def psnr(model: VQGAN, x: torch.Tensor, t: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        rec = torch.cat([model(x[i:i + 16], t[i:i + 16]).recon for i in range(0, len(x), 16)])
    model.train()
    mse = torch.mean(((rec.clamp(-1, 1) - x) / 2) ** 2).item()
    return 10 * math.log10(1.0 / max(mse, 1e-12))


class Runner:
    def __init__(self, params, variant: str, seed: int, lr: float, disc_start: int):
        self.variant = variant
        self.model = VQGAN(vqgan_config(params, variant, TEXT_DIM), seed=seed)
        torch.manual_seed(seed + 1)
        self.crit = VQGANLoss(self.model.config, beta=1.0, eta=0.8, disc_start=disc_start)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr, betas=(0.5, 0.9))
        self.opt_d = torch.optim.Adam(self.crit.discriminator.parameters(), lr=lr, betas=(0.5, 0.9))
        self.wall = self.cpu = 0.0
        self.images = 0
        self.log: dict = {}

    def step(self, x: torch.Tensor, t: torch.Tensor, step: int) -> None:
        w0, c0 = time.perf_counter(), time.process_time()
        out = self.model(x, t)
        loss, log = self.crit.generator_loss(x, out.recon, out.vq_loss, step, self.model.last_layer())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        if step >= self.crit.disc_start:
            d_loss, dlog = self.crit.discriminator_loss(x, out.recon, step)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            log.update(dlog)
        self.wall += time.perf_counter() - w0
        self.cpu += time.process_time() - c0
        self.images += len(x)
        self.log = {**log, **{k: float(v) for k, v in out.stats.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--disc-start", type=int, default=None, help="GAN from this step (default: steps // 2)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--params", default="params.yaml", help="model sizes from this params file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    disc_start = args.steps // 2 if args.disc_start is None else args.disc_start

    t0 = time.perf_counter()
    params = config.load(args.params)
    x = load_images(args.n, args.seed, params.curate.target_size)
    g = torch.Generator().manual_seed(args.seed)
    text = torch.randn(args.n, TEXT_DIM, generator=g)
    print(f"{args.n} procedural images {tuple(x.shape[1:])} rendered in {time.perf_counter() - t0:.1f}s; "
          f"{args.steps} steps, batch {args.batch}, GAN from step {disc_start}, {args.threads} threads")

    runners = [Runner(params, "full", args.seed, args.lr, disc_start),
               Runner(params, "vqgan", args.seed, args.lr, disc_start)]
    start = {r.variant: psnr(r.model, x, text) for r in runners}
    for step in range(args.steps):
        idx = torch.randperm(args.n, generator=g)[: args.batch]
        for r in (runners if step % 2 == 0 else runners[::-1]):        # alternate who goes first
            r.step(x[idx], text[idx], step)
        if (step + 1) % max(1, args.steps // 5) == 0:
            print(f"step {step + 1:4d} " + "  ".join(
                f"{r.variant}: rec {r.log['rec']:.4f} vq {r.log['vq']:.4f} d_usage {r.log['detail_usage']:.2f}"
                for r in runners), flush=True)

    rows = {}
    print(f"\n{'variant':8s} {'params':>9s} {'img/s':>7s} {'img/cpu-s':>9s} {'PSNR0':>6s} {'PSNR':>6s} "
          f"{'usage':>14s} {'reinit':>6s}")
    for r in runners:
        p = psnr(r.model, x, text)
        usage = " ".join(f"{k[0]}:{q.usage_stats(q.nearest(q.recent[: int(q.recent_filled)])) ['usage']:.2f}"
                         for k, q in r.model.codebooks().items())
        reinit = sum(int(q.n_reinit) for q in r.model.codebooks().values())
        rows[r.variant] = dict(ips=r.images / r.wall, ipc=r.images / r.cpu, psnr=p)
        print(f"{r.variant:8s} {r.model.param_count():9d} {r.images / r.wall:7.1f} {r.images / r.cpu:9.1f} "
              f"{start[r.variant]:6.2f} {p:6.2f} {usage:>14s} {reinit:6d}")
    f, v = rows["full"], rows["vqgan"]
    print(f"\nfull / vqgan: throughput x{f['ips'] / v['ips']:.2f} (per CPU-s x{f['ipc'] / v['ipc']:.2f}), "
          f"PSNR {f['psnr'] - v['psnr']:+.2f} dB")


if __name__ == "__main__":
    main()
