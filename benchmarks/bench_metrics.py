"""Time to compute Table 1's image metrics for one variant: N images at S px, on this machine.

    python benchmarks/bench_metrics.py [--n 64] [--size 64] [--resamples 1000] [--threads 2] [--inception]

Builds the project's default-size CLIP (``ClipConfig()``, untrained: speed does not depend on the weights)
and a resnet18 curation classifier at the image size, takes N procedural paintings as the "real" set,
a noisy copy as "reconstructions" and a flipped, darkened copy as "generated", and times
:func:`inkgen.metrics.evaluate_variant` (PSNR, CLIP cosine, CLIPScore, frechet_clip, classifier_score,
each with its bootstrap interval). ``--inception`` also times FID/IS with a randomly initialised
Inception-v3 written to a temporary file (the weights do not change the time).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import ImageOps  # noqa: E402

import inkgen  # noqa: E402,F401
from inkgen.data.procedural import plan_corpus, render_painting  # noqa: E402
from inkgen.metrics.eval_config import EvalConfig  # noqa: E402
from inkgen.metrics.table1 import evaluate_variant  # noqa: E402
from inkgen.models.classifier import build_classifier  # noqa: E402
from inkgen.models.clip import ClipConfig, build_clip  # noqa: E402


def images(n: int, size: int) -> tuple[torch.Tensor, list[str]]:
    ims, prompts = [], []
    for spec in plan_corpus(n, seed=0):
        im, _ = render_painting(spec, 96)
        ims.append(np.asarray(ImageOps.fit(im.convert("RGB"), (size, size))))
        prompts.append(f"a {spec.painting_type} painting")
    x = torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2).float() / 127.5 - 1  # (N,H,W,3) -> (N,3,H,W)
    return x, prompts


def random_inception(path: Path) -> Path:
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    with mock.patch.object(fe, "load_state_dict_from_url", lambda *a, **k: {}), \
            mock.patch.object(fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd: None):
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    torch.save(net.state_dict(), path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--inception", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    real, prompts = images(args.n, args.size)
    g = torch.Generator().manual_seed(0)
    recon = (real + 0.05 * torch.randn(real.shape, generator=g)).clamp(-1, 1)
    generated = (real.flip(3) * 0.8 - 0.1).clamp(-1, 1)
    clip = build_clip(ClipConfig(), seed=0).eval()
    clf = build_classifier("resnet18", args.size, seed=0).eval()
    with tempfile.TemporaryDirectory() as tmp:
        weights = str(random_inception(Path(tmp) / "inception.pt")) if args.inception else ""
        config = EvalConfig(confidence=0.95, n_resamples=args.resamples, seed=0, ci_method="BCa", clip_score_w=2.5,
                            classifier_head="primary", is_splits=1, inception_weights=weights, batch_size=64,
                            timing_warmup=1, timing_runs=5, set_resamples=200)
        start = time.perf_counter()
        res = evaluate_variant("bench", config, real=real, clip=clip, classifier=clf, reconstructions=recon,
                               generated=generated, prompts=prompts)
        seconds = time.perf_counter() - start
    print(f"N={args.n} images at {args.size} px, {args.resamples} bootstrap resamples, "
          f"{torch.get_num_threads()} torch threads: {seconds:.1f} s")
    for k, v in sorted(res.estimates.items()):
        print(f"  {k:18s} {v.format()}")


if __name__ == "__main__":
    main()
