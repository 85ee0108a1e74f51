"""The guardrail over its whole evaluation set (every prompt of ``governance guardrails``), with the lexicon
search as it is against the plain scan, side by side in this process.

As it is: each lexicon entry's Latin keys (``governance.sacred.Terms.find_words``) and Chinese terms
(``find_zh``) found in one Aho–Corasick pass over the text, and the respelled and reordered mantra tables
(``governance.mantra_respellings``) built once per lexicon. The plain scan (the baseline): every key and
term searched for one by one in every reading, and those tables rebuilt for every prompt.

Run: ``python benchmarks/bench_guardrail_eval.py [--rounds 3] [--sample N]`` (``--sample``: N prompts drawn
with a fixed seed instead of all of them). The two alternate, round by round, so load on the machine hits both
alike. Printed: each one's median seconds per full evaluation, the ratio, and
whether the two produced the same decision and hits for every prompt (they must: both
find every occurrence of every key).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path
from typing import Iterable

from governance import mantra_respellings, sacred
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


def plain_find_zh(self: sacred.Terms, h, words=()) -> Iterable[tuple[str, int, int]]:
    """Every Chinese term searched for one by one (the baseline)."""
    inside = [(a, a + len(ex)) for ex in self.zh_exceptions for a in sacred._positions(h.text, ex)]
    for term in self.zh:
        for pos in sacred._positions(h.text, term):
            end = pos + len(term)
            if not any(a <= pos and end <= b for a, b in inside) and not sacred._crosses_words(words, pos, end):
                yield term, h.src[pos], h.src[end - 1] + 1


class PlainScan:
    """The baseline in place for the duration of a ``with`` block."""

    def __enter__(self) -> None:
        self.saved = (sacred.Terms.find_words, sacred.Terms.find_zh, mantra_respellings._reorderable,
                      mantra_respellings._respelling_keys)
        sacred.Terms.find_words, sacred.Terms.find_zh = plain_find_words, plain_find_zh
        mantra_respellings._reorderable = mantra_respellings._reorderable.__wrapped__
        mantra_respellings._respelling_keys = mantra_respellings._respelling_keys.__wrapped__

    def __exit__(self, *exc: object) -> None:
        (sacred.Terms.find_words, sacred.Terms.find_zh, mantra_respellings._reorderable,
         mantra_respellings._respelling_keys) = self.saved


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
    ap.add_argument("--sample", type=int, default=0, help="N prompts drawn with seed 0 (default: every prompt)")
    args = ap.parse_args()
    policy, texts = load_policy(), prompts()
    if args.sample:
        texts = random.Random(0).sample(texts, min(args.sample, len(texts)))
    check_prompt(texts[0], policy)  # lexicon, converters and the learned second opinion loaded once, untimed
    times: dict[str, list[float]] = {"as it is": [], "plain": []}
    same = True
    for _ in range(args.rounds):
        t_new, d_new = run(texts, policy)
        with PlainScan():
            t_old, d_old = run(texts, policy)
        times["as it is"].append(t_new)
        times["plain"].append(t_old)
        same &= d_new == d_old
    new, old = statistics.median(times["as it is"]), statistics.median(times["plain"])
    print(f"{len(texts)} prompts, {args.rounds} rounds: as it is {new:.1f} s, plain scan {old:.1f} s per "
          f"evaluation ({1000 * new / len(texts):.1f} vs {1000 * old / len(texts):.1f} ms a prompt); ratio "
          f"{new / old:.2f} ({old / new:.1f}x faster); same decisions and hits: {same}")


if __name__ == "__main__":
    main()
