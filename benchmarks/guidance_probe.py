"""Classifier-free guidance for the prior, probed on a study's trained VQGAN: condition dropout and epochs in
training, the guidance scale in sampling, judged by the curation classifier (paper eq. 1).

    python benchmarks/guidance_probe.py [--root .] [--seed 2026] [--uncond 0.15] [--epochs 16]
                                        [--scales 1 2 2.5 3]

Run in a workspace where the default study ran (``dvc repro``): it reads the test split, the classifier, the BERT
features and the full variant's VQGAN of ``--seed`` under the current ``params.yaml``. For each (dropout, epochs)
pair a full-variant prior is trained as stage prior trains it (``prior_train`` with those two values replaced),
then every test caption (all of them, N printed) is painted once per guidance scale with the study's other
``generate`` settings. Printed per row: the share whose painting the classifier labels as the caption's primary
category and painting type, and the final validation cross-entropy. The figures beside
``prior_train.uncond_prob``, ``prior_train.epochs`` and ``generate.guidance_scale`` in params.yaml come from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from inkgen.generate import Generator  # noqa: E402
from inkgen.heldout import judge  # noqa: E402
from inkgen.models.classifier import load_classifier  # noqa: E402
from inkgen.training import PhaseData, prior_config, train_prior  # noqa: E402
from inkgen.training.features import empty_caption_features  # noqa: E402
from inkgen.training.runs import load_data, load_vqgan, prior_run  # noqa: E402
from study_workspace import add_workspace_arguments, every_test_item, open_workspace  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_workspace_arguments(ap)
    ap.add_argument("--uncond", type=float, nargs="+", default=[0.15], help="prior_train.uncond_prob values")
    ap.add_argument("--epochs", type=int, nargs="+", default=[16], help="prior_train.epochs values")
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 2.0, 2.5, 3.0])
    args = ap.parse_args()
    root, params, seed = open_workspace(args)
    layout, _, items = every_test_item(params, root)
    classifier = load_classifier(layout.classifier)
    vqgan = load_vqgan(params, root, "full", seed).eval()
    data = load_data(params, root)
    encoder = data.encoder.eval()
    empty = empty_caption_features(encoder)
    g = params.generate
    print(f"test items N = {len(items)}, training seed {seed}, full VQGAN, top_k {g.top_k}, temperature {g.temperature}")
    for uncond in args.uncond:
        for epochs in args.epochs:
            run = dataclasses.replace(prior_run(params, "full", seed), uncond_prob=uncond, epochs=epochs,
                                      checkpoint_every=0, snapshots=False)
            start = time.perf_counter()
            result = train_prior(run, vqgan, prior_config(vqgan, encoder.dim, "full",
                                                          **dataclasses.asdict(params.model.prior)),
                                 PhaseData(data.train.as_float_tensor(), data.train_text,
                                           val_images=data.val.as_float_tensor(), val_text=data.val_text,
                                           empty_text=empty if uncond > 0 else None),
                                 params_hash="probe", progress=False)
            wall = time.perf_counter() - start
            generator = Generator(vqgan, result.model.eval(), encoder, guidable=uncond > 0)
            for scale in args.scales:
                if scale != 1 and uncond == 0:
                    continue  # no unconditional model to steer from
                images = generator.generate_tensors(list(items["caption"]), seed=g.seed, temperature=g.temperature,
                                                    top_k=g.top_k or None, guidance_scale=scale,
                                                    batch=params.inference.batch_size)
                j = judge(classifier, images, items)
                print(f"uncond_prob {uncond:<5} epochs {epochs:<3} scale {scale:<4}: primary "
                      f"{j['primary_ok'].mean():.3f}   type {j['type_ok'].mean():.3f}   "
                      f"val_loss {result.history[-1]['val_loss']:.3f}   trained {wall:.0f} s", flush=True)


if __name__ == "__main__":
    main()
