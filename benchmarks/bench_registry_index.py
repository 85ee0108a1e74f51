"""Registry-scale copyright lookup: the uint64 Hamming index against the naive ImageHash loop.

    python benchmarks/bench_registry_index.py [--n 1000000] [--queries 40] [--radius 12] [--naive-sample 20000]

A registry of ``--n`` random 64-bit hashes (seeded), with near-copies of half the queries planted in it
(1-``radius`` bits flipped), so every radius query has real hits. Three ways to answer the same queries:

1. ``HashIndex.query`` (governance/hash_index.py): XOR + ``numpy.bitwise_count`` over one uint64 array;
2. a pure-Python linear scan over all ``--n`` ints (``(h ^ q).bit_count()``): the reference answer;
3. the naive way — ``imagehash.ImageHash`` objects compared one by one (``q - h`` in a Python loop).
   That costs seconds per query at 1M, so it is timed on a ``--naive-sample`` subsample and scaled
   linearly to ``--n`` (the loop does the same work per element); the output says so.

Prints exactness (index result == linear scan, for every query) and the speed-ups; exits 1 unless the
index is exact and at least 100x faster than the naive loop.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import imagehash  # noqa: E402
import numpy as np  # noqa: E402

from governance.hash_index import HashIndex  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--radius", type=int, default=12)
    ap.add_argument("--naive-sample", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    hashes = rng.integers(0, 2**64 - 1, args.n, dtype=np.uint64, endpoint=True)
    queries = [int(x) for x in rng.integers(0, 2**64 - 1, args.queries, dtype=np.uint64, endpoint=True)]
    planted = rng.choice(args.n, size=(args.queries // 2) * 3, replace=False)
    for k, slot in enumerate(planted):  # three near-copies for each of the first half of the queries
        q = queries[k // 3]
        bits = rng.choice(64, size=int(rng.integers(1, args.radius + 1)), replace=False)
        hashes[slot] = np.uint64(q ^ int(sum(1 << int(b) for b in bits)))
    print(f"registry: {args.n:,} random 64-bit hashes, {len(planted)} planted near-copies; {args.queries} queries, "
          f"radius {args.radius} bits")

    index = HashIndex(hashes)
    index.query(queries[0], args.radius)  # warm-up (page in the array)
    t0 = time.perf_counter()
    got = [[(h.distance, h.index) for h in index.query(q, args.radius)] for q in queries]
    t_index = (time.perf_counter() - t0) / len(queries)
    t0 = time.perf_counter()
    batch = index.query_many(queries, args.radius)
    t_batch = (time.perf_counter() - t0) / len(queries)

    ints = [int(h) for h in hashes]
    t0 = time.perf_counter()
    ref = []
    for q in queries:
        found = [(d, i) for i, h in enumerate(ints) if (d := (h ^ q).bit_count()) <= args.radius]
        ref.append(sorted(found))
    t_linear = (time.perf_counter() - t0) / len(queries)
    exact = sum(g == r for g, r in zip(got, ref))
    exact_batch = sum([(h.distance, h.index) for h in b] == r for b, r in zip(batch, ref))
    hits = sum(len(r) for r in ref)

    sample = min(args.naive_sample, args.n)
    objs = [imagehash.hex_to_hash(f"{h:016x}") for h in ints[:sample]]
    naive_queries = queries[:5]
    qobjs = [imagehash.hex_to_hash(f"{q:016x}") for q in naive_queries]
    t0 = time.perf_counter()
    naive_hits = []
    for q in qobjs:
        naive_hits.append([i for i, h in enumerate(objs) if q - h <= args.radius])
    t_naive_sample = (time.perf_counter() - t0) / len(qobjs)
    t_naive = t_naive_sample * args.n / sample
    naive_agrees = all(sorted(i for _, i in r if i < sample) == n for r, n in zip(ref, naive_hits))

    print(f"exactness: index == linear scan for {exact}/{len(queries)} queries "
          f"(query_many: {exact_batch}/{len(queries)}); {hits} hits in total; naive loop agrees on its "
          f"subsample: {naive_agrees}")
    print(f"{'method':<58}{'ms/query':>10}{'speed-up':>10}")
    rows = [("naive ImageHash loop (h1 - h2), scaled from "
             f"{sample:,} to {args.n:,}", t_naive),
            ("pure-Python linear scan, int.bit_count", t_linear),
            ("HashIndex.query (XOR + numpy.bitwise_count)", t_index),
            ("HashIndex.query_many (a batch of queries)", t_batch)]
    for name, t in rows:
        print(f"{name:<58}{t * 1e3:>10.2f}{t_naive / t:>9.0f}x")
    ok = exact == len(queries) and exact_batch == len(queries) and naive_agrees and t_naive / t_index >= 100
    print(f"speed-up of HashIndex.query over the naive loop: {t_naive / t_index:,.0f}x "
          f"(required >= 100x) -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
