"""The sampler's settings chosen on the **validation** split (issue 10): classifier-free guidance scale, top-k and
temperature for a study's trained priors, judged by the curation classifier (paper eq. 1) on every validation
caption, for each training seed.

    python benchmarks/sampling_probe.py [--root .] [--variant full] [--seeds 2026 2027 2028]
                                        [--scales 1 2 2.5 3 4] [--top-k 8 16] [--temperatures 1]

Run in a workspace where the default study ran (``dvc repro``): the priors are the committed ones (nothing is
trained), so what changes between rows is the sampler alone. The test split is never painted: settings chosen on
the captions the study reports would flatter its figures. Each validation caption is painted once per setting
with ``generate.seed`` (the same noise for every setting); a row gives the share of paintings the classifier
labels as the caption's primary category and painting type, per seed and pooled (N = seeds x captions), and the
painting time per image. With ``--samples 2`` each caption is painted twice (rows of different noise) and the
row also gives the **variety** guidance costs: the mean absolute pixel difference (0-1 scale) between a caption's
two paintings, beside the same distance between paintings of two different captions (consecutive validation
captions, first samples) — how far apart two paintings are when only the noise differs, against when the caption
differs too.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inkgen.heldout import judge  # noqa: E402
from inkgen.models.classifier import load_classifier  # noqa: E402
from inkgen.trained import load_generator  # noqa: E402
from study_workspace import add_workspace_arguments, every_item, open_workspace  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_workspace_arguments(ap)
    ap.add_argument("--variant", default="full")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="training seeds (default: params seeds)")
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 2.0, 2.5, 3.0, 4.0])
    ap.add_argument("--top-k", type=int, nargs="+", default=[8])
    ap.add_argument("--temperatures", type=float, nargs="+", default=[1.0])
    ap.add_argument("--samples", type=int, default=1, choices=(1, 2), help="paintings per caption (2: variety too)")
    args = ap.parse_args()
    root, params, _ = open_workspace(args)
    seeds = args.seeds or list(params.seeds)
    layout, _, items = every_item(params, root, "val")
    classifier = load_classifier(layout.classifier)
    captions, g = list(items["caption"]), params.generate
    print(f"validation captions N = {len(items)}, variant {args.variant}, training seeds {seeds}; the study's "
          f"sampler: guidance {g.guidance_scale}, top_k {g.top_k}, temperature {g.temperature}")
    results: dict[tuple, list] = {}
    for seed in seeds:
        generator = load_generator(params, root, args.variant, seed)
        for scale, top_k, temperature in itertools.product(args.scales, args.top_k, args.temperatures):
            start = time.perf_counter()
            images = generator.generate_tensors(captions, seed=g.seed, count=args.samples, temperature=temperature,
                                                top_k=top_k, guidance_scale=scale, batch=params.inference.batch_size)
            per_image = (time.perf_counter() - start) / len(images)
            j = judge(classifier, images, items.loc[items.index.repeat(args.samples)].reset_index(drop=True))
            same = other = float("nan")
            if args.samples == 2:
                first, second = images[0::2], images[1::2]
                same = float((first - second).abs().mean()) / 2     # [-1, 1] images: / 2 for a 0-1 scale
                other = float((first - first.roll(1, dims=0)).abs().mean()) / 2
            variety = f"   apart: same caption {same:.3f} / other caption {other:.3f}" if args.samples == 2 else ""
            results.setdefault((scale, top_k, temperature), []).append(
                (seed, j["primary_ok"].mean(), j["type_ok"].mean(), per_image, same, other))
            print(f"seed {seed}  scale {scale:<4} top_k {top_k:<3} temperature {temperature:<4}: primary "
                  f"{j['primary_ok'].mean():.3f}   type {j['type_ok'].mean():.3f}   {per_image * 1000:.0f} ms/image"
                  f"{variety}", flush=True)
    print(f"\npooled over {len(seeds)} seeds x {len(items)} validation captions x {args.samples} paintings:")
    for (scale, top_k, temperature), rows in sorted(results.items(), key=lambda kv: -sum(r[1] for r in kv[1])):
        n = len(rows)
        print(f"scale {scale:<4} top_k {top_k:<3} temperature {temperature:<4}: primary "
              f"{sum(r[1] for r in rows) / n:.3f} ({' / '.join(f'{r[1]:.3f}' for r in rows)})   type "
              f"{sum(r[2] for r in rows) / n:.3f}   {1000 * sum(r[3] for r in rows) / n:.0f} ms/image"
              + (f"   apart: same caption {sum(r[4] for r in rows) / n:.3f} / other caption "
                 f"{sum(r[5] for r in rows) / n:.3f}" if args.samples == 2 else ""))


if __name__ == "__main__":
    main()
