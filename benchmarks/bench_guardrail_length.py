"""How long check_prompt takes on long prompts: 1,000 vs 10,000 characters (linear time expected).

Run: ``python benchmarks/bench_guardrail_length.py``. Prints the median of several runs per length and
the ratio 10k/1k (linear time: about 10; quadratic: about 100), both measured in this process.
"""

from __future__ import annotations

import statistics
import time

from governance.decisions import check_prompt
from governance.policy import load_policy

BASE = ("a misty river valley with pine trees, a pilgrim lying face down before a seated Buddha, "
        "fishermen in small boats, 山水之间的小桥流水, ")


def median_seconds(text: str, policy, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        check_prompt(text, policy)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    policy = load_policy()
    check_prompt(BASE, policy)  # warm the lexicon and converters
    rows = {}
    for n in (1_000, 10_000):
        text = (BASE * (n // len(BASE) + 1))[:n]
        rows[n] = median_seconds(text, policy)
        print(f"{n:6d} chars: {rows[n] * 1000:8.1f} ms (median of 5)")
    print(f"ratio 10k/1k: {rows[10_000] / rows[1_000]:.1f} (linear ~10, quadratic ~100)")


if __name__ == "__main__":
    main()
