"""What the letters classifier (governance.letters_classifier, round 12) costs a prompt check, side by side.

The gate with ``sacred.letters_classifier`` on and off over the same prompts, alternating round by round in this
process so that load on the machine hits both alike: a seeded sample of the development sets' prompts, and the
subset the rules hold (the only prompts the classifier reads). Printed: median ms a prompt for each, the ratio,
and how many decisions differ (held prompts it refuses). Also, in a fresh interpreter each, the seconds to the
first decision on a held prompt with and without it (scikit-learn's import, once per process).

Run: ``python benchmarks/bench_letters_classifier.py [--sample 600] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time

from governance import letters_classifier
from governance.decisions import check_prompt
from governance.letters_classifier import training_rows
from governance.policy import load_policy

_FIRST = """
import sys, time
t = time.perf_counter()
from governance.decisions import check_prompt
from governance.policy import load_policy
p = load_policy(overrides={"sacred": {"letters_classifier": sys.argv[1] == "on"}})
d = check_prompt("a seated Guanyin among lotus flowers, light ink", p)
print(d.action, time.perf_counter() - t)
"""


def per_prompt_ms(prompts: list[str], policy, rounds: int) -> tuple[float, list[str]]:
    times, actions = [], []
    for _ in range(rounds):
        letters_classifier.probabilities.cache_clear()  # every round reads the letters anew (its cache would hide them)
        start = time.perf_counter()
        actions = [check_prompt(p, policy).action for p in prompts]
        times.append((time.perf_counter() - start) / len(prompts) * 1000)
    return statistics.median(times), actions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    prompts = random.Random(0).sample([p for *_, p in training_rows()], args.sample)
    on, off = load_policy(), load_policy(overrides={"sacred": {"letters_classifier": False}})
    for p in prompts[:20]:  # warm both: lexicon, readings caches, the classifier's weights
        check_prompt(p, on), check_prompt(p, off)
    held = [p for p in prompts if check_prompt(p, off).action == "hold"]
    for name, group in (("sample", prompts), ("held by the rules", held)):
        ms_off, a_off = per_prompt_ms(group, off, args.rounds)
        ms_on, a_on = per_prompt_ms(group, on, args.rounds)
        changed = sum(x != y for x, y in zip(a_off, a_on))
        print(f"{name} (N = {len(group)}): {ms_on:.2f} ms a prompt with the letters classifier, {ms_off:.2f} without, "
              f"ratio {ms_on / ms_off:.2f}; {changed} decisions differ")
    for mode in ("off", "on"):
        out = subprocess.run([sys.executable, "-c", _FIRST, mode], capture_output=True, text=True, check=True)
        action, seconds = out.stdout.split()
        print(f"fresh interpreter, letters classifier {mode}: first held prompt decided ({action}) in {float(seconds):.2f} s")


if __name__ == "__main__":
    main()
