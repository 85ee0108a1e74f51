"""The guardrail over its whole evaluation set (every prompt of ``governance guardrails``), with the lexicon
search of ``governance.sacred.Terms.find_words`` as it is (keys searched only where their first three letters
occur) against the plain scan it replaced (every key of every entry searched in every reading), side by side
in this process.

Run: ``python benchmarks/bench_guardrail_eval.py [--rounds 3]``. The two alternate, round by round, so load
on the machine hits both alike. Printed: each one's median seconds per full evaluation, the ratio, and
whether the two produced the same decision and hits for every prompt (they must: the index only skips keys
that cannot occur).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Iterable

from governance import sacred
from governance.decisions import check_prompt
from governance.guardrail_eval import BENIGN, EVAL_DIR, HOSTILE, read_category, read_prompt_set
from governance.policy import load_policy


def plain_find_words(self: sacred.Terms, r, glued_min: int = 0, allow_han: bool = False) -> Iterable[tuple[str, int, int]]:
    """The search before the trigram index: every key, every time (the baseline)."""
    blocked = [(i, j) for key in self.word_exceptions for i, j in sacred._occurrences(r, key, 0, True)]
    for term, key in self.words:
        for i, j in sacred._occurrences(r, key, glued_min, allow_han, key in self.stems):
            if not any(a < j and i < b for a, b in blocked):
                yield term, i, j


def prompts() -> list[str]:
    out = [p for _, _, p in read_prompt_set(HOSTILE, None)] + [p for _, _, p in read_prompt_set(BENIGN, "allow")]
    for path in sorted(Path(EVAL_DIR).glob("*.yaml")):
        out += read_category(path)[1]
    return out


def run(texts: list[str], policy) -> tuple[float, list[dict]]:
    t0 = time.perf_counter()
    decisions = [check_prompt(t, policy).to_dict() for t in texts]
    return time.perf_counter() - t0, decisions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    policy, texts = load_policy(), prompts()
    check_prompt(texts[0], policy)  # lexicon, converters and the learned second opinion loaded once, untimed
    indexed = sacred.Terms.find_words
    times: dict[str, list[float]] = {"indexed": [], "plain": []}
    same = True
    for _ in range(args.rounds):
        t_new, d_new = run(texts, policy)
        sacred.Terms.find_words = plain_find_words
        try:
            t_old, d_old = run(texts, policy)
        finally:
            sacred.Terms.find_words = indexed
        times["indexed"].append(t_new)
        times["plain"].append(t_old)
        same &= d_new == d_old
    new, old = statistics.median(times["indexed"]), statistics.median(times["plain"])
    print(f"{len(texts)} prompts, {args.rounds} rounds: trigram index {new:.1f} s, plain scan {old:.1f} s per "
          f"evaluation; ratio {new / old:.2f} ({old / new:.1f}x faster); same decisions and hits: {same}")


if __name__ == "__main__":
    main()
