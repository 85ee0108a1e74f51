"""What the letters classifier (governance.letters_classifier) costs a prompt check, side by side.

Its refusal (``sacred.letters_classifier``, round 12) and its hold (``sacred.letters_hold``, round 14), each switched
on and off over the same prompts, alternating round by round in this process so that load on the machine hits both
alike: a seeded sample of the development sets' prompts, and the subset each one reads (the refusal: what the rules
hold; the hold: what they allow), and of that subset the prompts of several sentences (the hold reads each of their
sentences too, round 15). Printed: median ms a prompt for each, the ratio, and how many decisions differ.
Also, in a fresh interpreter each, the seconds to the first decision on a prompt it reads, with and without it
(scikit-learn's import, once per process).

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
p = load_policy(overrides={"sacred": {sys.argv[1]: sys.argv[2] == "on"}})
d = check_prompt(sys.argv[3], p)
print(d.action, time.perf_counter() - t)
"""
#: switch -> (the rules' action on the prompts it reads, a prompt it reads for the fresh interpreter)
SWITCHES = {"letters_classifier": ("hold", "a seated Guanyin among lotus flowers, light ink"),
            "letters_hold": ("allow", "a heron by the river, light ink")}


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
    for switch, (read, first) in SWITCHES.items():
        on, off = load_policy(), load_policy(overrides={"sacred": {switch: False}})
        for p in prompts[:20]:  # warm both: lexicon, readings caches, the classifier's weights
            check_prompt(p, on), check_prompt(p, off)
        # what it reads: the rules' holds (not the letters hold's), or what the rules and the refusal allow
        rules = load_policy(overrides={"sacred": {switch: False, "letters_hold": False}})
        subset = [p for p in prompts if check_prompt(p, rules).action == read]
        several = [p for p in subset if len(letters_classifier.segments(p)) > 1]  # the hold reads each sentence too
        for name, group in (("sample", prompts), (f"{read} by the rules without it", subset),
                            ("of those, prompts of several sentences", several)):
            ms_off, a_off = per_prompt_ms(group, off, args.rounds)
            ms_on, a_on = per_prompt_ms(group, on, args.rounds)
            changed = sum(x != y for x, y in zip(a_off, a_on))
            print(f"sacred.{switch}, {name} (N = {len(group)}): {ms_on:.2f} ms a prompt with it, {ms_off:.2f} without, "
                  f"ratio {ms_on / ms_off:.2f}; {changed} decisions differ")
        for mode in ("off", "on"):
            out = subprocess.run([sys.executable, "-c", _FIRST, switch, mode, first], capture_output=True, text=True,
                                 check=True)
            action, seconds = out.stdout.split()
            print(f"fresh interpreter, sacred.{switch} {mode}: first prompt decided ({action}) in {float(seconds):.2f} s")


if __name__ == "__main__":
    main()
