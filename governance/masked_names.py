"""Names written with letters blanked out: ``B*ddha``, ``G**nyin``, ``M_zu``, ``J█de Emp█ror``.

Paper section 6.2, *spiritual dignity*. A prompt that censors a figure's name itself — the way people write
a swearword — still names the figure, and the mask is a sign that the writer knows the request would be
refused. Blind set 8 (``governance/data/guardrail_eval/blind8_r_self_censored_redacted.yaml``) passed 15 of
28 such prompts on its first pass: the letters left (``bddha``) are neither the name nor one edit from it
once the mask is dropped.

Here a mask character stands for exactly one letter. A run of one to three words, at least one of them
masked, is the name when it has the name's length and every letter it shows is the name's letter in that
place (``med*cine b**dha`` = ``medicine buddha``). Only names of four letters or more, and only where the
letters shown outnumber the masks, so that ``**`` or ``f**k`` reads as no name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import regex

#: Characters people put in place of a letter to censor a word.
MASKS = "*_█▇■□●○◯＊•"
_TOKEN = regex.compile(rf"[\p{{Latin}}\p{{M}}{regex.escape(MASKS)}]+")
_GAP = regex.compile(r"[ \-]+")
MIN_NAME_LETTERS = 4
MAX_WORDS = 3


@dataclass(frozen=True)
class MaskedNames:
    """The names a masked word is compared with, by length: ``{length: ((casefolded name, owner), ...)}``
    where ``owner`` is ``(lexicon entry, written form)``."""

    by_length: dict[int, tuple[tuple[str, tuple[str, str]], ...]]

    @classmethod
    def of(cls, names: Iterable[tuple[str, str]]) -> "MaskedNames":
        """The index of ``(lexicon entry, written form)`` pairs (ASCII forms of four letters or more)."""
        out: dict[int, dict[str, tuple[str, str]]] = {}
        for ident, term in names:
            name = " ".join(_GAP.split(term.casefold().strip()))
            if term.isascii() and sum(c.isalpha() for c in name) >= MIN_NAME_LETTERS:
                out.setdefault(len(name), {}).setdefault(name, (ident, term))
        return cls({n: tuple(d.items()) for n, d in out.items()})

    def find(self, text: str) -> list[tuple[str, str, int, int]]:
        """``(entry, written form, start, end)`` of every masked run of words that spells a name."""
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        out: list[tuple[str, str, int, int]] = []
        taken = 0
        for i, (start, _) in enumerate(tokens):
            if start < taken:
                continue
            for j in range(min(len(tokens), i + MAX_WORDS) - 1, i - 1, -1):   # the longest run first
                if any(not _GAP.fullmatch(text, tokens[k][1], tokens[k + 1][0]) for k in range(i, j)):
                    continue
                found = self._spelled(text, tokens[i][0], tokens[j][1])
                if found is not None:
                    out.append((*found, tokens[i][0], tokens[j][1]))
                    taken = tokens[j][1]
                    break
        return out

    def _spelled(self, text: str, start: int, end: int) -> tuple[str, str] | None:
        span = " ".join(_GAP.split(text[start:end].casefold()))
        masks = sum(c in MASKS for c in span)
        shown = sum(c.isalpha() for c in span)
        if not masks or shown <= masks:
            return None
        for name, owner in self.by_length.get(len(span), ()):
            if all(s == n or (s in MASKS and n.isalpha()) for s, n in zip(span, name)):
                return owner
        return None
