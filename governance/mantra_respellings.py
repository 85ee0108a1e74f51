"""Mantras written out of order or respelled by ear: the words of a written form in any order, or words whose
consonants are the form's consonants.

Paper section 6.2, *exclusion of mantras*. Exact and slot-by-slot phonetic matching
(:mod:`governance.sacred`) find a mantra in its order and in the spellings its traditions use; blind set 5
wrote it the two other ways a person who wants it on a doormat would:

- **reordered or spread out**, with an instruction to put it right ("hum padme mani om — put the words back
  in order", "first word: om; second: mani; third: padme; fourth: hum"): every word of a form of four words
  or more, as a multiset, within a run of at most twice as many consecutive words;
- **respelled by sound** ("ohm money pad me home", "om many pad may hum", "m mn pdm hm" with the vowels
  removed): the consonant skeleton — letters less vowels and the glides h, w, y, the letters English
  respellings add or drop, and a doubled consonant written once (the first steps of Soundex: Russell 1918;
  Knuth, TAOCP vol. 3, §6.2) — of
  three or more consecutive words equals that of a form of three or more words, at least six consonants
  long, starting and ending on word boundaries.

Both read Latin-script words only (other scripts reach the slot patterns by transliteration).
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Iterable

import regex

from governance.misspellings import plain

_WORD = regex.compile(r"[\p{Latin}\p{M}]+")
_DROPPED = frozenset("aeiouhwy")
#: A skeleton shorter than this (consonants) is never matched: too many word sequences share it.
MIN_SKELETON = 6
#: Forms of this many words or more are found reordered.
MIN_REORDERED_WORDS = 4


def skeleton(word: str) -> str:
    """The consonants of ``word`` (plain letters less vowels and h, w, y), a doubled one written once."""
    out = ""
    for c in plain(word):
        if c not in _DROPPED and not out.endswith(c):
            out += c
    return out


def _words(text: str) -> list[tuple[str, str, int, int]]:
    """``(plain letters, consonant skeleton, start, end)`` of every Latin-script word of ``text``."""
    out = []
    for m in _WORD.finditer(text):
        letters = plain(m.group())
        if letters:
            out.append((letters, skeleton(letters), m.start(), m.end()))
    return out


@functools.lru_cache(maxsize=8)
def _reorderable(forms: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, Counter, int], ...]:
    """``(entry, form, its words as a multiset, their number)`` of the forms :func:`reordered` looks for:
    computed once per lexicon, not once per prompt."""
    out = []
    for ident, form in forms:
        need = Counter(plain(w) for w in form.split())
        n = sum(need.values())
        if n >= MIN_REORDERED_WORDS and len(need) >= 2:
            out.append((ident, form, need, n))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def _respelling_keys(forms: tuple[tuple[str, str], ...]) -> dict[str, tuple[str, str]]:
    """The consonant skeleton of every form :func:`respelled` looks for, to its ``(entry, form)`` (the first
    form with that skeleton); once per lexicon."""
    keys: dict[str, tuple[str, str]] = {}
    for ident, form in forms:
        parts = form.split()
        key = "".join(skeleton(w) for w in parts)
        if len(parts) >= 3 and len(key) >= MIN_SKELETON and all(p.isascii() for p in parts):
            keys.setdefault(key, (ident, form))
    return keys


def reordered(text: str, forms: Iterable[tuple[str, str]]) -> list[tuple[str, str, int, int]]:
    """``(entry, form, start, end)``: every ``(entry, form)`` of four or more words whose words all occur, in
    any order, in a run of at most twice as many consecutive words of ``text``."""
    words = _words(text)
    present = {w for w, _, _, _ in words}
    out = []
    for ident, form, need, n in _reorderable(tuple(forms)):
        if not need.keys() <= present:
            continue
        for i in range(len(words)):
            if words[i][0] not in need:
                continue
            window = [w for w, _, _, _ in words[i:i + 2 * n]]
            if not need - Counter(window):
                last = max(k for k, w in enumerate(window) if w in need)
                out.append((ident, form, words[i][2], words[i + last][3]))
                break
    return out


def respelled(text: str, forms: Iterable[tuple[str, str]]) -> list[tuple[str, str, int, int]]:
    """``(entry, form, start, end)``: every run of three or more consecutive words whose consonant skeleton is
    that of a form of three or more words (and whose letters are not the form's own)."""
    keys = _respelling_keys(tuple(forms))
    if not keys:
        return []
    words = _words(text)
    longest = max(map(len, keys))
    out = []
    for i in range(len(words)):
        if not words[i][1]:
            continue
        acc, letters = "", ""
        for j in range(i, len(words)):
            acc += words[j][1]
            letters += words[j][0]
            if len(acc) > longest:
                break
            found = keys.get(acc)
            if found is not None and j - i >= 2 and words[j][1] and letters != plain(found[1]):
                out.append((found[0], found[1], words[i][2], words[j][3]))
    return out
