"""Text -> painting latency on CPU: the full model against the ``no_transformer`` ablation, side by side.

    python benchmarks/bench_generate.py [--runs 5] [--batches 1 16] [--threads 1] [--bert ""]

Both generators are built at the sizes ``params.yaml`` gives (``model.vqgan``, ``model.prior``,
``curate.target_size``; on the default profile codes 4x4 global + 8x8 detail = 80 autoregressive steps),
with untrained weights (latency does not depend on them) and the embedded MiniLM BERT (or
``--bert DIR``). One call of ``Generator.generate`` per measurement, end to end: BERT encoding, sampling,
decoding, conversion to PIL. After one warm-up call per (variant, batch), the ``--runs`` calls of the two
variants are interleaved so that other load on the machine hits both alike; printed: the median seconds
per call and per image, and the ratio full / no_transformer.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from inkgen.generate import Generator  # noqa: E402
from inkgen.models.cross_modal import TextToCodes  # noqa: E402
from inkgen.models.text_encoder import TextEncoder  # noqa: E402
from inkgen import config  # noqa: E402
from inkgen.models.vqgan.model import VQGAN  # noqa: E402
from inkgen.training import prior_config  # noqa: E402
from inkgen.training.runs import vqgan_config  # noqa: E402

PROMPTS = ["an ink painting of plum blossoms on a branch", "a bird on a bamboo stem, flower and bird painting",
           "misty mountains and a river in ink", "a lotus flower in a pond"]


def build(params, variant: str, encoder: TextEncoder, seed: int) -> Generator:
    vqgan = VQGAN(vqgan_config(params, variant, encoder.dim), seed=seed)
    torch.manual_seed(seed)
    prior = TextToCodes(prior_config(vqgan, encoder.dim, variant, **dataclasses.asdict(params.model.prior)))
    return Generator(vqgan, prior, encoder, source=f"untrained {variant}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bert", default="", help="local BERT directory (default: the embedded MiniLM)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--params", default="params.yaml", help="sizes from this params file")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    encoder = TextEncoder(args.bert, freeze=True)
    variants = ("full", "no_transformer")
    params = config.load(args.params)
    gens = {v: build(params, v, encoder, args.seed) for v in variants}
    c = gens["full"].prior.config
    print(f"torch {torch.__version__}, {args.threads} thread(s), text encoder {encoder.path.name} ({encoder.dim}-d); "
          f"prior d_model={c.d_model} layers={c.n_layers} heads={c.n_heads}, {c.seq_len} code tokens; "
          f"{gens['full'].vqgan.config.resolution} px")
    print(f"{'batch':>5} {'variant':>15} {'s/call':>9} {'s/image':>9} {'images/s':>9}")
    for batch in args.batches:
        prompts = [PROMPTS[i % len(PROMPTS)] for i in range(batch)]
        times: dict[str, list[float]] = {v: [] for v in variants}
        for v in variants:  # warm-up
            gens[v].generate(prompts, seed=args.seed, batch=batch)
        for r in range(args.runs):
            for v in variants if r % 2 == 0 else variants[::-1]:
                t0 = time.perf_counter()
                gens[v].generate(prompts, seed=args.seed + r, batch=batch)
                times[v].append(time.perf_counter() - t0)
        med = {v: statistics.median(times[v]) for v in variants}
        for v in variants:
            print(f"{batch:>5} {v:>15} {med[v]:>9.3f} {med[v] / batch:>9.4f} {batch / med[v]:>9.2f}")
        print(f"{batch:>5} {'ratio full/no_t':>15} {med['full'] / med['no_transformer']:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
