"""Best-of-K reranking of the full model's generations by the guide CLIP, judged by the curation classifier.

    python benchmarks/rerank_probe.py [--root .] [--seed 2026] [--variant full] [--counts 1 2 4 8]

The prior samples codes (``generate``: temperature, top_k); some samples paint the caption's subject, others
do not. Reranking — paint K samples per caption and keep the one the CLIP scores closest to the caption —
is how DALL·E chose among its samples (Ramesh et al., ICML 2021, §2.4, "sample reranking"); here the
scorer is the study's *guide* CLIP (``models/clip.pt``, the one eq. 13 trains against), and the verdict
is the *curation classifier's* (paper eq. 1: is the requested primary category / painting type what the
classifier sees?) and the independent *judge* CLIP's cosine, neither of which chose the sample.

Run in a workspace where the default study ran (``dvc repro``): it reads the test split, the classifier, the
two CLIPs and the variant's trained models under the current ``params.yaml``. Every test item is a
caption (all of them, N printed); ``max(counts)`` samples are painted per caption once, and each K keeps the
guide's best of the first K (K = 1: one plain sample per caption, as the study paints). Printed per K: recognition (primary
category, painting type), the judge's mean cosine, and the seconds per caption (painting K samples and
scoring them), measured in this process.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from inkgen.heldout import judge  # noqa: E402
from inkgen.models.classifier import load_classifier  # noqa: E402
from inkgen.trained import load_clips, load_generator  # noqa: E402
from study_workspace import add_workspace_arguments, every_test_item, open_workspace  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_workspace_arguments(ap)
    ap.add_argument("--variant", default="full")
    ap.add_argument("--counts", nargs="+", type=int, default=[1, 2, 4, 8])
    args = ap.parse_args()
    if min(args.counts) < 1:
        ap.error("--counts must be >= 1")
    root, params, seed = open_workspace(args)
    layout, test, items = every_test_item(params, root)  # every test item, the study's stratified order
    captions = list(items["caption"])
    classifier = load_classifier(layout.classifier)
    clips = load_clips(params, root)
    generator = load_generator(params, root, args.variant, seed)
    g, k_max, n = params.generate, max(args.counts), len(captions)

    t0 = time.perf_counter()
    images = generator.generate_tensors(captions, seed=g.seed, count=k_max, temperature=g.temperature,
                                        top_k=g.top_k or None, guidance_scale=g.guidance_scale)  # caption-major
    paint_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    with torch.no_grad():
        text = {role: clip.encode_text(captions) for role, clip in clips.items()}
        scores = {role: (clip.encode_image(images).view(n, k_max, -1) * text[role][:, None]).sum(-1)
                  for role, clip in clips.items()}                        # (n, k_max) cosines
    score_seconds = time.perf_counter() - t0

    print(f"{args.variant}, training seed {seed}: N = {n} test captions, {k_max} samples each "
          f"(temperature {g.temperature}, top_k {g.top_k}); painting {paint_seconds / (n * k_max):.3f} s and "
          f"scoring {score_seconds / (n * k_max):.4f} s per sample")
    print(f"{'K':>3}  {'primary':>8}  {'type':>6}  {'judge cosine':>12}  {'s per caption':>13}")
    rows = torch.arange(n)
    for k in sorted(set(args.counts)):
        best = scores["guide"][:, :k].argmax(dim=1)
        chosen = images.view(n, k_max, *images.shape[1:])[rows, best]
        j = judge(classifier, chosen, items)
        cosine = float(scores["judge"][rows, best].mean())
        seconds = k * (paint_seconds + score_seconds) / (n * k_max)
        print(f"{k:>3}  {j['primary_ok'].mean():>8.3f}  {j['type_ok'].mean():>6.3f}  {cosine:>12.3f}  {seconds:>13.3f}")


if __name__ == "__main__":
    main()
