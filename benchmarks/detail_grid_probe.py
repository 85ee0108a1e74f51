"""How much a finer detail code grid gives back (issue 10): the full variant's VQGAN trained on the study's data
with another ``model.vqgan.ch_mult`` (fewer downsamplings: a 16x16 detail grid at 64 px instead of 8x8), its
validation PSNR per epoch, and its reconstructions of every test item judged by the curation classifier —
the ceiling the generations cannot pass (``benchmarks/recognition_ceiling.py`` does the same for the
committed models).

    python benchmarks/detail_grid_probe.py --root . --epochs 10 --ch-mult 1,2,4   # 16x16 detail codes
    python benchmarks/detail_grid_probe.py --root . --epochs 10 --ch-mult 1,2,4,8 # the committed 8x8

Run in a workspace where the default study ran: it reads the train/val/test splits, the text features, the
CLIP guide and the classifier. The run follows ``vqgan_train`` (batch, lr, schedule; CLIP guidance and the
discriminator start at the same fractions of the run as the committed ones). Nothing is written; the
printed JSON line is the result. Only phase 1: the prior that would paint the finer grid is not trained here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from inkgen import config  # noqa: E402
from inkgen.data.dataset import load_split  # noqa: E402
from inkgen.heldout import held_out_prompts, judge  # noqa: E402
from inkgen.layout import Layout  # noqa: E402
from inkgen.models.classifier import load_classifier  # noqa: E402
from inkgen.training import PhaseData, effective_lambda, train_vqgan  # noqa: E402
from inkgen.training.features import encode_captions  # noqa: E402
from inkgen.training.runs import text_encoder, vqgan_config, vqgan_run  # noqa: E402
from phase1_throughput import load_inputs  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=".")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--ch-mult", default="1,2,4", help="model.vqgan.ch_mult, comma-separated")
    ap.add_argument("--seed", type=int, default=None, help="training seed (default: the first of seeds)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(args.root).resolve()
    params = config.load(root / "params.yaml")
    mult = tuple(int(m) for m in args.ch_mult.split(","))
    params = dataclasses.replace(params, model=dataclasses.replace(
        params.model, vqgan=dataclasses.replace(params.model.vqgan, ch_mult=mult)))
    seed = args.seed if args.seed is not None else params.seeds[0]
    x, text, captions, vx, vtext, clip, what = load_inputs(params, root, 0, 0, seed)
    run = vqgan_run(params, "full")
    per_epoch = len(x) // run.batch_size
    committed, steps = params.vqgan_train.epochs * per_epoch, args.epochs * per_epoch
    run = dataclasses.replace(run, threads=args.threads, seed=seed, epochs=args.epochs,
                              clip_start=round(run.clip_start / committed * steps),
                              disc_start=round(run.disc_start / committed * steps))
    print(f"{what}; ch_mult {list(mult)}, {args.epochs} epochs ({steps} steps), seed {seed}", flush=True)
    t0 = time.perf_counter()
    result = train_vqgan(run, vqgan_config(params, "full", text.dim),
                         PhaseData(x, text, captions, None, val_images=vx, val_text=vtext), params_hash="probe",
                         clip=clip if effective_lambda(run) > 0 else None, progress=False)
    wall = time.perf_counter() - t0

    layout = Layout(params, root)
    test = load_split(layout.manifest, "test", root)
    items = held_out_prompts(test, len(test.rows), params.generate.seed)  # every test item
    originals = test.as_float_tensor()[torch.as_tensor(items["index"].to_numpy(copy=True))]
    pooled = encode_captions(text_encoder(params, root).eval(), list(items["caption"])).pooled
    model = result.model.eval()
    with torch.no_grad():
        recon = model(originals, pooled if model.config.text_style_norm else None).recon.clamp(-1, 1)
    psnr = float((10 * torch.log10(4 / ((recon - originals) ** 2).mean(dim=(1, 2, 3)))).mean())
    judged = judge(load_classifier(layout.classifier), recon, items)
    print(json.dumps({"ch_mult": list(mult), "epochs": args.epochs, "seed": seed,
                      "val_psnr": [round(h["val_psnr"], 3) for h in result.history], "test_psnr": round(psnr, 3),
                      "recon_primary": round(float(judged["primary_ok"].mean()), 3),
                      "recon_type": round(float(judged["type_ok"].mean()), 3), "n_test": len(items),
                      "train_wall_seconds": round(wall, 1)}))


if __name__ == "__main__":
    main()
