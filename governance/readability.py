"""How much of a prompt the guardrail can read at all.

Every rule of :mod:`governance.decisions` matches the lexicons' words — English, Chinese (simplified and
traditional, pinyin with and without tones), the Japanese and Korean entries, transliterated Sanskrit and
Tibetan. A prompt written in a language the rules have no words for (Finnish, Thai, Tamil, Greek, Pig Latin) is not
*safe* because nothing matched: nothing *could* match. Red-team writers who never
saw the rules found this first (``redteam/``: further languages, dialect romanisations and language games were
the weakest categories of blind9 and blind10). So the policy fails closed: a prompt whose letters are mostly in
words the guardrail cannot read is held for a consultant rather than allowed (``prompt.unreadable``).

A word counts as **readable** when it is

- in Chinese, Japanese or Korean script (Han, kana, Hangul: the scripts the lexicons are written in),
- a Latin-script word (diacritics removed) of at most two letters, or one in the English word-frequency list of
  ``wordfreq`` (Speer, *wordfreq* v3, the "large" English list: any word seen in its corpora, Zipf frequency
  above 0) — English is the language the rules are written in,
- or a run of Mandarin pinyin syllables (``guanyin``, ``zhoufang``; the syllables pypinyin's dictionary uses).

Everything else — Latin words of other languages, Cyrillic, Greek, Arabic, Hebrew, Indic, Thai and other
scripts — counts as unreadable; the share is by letters, so a long unreadable word weighs more than an
article. The measure runs in linear time and names every unreadable word with its source offsets.

What it cannot see: a language whose words look like English or pinyin. Taiwanese Hokkien in Pe̍h-ōe-jī
(``Koan-im-má``, ``sái-hak``) splits into pinyin-like syllables once its tone marks are removed, so blind10's
dialect romanisations stay readable here and pass as before.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import regex
from wordfreq import zipf_frequency

from governance.normalize import light_normalize

_CJK_CHARS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}ー"  # the scripts the lexicons are written in
_WORD = regex.compile(r"[\p{L}\p{M}\p{Cf}'’]+")
_RUN = regex.compile(rf"[{_CJK_CHARS}]+|\p{{Latin}}+|[^\p{{Latin}}{_CJK_CHARS}]+")  # a word split by script
_CJK = regex.compile(rf"[{_CJK_CHARS}]+")
_MAX_SYLLABLE = 6  # the longest pinyin syllable: zhuang, chuang, shuang


@dataclass(frozen=True)
class Readability:
    """The letters of a prompt and those in words the guardrail cannot read, with each such word's span."""

    letters: int
    unreadable_letters: int
    words: tuple[tuple[str, int, int], ...]   # (word, start, end) in the source text

    @property
    def share(self) -> float:
        return self.unreadable_letters / self.letters if self.letters else 0.0

    def to_dict(self, limit: int = 12) -> dict:
        return {"letters": self.letters, "unreadable_letters": self.unreadable_letters,
                "unreadable_share": round(self.share, 4), "unreadable_words": len(self.words),
                "words": [{"text": w, "span": [s, e]} for w, s, e in self.words[:limit]]}


@functools.lru_cache(maxsize=1)
def _pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable of pypinyin's character dictionary (ü written v and u)."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    out: set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            plain = to_normal(reading)
            out.update({plain.replace("ü", "v"), plain.replace("ü", "u")})
    return frozenset(s for s in out if s.isascii() and s.isalpha())


def is_pinyin(word: str) -> bool:
    """Whether ``word`` (lower case, no tones) splits into pinyin syllables: ``guanyin`` -> guan + yin."""
    syllables = _pinyin_syllables()
    reachable = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        reachable[end] = any(reachable[start] and word[start:end] in syllables
                             for start in range(max(0, end - _MAX_SYLLABLE), end))
    return reachable[-1]


def _latin_readable(word: str) -> bool:
    w = word.casefold()
    return len(w) <= 2 or zipf_frequency(w, "en") > 0 or is_pinyin(w)


def _letters(text: str) -> int:
    return sum(1 for c in text if unicodedata.category(c).startswith("L"))


def readability(text: str) -> Readability:
    """The share of ``text``'s letters in words the guardrail cannot read (see the module's rules)."""
    letters = unreadable = 0
    words: list[tuple[str, int, int]] = []
    for match in _WORD.finditer(text):
        plain = light_normalize(match.group()).replace("'", "").replace("’", "")
        bad = 0
        for run in _RUN.findall(plain):
            n = _letters(run)
            letters += n
            if _CJK.fullmatch(run):
                continue
            if not (run.isascii() and run.isalpha() and _latin_readable(run)):
                bad += n
        if bad:
            unreadable += bad
            words.append((match.group(), match.start(), match.end()))
    return Readability(letters, unreadable, tuple(words))
