"""Text normalisation that defeats spelling tricks (Unicode TR15 normalisation, TR39 confusables).

Paper section 6.2, *spiritual dignity*: "exclusion of mantras" must survive the ways a determined user
disguises text — diacritics (oṃ maṇi), compatibility forms (fullwidth ｏｍ), zero-width characters,
look-alike letters from other scripts (Cyrillic о, Greek ο), case, spacing and punctuation (o.m m-a-n-i).
The pipeline, applied identically to prompts and to the mantra list:

1. NFKD (Unicode Standard Annex #15) and drop combining marks (categories Mn, Mc, Me) — removes
   diacritics and Indic/Tibetan vowel signs alike, so both sides reduce to their base letters;
2. case-fold (Unicode full case folding, stronger than lower());
3. NFKC, to recompose what remains into canonical compatibility form;
4. drop format characters (category Cf: zero-width space/joiner, bidi controls, soft hyphen, BOM);
5. map confusables (also once before step 2, for capital look-alikes;
   ``governance/data/confusables.txt``: a hand-kept subset of Unicode TR39
   ``confusables.txt`` — Cyrillic and Greek look-alikes and a few digit/symbol substitutions — to Latin).

:func:`skeleton` then keeps letters only and records, for each letter, whether it starts or ends a
whitespace-separated token: matching a Latin mantra requires those boundaries, so "om ah hum" is found
in "o.m a-h h u m" but not in "mom, ah, humming birds".
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CONFUSABLES = DATA / "confusables.txt"


class ConfusablesError(ValueError):
    """A malformed line in the confusables table; names the line."""


@functools.lru_cache(maxsize=4)
def load_confusables(path: str | Path = CONFUSABLES) -> dict[str, str]:
    """``{character: replacement}`` from lines ``U+XXXX <TAB> replacement <TAB> # comment``."""
    table: dict[str, str] = {}
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[0].upper().startswith("U+"):
            raise ConfusablesError(f"{path} line {lineno}: expected 'U+XXXX replacement'")
        try:
            char = chr(int(parts[0][2:], 16))
        except ValueError:
            raise ConfusablesError(f"{path} line {lineno}: {parts[0]!r} is not a code point") from None
        if char in table:
            raise ConfusablesError(f"{path} line {lineno}: {parts[0]} listed twice")
        table[char] = parts[1]
    return table


def normalize(text: str, confusables: dict[str, str] | None = None) -> str:
    """Steps 1-5 above; whitespace and punctuation are kept (tokens still exist)."""
    table = load_confusables() if confusables is None else confusables
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Mc", "Me"))
    # Map once before folding (capital look-alikes: Greek Μ imitates M, but folds to μ, which imitates u)
    # and once after (everything else, including what folding produced).
    stripped = "".join(table.get(c, c) for c in stripped)
    folded = unicodedata.normalize("NFKC", stripped.casefold())
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return "".join(table.get(c, c) for c in visible)


def light_normalize(text: str) -> str:
    """Case-preserving normalisation for names whose capitalisation matters (period names): NFKC,
    diacritics removed (Táng → Tang), format characters removed."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Mc", "Me", "Cf"))
    return unicodedata.normalize("NFKC", stripped)


def is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


@dataclass(frozen=True)
class Skeleton:
    """Letters only, with token-boundary flags per letter."""

    letters: str
    starts: tuple[bool, ...]   # letter i is the first letter of its whitespace token
    ends: tuple[bool, ...]     # letter i is the last letter of its whitespace token

    def find(self, key: str, start_boundary: bool, end_boundary: bool) -> int:
        """Position of the first occurrence of ``key`` honouring the requested boundaries, or -1."""
        pos = self.letters.find(key)
        while pos >= 0:
            if (not start_boundary or self.starts[pos]) and (not end_boundary or self.ends[pos + len(key) - 1]):
                return pos
            pos = self.letters.find(key, pos + 1)
        return -1


def skeleton(normalized: str) -> Skeleton:
    """Letters of an already normalised text, with whitespace-token boundaries."""
    letters, starts, ends = [], [], []
    for token in normalized.split():
        idx = [i for i, c in enumerate(token) if is_letter(c)]
        for n, i in enumerate(idx):
            letters.append(token[i])
            starts.append(n == 0)
            ends.append(n == len(idx) - 1)
    return Skeleton("".join(letters), tuple(starts), tuple(ends))


def letters_only(text: str, confusables: dict[str, str] | None = None) -> str:
    """The comparison key of a phrase: normalised, letters only."""
    return skeleton(normalize(text, confusables)).letters
