"""Text typed with the wrong keyboard layout on, read as it was meant: a further reading of a prompt.

Paper section 6.2, *spiritual dignity*. Blind set 9 (``blind9_r_wrong_keyboard_layout.yaml`` among the
evaluation sets) wrote its requests as a Korean or Russian typist would with the input method left on Latin:
``qncjsla`` is 부처님 ("the Buddha") keyed on the Korean 2-set layout, ``yfhbceq`` is нарисуй ("draw") keyed on
the Russian ЙЦУКЕН layout, and ``ㅂㅜㅊㅓㄴㅣㅁ`` is 부처님 with its letters left uncomposed. Four of its 34
prompts were refused on its first pass.

Three readings, each made only where it turns something into real text:

- **Korean 2-set** (KS X 5002): a run of Latin letters that is not an English word is read by the keys it
  was typed on (``hangul-keyboard``: keys to jamo, jamo composed into syllables) and kept only when every
  character comes out a complete Hangul syllable — English words and names almost never do;
- **Russian ЙЦУКЕН** (GOST 6431-90, the standard Windows Russian layout): a run of Latin letters that is not an
  English word becomes the Cyrillic on the same keys when a quarter of the result or more is vowels;
- **uncomposed jamo**: runs of Hangul compatibility jamo composed into syllables (the same composition).

Each reading is analysed like the prompt itself (motifs, postures, mantras): it is what the writer meant.
Each converted character keeps the source offset of the key it was typed with (proportionally, where keys
and characters differ in number: seven keys make three syllables).
"""

from __future__ import annotations

from typing import Callable

import regex

from governance.misspellings import english_words

Chars = list[tuple[str, int]]

_LATIN_RUN = regex.compile(r"[A-Za-z]{2,}")
# on the Russian layout the keys [ ] ; ' , . ` are letters too (х ъ ж э б ю ё): ",ekls" is будь
_RUSSIAN_RUN = regex.compile(r"[\[\];'`,.]*[A-Za-z](?:[A-Za-z\[\];'`,.]*[A-Za-z])?[\[\];'`,.]*")
_JAMO_RUN = regex.compile(r"[\u3131-\u318E]{2,}")
_SYLLABLE = regex.compile(r"[\uAC00-\uD7A3]+")
# The Russian ЙЦУКЕН layout on a US keyboard: each Latin key to the Cyrillic letter it types.
_RUSSIAN = dict(zip("qwertyuiop[]asdfghjkl;'zxcvbnm,.`", "йцукенгшщзхъфывапролджэячсмитьбюё"))
_CYRILLIC_VOWELS = set("аеёиоуыэюя")


def _korean(run: str) -> str | None:
    from hangul_keyboard import convert_roman_to_hangul

    out = convert_roman_to_hangul(run)
    return out if _SYLLABLE.fullmatch(out) else None


def _russian(run: str) -> str | None:
    out = "".join(_RUSSIAN.get(c, c) for c in run.lower())
    vowels = sum(c in _CYRILLIC_VOWELS for c in out)
    return out if len(out) >= 3 and vowels * 4 >= len(out) else None


def _composed(run: str) -> str | None:
    from hangul_keyboard.core import compose_hangul

    out = compose_hangul(run)
    return out if out != run and _SYLLABLE.search(out) else None


def _converted(chars: Chars, pattern: regex.Pattern, convert: Callable[[str], str | None],
               skip_words: bool) -> Chars | None:
    """``chars`` with every run of ``pattern`` that ``convert`` reads as text replaced by that text (runs that are
    English words left alone when ``skip_words``); None when no run converts."""
    text = "".join(c for c, _ in chars)
    vocabulary = english_words() if skip_words else frozenset()
    out: Chars = []
    last, changed = 0, False
    for m in pattern.finditer(text):
        if skip_words and "".join(c for c in m.group().lower() if c.isalpha()) in vocabulary:
            continue
        typed = convert(m.group())
        if typed is None:
            continue
        run = chars[m.start():m.end()]
        # each character to the key it was (about) typed with: spans stay on the run, never shorter than a key
        out += chars[last:m.start()] + [(c, run[k * len(run) // len(typed)][1]) for k, c in enumerate(typed)]
        last, changed = m.end(), True
    return out + chars[last:] if changed else None


def layout_readings(chars: Chars) -> list[tuple[str, Chars]]:
    """``(how, reading)`` for each layout under which some run of ``chars`` reads as text."""
    out = []
    for how, pattern, convert, skip_words in (("typed on a Korean 2-set layout", _LATIN_RUN, _korean, True),
                                              ("typed on a Russian layout", _RUSSIAN_RUN, _russian, True),
                                              ("uncomposed Hangul letters", _JAMO_RUN, _composed, False)):
        reading = _converted(chars, pattern, convert, skip_words)
        if reading is not None:
            out.append((how, reading))
    return out
