"""A prompt normalised once into the views the guardrails match on, each letter mapped to its source span.

Paper section 6.2, *spiritual dignity*: "exclusion of mantras" must survive the ways a determined user
disguises text. The pipeline (applied identically to prompts and to every lexicon term):

1. **decoding** — ``%20``-style percent escapes and HTML character references are decoded, Unicode tag
   characters (U+E0020–E007E: invisible mirrors of ASCII that some text encoders read, "ASCII smuggling")
   read as the ASCII they mirror, and an emoji that stands as a word is read as its CLDR short name (the
   ``emoji`` package: 🚽 "toilet", 💩 "pile of poo"), so a degradation said in pictures ("Guanyin 👉🚽") is
   read in words; emoji that are letters (ⓄⓂ, 🅾🅼, regional indicators), sacred signs (🕉 ☸ ☯) or a gap
   inside a word ("B👏U👏D👏D👏H👏A", "G🙏uanyin") stay as they are, for the steps below;
2. **bidi** — a right-to-left override (U+202E … U+202C/U+2069/end of line) shows its text reversed: the
   visual order is built as a second reading (:func:`readings`), so text a reviewer sees and text a
   model reads are both checked; text with letters of any other script (Cyrillic, Greek, Armenian,
   Hangul, kana, Georgian, Braille ...) also gets a reading by sound (anyascii), since the skeleton of
   step 7 reads letters by shape;
3. **invisibles** — every Default_Ignorable_Code_Point and format character (zero-width joiners, Hangul
   fillers, variation selectors, bidi controls, soft hyphens) is removed *without* breaking the word;
4. **NFKC** (Unicode Standard Annex #15): fullwidth, enclosed (ⓜ), ligature and other compatibility forms;
5. **Chinese** — Japanese shinjitai → traditional → simplified with OpenCC (``jp2t``, ``t2s``), and each ideograph read as a toneless
   pinyin syllable with pypinyin (its own word), so other transcriptions of a mantra meet on sound;
6. **Devanagari and Tibetan** — transliterated with indic-transliteration (IAST) and pyewts (EWTS);
7. **letters** — diacritics and tone marks dropped, case folded, confusables folded by the UTS #39
   skeleton (:mod:`governance.uts39`); inside a word that has letters, leetspeak digits and symbols are
   read as letters (``m4ni``, ``p@dme``) and a final pinyin tone number is dropped (``ma2``).

The result, :class:`Roman`, is the string of letters with, per letter, its source offset, its word
number, and whether it came from a Chinese ideograph. :class:`Hanzi` is the simplified Chinese text with
spaces removed. Everything is one pass over the text: linear in its length.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

import emoji
import opencc
from anyascii import anyascii
import regex

from governance.keyboard_layouts import layout_readings
from governance.uts39 import fold_char, skeleton

_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+|&#?[A-Za-z0-9]{1,8};")
_IGNORABLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]")
_RLO, _ENDS = "\u202e", "\u202c\u2069\n\r\u2029"
_HAN = regex.compile(r"\p{Han}")
_DEVANAGARI = regex.compile(r"[\u0900-\u097f\ua8e0-\ua8ff]+")
_TIBETAN = regex.compile(r"[\u0f00-\u0fff]+")
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s",
        "!": "i", "|": "i", "€": "e", "£": "l"}
_PINYIN_FINAL = set("aeiouvngr")
# Letters of every script without a transliterator of its own here (Latin is read as is, Han by pypinyin,
# Devanagari and Tibetan by their libraries): read by sound with anyascii as a second reading, so a
# mantra in Cyrillic, Greek, Armenian, Hangul, kana, Georgian, Mongolian, Braille ... meets its Latin form.
_SOUND = regex.compile(r"(?![\p{Latin}\p{Han}\p{Common}\p{Inherited}\p{Devanagari}\p{Tibetan}])[\p{L}\p{So}]")
# Punctuation that ends a clause: a name or posture term never runs across it ("Amitabh, a teacher"); a
# full stop only before whitespace, so "B.u.d.d.h.a" still reads as one word.
_BREAKS = frozenset(",;:!?，；：。！？、")
_HAN_SEPARATORS = frozenset("·・‧•∙-‐‑_.*/|~'’`^+")


@functools.lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=1)
def _jp2t() -> opencc.OpenCC:
    """Japanese shinjitai to traditional forms (仏 → 佛, 蔵 → 藏, 関 → 關), before t2s simplifies them."""
    return opencc.OpenCC("jp2t")


@functools.lru_cache(maxsize=1)
def _ewts() -> "pyewts.pyewts":  # noqa: F821 (imported inside: loaded on first use)
    import pyewts  # local, like pypinyin and sanscript below: a cold `inkgen generate` of a Latin-script prompt
    # loads none of them (pypinyin alone is ~0.35 s); they load the first time a prompt has their script

    return pyewts.pyewts()


def _pinyin(text: str) -> list[str]:
    import pypinyin  # local: only a prompt with Chinese characters needs it (see _ewts)

    return pypinyin.lazy_pinyin(text)


def _iast(text: str) -> str:
    from indic_transliteration import sanscript  # local: only a prompt in Devanagari needs it (see _ewts)

    return sanscript.transliterate(text, sanscript.DEVANAGARI, sanscript.IAST)


Chars = list[tuple[str, int]]  # (character, source offset)


def _decode(text: str) -> Chars:
    out: Chars = []
    last = 0
    for m in _ESCAPES.finditer(text):
        out += [(_untag(c), i) for i, c in enumerate(text[last:m.start()], last)]
        raw = m.group()
        decoded = urllib.parse.unquote(raw, errors="replace") if raw[0] == "%" else html.unescape(raw)
        out += [(c, m.start()) for c in decoded]
        last = m.end()
    return _emoji_named(out + [(_untag(c), i) for i, c in enumerate(text[last:], last)])


# Emoji that are not named: letters in boxes and circles (Enclosed Alphanumerics and its Supplement, with the
# regional indicators; NFKC or the skeleton reads them as letters) and sacred signs the lexicon matches as
# characters (mantras.yaml `symbols`).
_LETTER_EMOJI = regex.compile(r"[\u2460-\u24ff\U0001f100-\U0001f1ff\u3200-\u32ff]")
_SIGN_EMOJI = frozenset("\U0001f549\u2638\u262f\u2721\u271d\u2626\u262a\u262c\U0001f6d0")


def _emoji_named(chars: Chars) -> Chars:
    """Each emoji (with its modifiers and joiners) that stands as a word replaced by its English CLDR name,
    as separate words, every letter at the emoji's source offset: "🤮" reads " face vomiting "."""
    text = "".join(c for c, _ in chars)
    if text.isascii():
        return chars
    out: Chars = []
    last = 0
    for e in emoji.emoji_list(text):
        start, end = e["match_start"], e["match_end"]
        glued = 0 < start and end < len(text) and text[start - 1].isalpha() and text[end].isalpha()
        if glued or _LETTER_EMOJI.match(e["emoji"]) or e["emoji"][0] in _SIGN_EMOJI:
            continue
        name = emoji.demojize(e["emoji"], delimiters=(" ", " ")).replace("_", " ")
        out += chars[last:start] + [(c, chars[start][1]) for c in name]
        last = end
    return out + chars[last:] if last else chars


# Unicode tag characters (U+E0020-U+E007E) mirror printable ASCII; invisible, yet a text encoder that keeps
# them reads a hidden sentence ("ASCII smuggling"): decoded in place, in every reading, like an escape.
_TAG_FIRST, _TAG_LAST = 0xE0020, 0xE007E


def _untag(c: str) -> str:
    return chr(ord(c) - 0xE0000) if _TAG_FIRST <= ord(c) <= _TAG_LAST else c


def _visual(chars: Chars) -> Chars:
    """The display order of right-to-left overrides: each overridden run reversed."""
    out: Chars = []
    run: Chars | None = None
    for c, i in chars:
        if c == _RLO:
            run = [] if run is None else run
        elif run is not None and c in _ENDS:
            out += run[::-1] + [(c, i)]
            run = None
        elif run is not None:
            run.append((c, i))
        else:
            out.append((c, i))
    return out + (run[::-1] if run else [])


def _transliterated(chars: Chars) -> Chars:
    """Letters of other scripts read by sound (anyascii), not by shape: "ом мани падме хум", "옴 마니 반메 훔".
    A run is read whole, with its vowel signs and length marks, so that digraphs read as one sound (ミョ is
    "myo", not "miyo"); each Latin letter keeps a source offset inside its run."""
    out: Chars = []
    k = 0
    while k < len(chars):
        if not _SOUND.match(chars[k][0]):
            out.append(chars[k])
            k += 1
            continue
        j = k + 1
        while j < len(chars) and (_SOUND.match(chars[j][0]) or unicodedata.category(chars[j][0]) in ("Mn", "Mc", "Lm")):
            j += 1
        latin = anyascii("".join(c for c, _ in chars[k:j]))
        n = len(latin) or 1
        out += [(c, chars[k + m * (j - k) // n][1]) for m, c in enumerate(latin)]
        k = j
    return out


def readings(text: str) -> list[Chars]:
    """The logical reading of ``text`` (escapes decoded); the visual one when an override reorders it; one
    with invisibles as word gaps; one per keyboard layout the text reads as typed on
    (:mod:`governance.keyboard_layouts`); and one by sound of each when the text has letters of another script
    (the skeleton reads them by shape)."""
    chars = _decode(text)
    out = [chars]
    if any(c == _RLO for c, _ in chars):
        out.append(_visual(chars))
    # invisibles between letters as word breaks (the first reading deletes them, gluing "naked\u2060Tara"
    # into one word), and camelCase hashtags split ("#BuddhaAsAshtray"): each a further reading
    spaced = _spaced(chars)
    if spaced is not None:
        out.append(spaced)
    # text keyed with the wrong layout on, read as meant (qncjsla: 부처님 on the Korean 2-set layout)
    out += [r for _, r in layout_readings(chars)]
    if any(_SOUND.match(c) for c, _ in chars):
        out += [_transliterated(r) for r in list(out)]
    return out


_CAMEL = regex.compile(r"(?<=\p{Ll})(?=\p{Lu})")
# an invisible run between two letters, with two or more letters on one side at least ("a\ufe0fBuddha")
_INVISIBLE_RUN = r"[\p{Default_Ignorable_Code_Point}\p{Cf}]+"
_WORD_GAP = regex.compile(rf"(?<=\p{{L}}\p{{M}}*\p{{L}}\p{{M}}*){_INVISIBLE_RUN}(?=\p{{L}})|(?<=\p{{L}}\p{{M}}*){_INVISIBLE_RUN}(?=\p{{L}}\p{{M}}*\p{{L}})")


def _spaced(chars: Chars) -> Chars | None:
    """``chars`` with each invisible (default-ignorable or format character) that separates two words, one of
    them of two letters or more, read as a space, and a space put where a lower-case letter meets an upper-case one; None
    when neither occurs. An invisible after every letter ("p\u00adi\u00adl\u00adg") spells one word: deleted."""
    text = "".join(c for c, _ in chars)
    gaps = {m.start() for m in _WORD_GAP.finditer(text)}
    camel = {m.start() for m in _CAMEL.finditer(text)}
    if not gaps and not camel:
        return None
    out: Chars = []
    for k, (c, i) in enumerate(chars):
        if k in camel:
            out.append((" ", i))
        out.append((" ", i) if k in gaps else (c, i))
    return out


# Symbols that are a Latin letter by their Unicode name but have no compatibility decomposition (🅾 NEGATIVE
# SQUARED LATIN CAPITAL LETTER O, 🇴 REGIONAL INDICATOR SYMBOL LETTER O): read as that letter.
_LETTER_NAME = re.compile(r"(?:\bLATIN (?:CAPITAL |SMALL )?LETTER|^REGIONAL INDICATOR SYMBOL LETTER) ([A-Z])$")


@functools.lru_cache(maxsize=65536)
def _nfkc(char: str) -> str:
    """NFKC of one character, or "" for an invisible one; a decorated Latin letter symbol as its letter."""
    if _IGNORABLE.match(char):
        return ""
    out = unicodedata.normalize("NFKC", char)
    if out == char and not char.isascii():
        m = _LETTER_NAME.search(unicodedata.name(char, ""))
        if m and unicodedata.category(char) == "So":
            return m.group(1)
    return out


@functools.lru_cache(maxsize=65536)
def _is_han(char: str) -> bool:
    return bool(_HAN.match(char))


def _clean(chars: Chars) -> Chars:
    """Invisibles removed, NFKC per character, Chinese simplified."""
    out: Chars = [(d, i) for c, i in chars for d in _nfkc(c)]
    han = "".join(c for c, _ in out if _is_han(c))
    if han:
        simple = _t2s().convert(_jp2t().convert(han))
        if len(simple) != len(han):  # a phrase rule changed the length: convert character by character
            simple = "".join(_t2s().convert(_jp2t().convert(c)) for c in han)
        it = iter(simple)
        out = [(next(it) if _is_han(c) else c, i) for c, i in out]
    return out


@dataclass(frozen=True)
class Roman:
    """Letters of the normalised text; per letter: source offset, word number, from an ideograph."""

    letters: str
    src: tuple[int, ...]
    word: tuple[int, ...]
    han: tuple[bool, ...]
    brk: tuple[bool, ...] = ()   # per letter: a clause break (, ; : ! ? or a full stop) lies before it

    def crosses_break(self, i: int, j: int) -> bool:
        """Whether letters ``i..j-1`` span a clause break ("Amitabh, a" is not "amitabha")."""
        return any(self.brk[i + 1:j]) if self.brk else False

    def starts_word(self, i: int) -> bool:
        return i == 0 or self.word[i] != self.word[i - 1]

    def ends_word(self, i: int) -> bool:
        return i == len(self.letters) - 1 or self.word[i] != self.word[i + 1]

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Source offsets of letters ``i..j-1``."""
        lo, hi = min(self.src[i:j]), max(self.src[i:j])
        return lo, hi + 1


@dataclass(frozen=True)
class Hanzi:
    """Simplified Chinese text without whitespace or invisibles, with source offsets."""

    text: str
    src: tuple[int, ...]


def _script_runs(chars: Chars) -> Chars:
    """Devanagari and Tibetan runs replaced by their Latin transliteration (each letter mapped into the run)."""
    text = "".join(c for c, _ in chars)
    spans = []
    for pattern, convert in ((_DEVANAGARI, _iast),
                             (_TIBETAN, lambda s: _ewts().toWylie(s.replace("\u0f00", "\u0f68\u0f7c\u0f7e")))):
        spans += [(m.start(), m.end(), convert(m.group())) for m in pattern.finditer(text)]
    if not spans:
        return chars
    out: Chars = []
    last = 0
    for start, end, latin in sorted(spans):
        out += chars[last:start]
        n = len(latin) or 1
        out += [(" ", chars[start][1])] + [(c, chars[start + k * (end - start) // n][1]) for k, c in
                                           enumerate(latin)] + [(" ", chars[end - 1][1])]
        last = end
    return out + chars[last:]


def _word_letters(word: Chars) -> list[tuple[str, int]]:
    """Letters of one word (a run of letters, digits and leet symbols): leet read when the word has letters."""
    if not any(c.isalpha() for c, _ in word):
        return []
    if word[-1][0] in "12345" and len(word) > 1 and word[-2][0].casefold() in _PINYIN_FINAL \
            and not any(c in LEET for c, _ in word[:-1]):
        word = word[:-1]  # a pinyin tone number: ma2, hong2
    out = []
    for c, i in word:
        c = LEET.get(c, c)
        if c.isalpha() or _latin_like(c):
            out += [(f, i) for f in fold_char(c)]
    return out


@functools.lru_cache(maxsize=4096)
def _latin_like(char: str) -> bool:
    """A Han-script character whose UTS #39 prototype is a Latin letter (〇 imitates O)."""
    proto = skeleton(char)
    return proto.isascii() and proto.isalpha()


def views(chars: Chars) -> tuple[Roman, Hanzi]:
    """Both views of one reading, cleaned once."""
    cleaned = _clean(chars)
    return _roman(cleaned), _hanzi(cleaned)


def roman(chars: Chars) -> Roman:
    """The letter stream of one reading (see the module docstring, steps 3-7)."""
    return _roman(_clean(chars))


def _roman(cleaned: Chars) -> Roman:
    chars = _script_runs(cleaned)
    letters: list[str] = []
    src: list[int] = []
    words: list[int] = []
    han: list[bool] = []
    brk: list[bool] = []
    word: Chars = []
    n = 0
    pending = False

    def flush() -> None:
        nonlocal n, word, pending
        got = _word_letters(word)
        if got:
            n += 1
            for f, i in got:
                letters.append(f)
                src.append(i)
                words.append(n)
                han.append(False)
                brk.append(pending)
                pending = False
        word = []

    k = 0
    while k < len(chars):
        c, i = chars[k]
        if _is_han(c) and not _latin_like(c):
            flush()
            j = k
            while j < len(chars) and _is_han(chars[j][0]) and not _latin_like(chars[j][0]):
                j += 1
            run = chars[k:j]
            syllables = _pinyin("".join(x for x, _ in run))
            if len(syllables) != len(run):
                syllables = [_pinyin(x)[0] for x, _ in run]
            for (_, pos), syl in zip(run, syllables):
                n += 1
                for f in "".join(fold_char(ch) for ch in syl.replace("ü", "v")):
                    letters.append(f)
                    src.append(pos)
                    words.append(n)
                    han.append(True)
                    brk.append(pending)
                    pending = False
            k = j
            continue
        if c.isalnum() or (c in LEET and not (c == "!" and _ends_clause(chars, k))) \
                or unicodedata.category(c) in ("Mn", "Mc"):
            word.append((c, i))
        else:
            flush()
            pending = pending or c in _BREAKS or (c == "." and (k + 1 == len(chars) or chars[k + 1][0].isspace()))
        k += 1
    flush()
    return Roman("".join(letters), tuple(src), tuple(words), tuple(han), tuple(brk))


def _ends_clause(chars: Chars, k: int) -> bool:
    """A "!" followed by a space or the end is punctuation, not leetspeak for "i"."""
    return k + 1 == len(chars) or chars[k + 1][0].isspace() or chars[k + 1][0] in "!?."


def hanzi(chars: Chars) -> Hanzi:
    """The simplified Chinese view (whitespace and invisibles removed) of one reading."""
    return _hanzi(_clean(chars))


def _hanzi(cleaned: Chars) -> Hanzi:
    kept = [(c, i) for c, i in cleaned if not c.isspace()]
    # a separator dropped between two ideographs, as spaces are: 观·音, 观-音, 佛*像 are 观音, 佛像
    kept = [(c, i) for k, (c, i) in enumerate(kept)
            if not (c in _HAN_SEPARATORS and 0 < k < len(kept) - 1 and _is_han(kept[k - 1][0]) and _is_han(kept[k + 1][0]))]
    return Hanzi("".join(c for c, _ in kept), tuple(i for _, i in kept))


def light_normalize(text: str) -> str:
    """Case-preserving normalisation for names whose capitalisation matters (period names): NFKC,
    diacritics removed (Táng → Tang), format characters removed."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Mc", "Me", "Cf"))
    return unicodedata.normalize("NFKC", stripped)


def roman_key(term: str) -> str:
    """The letters a lexicon term is compared by (the same pipeline as a prompt)."""
    return roman(_decode(term)).letters
