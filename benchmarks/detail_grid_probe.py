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
printed JSON line is the result. With ``--prior``, phase 2 too: the prior (``prior_train``, ``model.prior``) trained
on that VQGAN's codes, and one painting per test caption (``generate``'s seed, temperature and top-k) judged by
the same classifier — the recognition of the *generations*, end to end, with both phases' wall time.

    python benchmarks/detail_grid_probe.py --root . --epochs 10 --ch-mult 1,2,4 --prior

Measured (2026-11-30, seed 2026, 2 cores, the caps of ``make study``; all 191 test items): 16x16 detail grid —
validation PSNR 24.65 dB after 10 epochs (233 s), reconstructions recognised 0.906 (category) / 0.859 (type);
the study's prior on those codes (8 epochs, 325 s: 4x the committed 8x8 sequence) paints the test captions
recognisably only 0.403 / 0.749 — no better than the committed 8x8 model's generations (0.455 / 0.817 by
``benchmarks/recognition_ceiling.py``). The finer grid lifts the autoencoder's ceiling, not the generations:
the prior is the bottleneck.

With classifier-free guidance (2026-12-01; ``prior_train`` 16 epochs, condition dropout 0.15; the same seed and
items; ``benchmarks/results/detail_grid_probe.txt``): ``--guidance-scales 1 2.5 3 4`` gives category / type
0.508 / 0.775, 0.665 / 0.885, 0.691 / 0.901, 0.696 / 0.895 — against the committed 8x8 model's 0.581 / 0.869 at
2.5 and 0.607 / 0.864 at 3 (``benchmarks/results/guidance_probe.txt``). About +0.09, still short of 0.80, for a
prior that trains in 866 s instead of ~120 s (320 tokens: 16x16 detail + 8x8 global, against 64 + 16): the study's
15 priors would take ~3 h on 2 cores.
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

from inkgen.heldout import judge  # noqa: E402
from inkgen.layout import Layout  # noqa: E402
from inkgen.models.classifier import load_classifier  # noqa: E402
from inkgen.generate import Generator  # noqa: E402
from inkgen.training import PhaseData, effective_lambda, prior_config, train_prior, train_vqgan  # noqa: E402
from inkgen.training.features import empty_caption_features, encode_captions  # noqa: E402
from inkgen.training.runs import prior_run, text_encoder, vqgan_config, vqgan_run  # noqa: E402
from phase1_throughput import load_inputs  # noqa: E402
from study_workspace import add_workspace_arguments, every_test_item, open_workspace  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_workspace_arguments(ap)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--ch-mult", default="1,2,4", help="model.vqgan.ch_mult, comma-separated")
    ap.add_argument("--prior", action="store_true", help="also train the prior and judge its paintings")
    ap.add_argument("--guidance-scales", type=float, nargs="+", default=None,
                    help="with --prior: paint at each of these scales (default: generate.guidance_scale)")
    args = ap.parse_args()
    root, params, seed = open_workspace(args)
    mult = tuple(int(m) for m in args.ch_mult.split(","))
    params = dataclasses.replace(params, model=dataclasses.replace(
        params.model, vqgan=dataclasses.replace(params.model.vqgan, ch_mult=mult)))
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

    layout, test, items = every_test_item(params, root)  # every test item, the study's stratified order
    originals = test.as_float_tensor()[torch.as_tensor(items["index"].to_numpy(copy=True))]
    pooled = encode_captions(text_encoder(params, root).eval(), list(items["caption"])).pooled
    model = result.model.eval()
    with torch.no_grad():
        recon = model(originals, pooled if model.config.text_style_norm else None).recon.clamp(-1, 1)
    psnr = float((10 * torch.log10(4 / ((recon - originals) ** 2).mean(dim=(1, 2, 3)))).mean())
    judged = judge(load_classifier(layout.classifier), recon, items)
    out = {"ch_mult": list(mult), "epochs": args.epochs, "seed": seed,
           "val_psnr": [round(h["val_psnr"], 3) for h in result.history], "test_psnr": round(psnr, 3),
           "recon_primary": round(float(judged["primary_ok"].mean()), 3),
           "recon_type": round(float(judged["type_ok"].mean()), 3), "n_test": len(items),
           "train_wall_seconds": round(wall, 1), "code_shapes": {k: list(v) for k, v in model.code_shapes().items()}}
    if args.prior:
        out.update(_phase2(params, root, model, x, text, vx, vtext, seed, args.threads, items, args.guidance_scales))
    print(json.dumps(out))


def _phase2(params, root, vqgan, x, text, vx, vtext, seed, threads, items, scales) -> dict:
    """The study's prior recipe on ``vqgan``'s codes; one painting per test caption at each guidance scale, judged."""
    run = dataclasses.replace(prior_run(params, "full"), threads=threads, seed=seed)
    t0 = time.perf_counter()
    encoder = text_encoder(params, root, lite=True).eval()
    empty = empty_caption_features(encoder) if run.uncond_prob > 0 else None
    result = train_prior(run, vqgan, prior_config(vqgan, text.dim, "full", **dataclasses.asdict(params.model.prior)),
                         PhaseData(x, text, val_images=vx, val_text=vtext, empty_text=empty), params_hash="probe",
                         progress=False)
    wall = time.perf_counter() - t0
    g = params.generate
    generator = Generator(vqgan, result.model.eval(), encoder, guidable=empty is not None)
    classifier = load_classifier(Layout(params, root).classifier)
    out = {"prior_epochs": len(result.history), "prior_val_loss": round(result.history[-1]["val_loss"], 4),
           "prior_wall_seconds": round(wall, 1), "generated": []}
    for scale in scales or [g.guidance_scale]:
        t0 = time.perf_counter()
        images = generator.generate_tensors(list(items["caption"]), seed=g.seed, count=1, temperature=g.temperature,
                                            top_k=g.top_k or None, guidance_scale=scale)
        gen = time.perf_counter() - t0
        judged = judge(classifier, images, items)
        out["generated"].append({"guidance_scale": scale, "seconds_per_image": round(gen / len(items), 3),
                                 "primary": round(float(judged["primary_ok"].mean()), 3),
                                 "type": round(float(judged["type_ok"].mean()), 3)})
    return out


if __name__ == "__main__":
    main()
