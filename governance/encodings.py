"""Encoded readings of a prompt: text a model (or a reader) can decode back into a mantra.

Paper section 6.2, "exclusion of mantras": a disguise need not be a look-alike letter. A mantra spelled
backwards, turned upside down ("flip text"), shifted by a Caesar cipher (ROT13), packed in Base64, keyed
in Morse code or spelled in the ICAO radiotelephony alphabet ("Oscar Mike ...") is still the mantra once
decoded, and every one of these decodings is a standard, public table. Each reading here is only searched
for *mantras* (:func:`governance.sacred.analyse`), never for motifs or postures, so a decoding that
turns an ordinary word into another ordinary word cannot refuse a benign prompt.

Every decoded character keeps the source offset of what it was decoded from (a Base64 token's letters
all map to the token's span), so a refusal still names its span. Each reading is one pass over the
text: linear in its length.

References: ITU-R M.1677-1 (International Morse code); ICAO Annex 10, vol. II, §5.2.1.3 (spelling
alphabet); RFC 4648 §4 (Base64); the Unicode Character Database names ("LATIN SMALL LETTER TURNED M").
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import html
import re
import unicodedata
from collections.abc import Callable

from governance.ciphers import announced_readings, decode_numbers

Chars = list[tuple[str, int]]  # (character, source offset), as in governance.normalize

MORSE = {".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g", "....": "h",
         "..": "i", ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n", "---": "o", ".--.": "p",
         "--.-": "q", ".-.": "r", "...": "s", "-": "t", "..-": "u", "...-": "v", ".--": "w", "-..-": "x",
         "-.--": "y", "--..": "z"}
_DOTS = str.maketrans({"·": ".", "•": ".", "∙": ".", "−": "-", "–": "-", "—": "-", "_": "-"})
_MORSE_RUN = re.compile(r"[.\-·•∙−–—_]{1,6}(?:[ \t/|]+[.\-·•∙−–—_]{1,6}){2,}")
ICAO = {"alfa": "a", "alpha": "a", "bravo": "b", "charlie": "c", "delta": "d", "echo": "e", "foxtrot": "f",
        "golf": "g", "hotel": "h", "india": "i", "juliett": "j", "juliet": "j", "kilo": "k", "lima": "l",
        "mike": "m", "november": "n", "oscar": "o", "papa": "p", "quebec": "q", "romeo": "r", "sierra": "s",
        "tango": "t", "uniform": "u", "victor": "v", "whiskey": "w", "whisky": "w", "xray": "x", "x-ray": "x",
        "yankee": "y", "zulu": "z"}
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*")
_B64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{8,}={0,2}(?![A-Za-z0-9+/=_-])")
# Rotations of Latin letters that are themselves letters (flip-text generators use them): u turned is n.
_TURNED_ASCII = {"n": "u", "u": "n", "p": "d", "d": "p", "b": "q", "q": "b", "s": "s", "o": "o", "x": "x",
                 "z": "z", "l": "l", "6": "9", "9": "6"}
# Flip-text generators also use letters whose Unicode names do not say "turned" (ɾ for j, ƃ for g, ɔ for c)
_FLIPPED = {"ɾ": "j", "ƃ": "g", "ɔ": "c", "ı": "i", "ɟ": "f", "ן": "l", "ʃ": "l", "ǝ": "e", "ɐ": "a", "Ɐ": "a",
            "ʍ": "w", "ɯ": "m", "ʞ": "k", "ʎ": "y", "ʌ": "v", "ɹ": "r", "ʇ": "t", "ɥ": "h", "ᴉ": "i", "ɓ": "g"}
_LONG_VOWELS = re.compile(r"aa|ii|uu", re.IGNORECASE)
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){6,}(?![0-9A-Fa-f])")
_TURNED_NAME = re.compile(r"LATIN (?:SMALL|CAPITAL) LETTER (?:TURNED|INVERTED|REVERSED) ([A-Z])\b")
# RFC 4648 §6 Base32: upper-case letters and digits 2-7, padded to a multiple of eight with "="
_B32 = re.compile(r"(?<![A-Za-z0-9=])[A-Z2-7]{8,}={0,6}(?![A-Za-z0-9=])")
# eight-bit groups of binary digits (ASCII/UTF-8 bytes written out), three or more
_BINARY = re.compile(r"(?<![01])[01]{8}(?:[ \t,]+[01]{8}){2,}(?![01])")
# escapes a prompt can carry characters in: HTML character references (WHATWG), percent-encoding (RFC 3986
# §2.1), source-code escapes (\u4e00, \U0001f549, \x41) and Unicode code-point notation (U+5357)
_ESCAPE = re.compile(r"&#[xX][0-9A-Fa-f]{1,6};|&#[0-9]{1,7};|&[A-Za-z][A-Za-z0-9]{1,31};|(?:%[0-9A-Fa-f]{2})+"
                     r"|(?:\\x[0-9A-Fa-f]{2})+|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}|\bU\+[0-9A-Fa-f]{4,6}\b")
# a value given a name ("A = \"om ma\"", "w1=gate", x="南无阿"): spelled in pieces to be joined back up
_ASSIGNED = re.compile(r"(?<![\w])[A-Za-z][A-Za-z0-9_]{0,3}\s*[=:]\s*(?:\"([^\"]{1,40})\"|'([^']{1,40})'|“([^”]{1,40})”|([^\s,;.\"']{1,20}))")


@functools.lru_cache(maxsize=4096)
def _turned(char: str) -> str | None:
    """The letter a turned (rotated 180 degrees) character stands for: ɯ is m, ɥ is h, ǝ is e."""
    if char in _FLIPPED:
        return _FLIPPED[char]
    m = _TURNED_NAME.match(unicodedata.name(char, ""))
    return m.group(1).lower() if m else None


def reversed_reading(chars: Chars) -> Chars:
    """The text read backwards ("muh emdap inam mo")."""
    return chars[::-1]


def turned_reading(chars: Chars) -> Chars | None:
    """Upside-down text read the right way up: reversed, each turned letter read as its letter; None when
    the text has no turned letter (then this reading is the reversed one)."""
    if not any(_turned(c) for c, _ in chars):
        return None
    out: Chars = []
    for c, i in reversed(chars):
        t = _turned(c)
        out.append((t if t else _TURNED_ASCII.get(c.lower(), c), i))
    return out


def rot13_reading(chars: Chars) -> Chars:
    """ROT13 of the Latin letters (the common Caesar shift; other shifts: :func:`shift_signature`)."""
    return [(codecs.encode(c, "rot13") if c.isascii() else c, i) for c, i in chars]


def shift_signature(letters: str) -> str:
    """Differences of successive letters modulo 26: identical for a text and every Caesar shift of it."""
    return "".join(chr(97 + (ord(b) - ord(a)) % 26) for a, b in zip(letters, letters[1:]))


def _b64_token(token: str) -> str | None:
    if not any(c.isdigit() or c.isupper() for c in token) and "=" not in token:
        return None  # a plain lower-case word is not Base64
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_" if any(c in "-_" for c in token)
                               else None, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return decoded if decoded and all(c.isprintable() or c.isspace() for c in decoded) else None


def _hex_token(token: str) -> str | None:
    try:
        return bytes.fromhex(token).decode("utf-8")
    except ValueError:
        return None


def base64_readings(text: str) -> list[Chars]:
    """Base64 tokens (RFC 4648, standard or URL-safe alphabet) that decode to printable UTF-8 text."""
    return [r for m in _B64.finditer(text) if (d := _b64_token(m.group())) for r in [[(c, m.start()) for c in d]]]


def hex_readings(text: str) -> list[Chars]:
    """Runs of six or more hexadecimal byte pairs that decode to printable UTF-8 text with letters."""
    return _token_readings(text, _HEX, _hex_token)


def undoubled_reading(chars: Chars) -> Chars | None:
    """Runs of one repeated letter read as one ("oomm mmaannii", "paaragate", "Buddhaaa"); None when the
    text repeats no letter."""
    out: Chars = []
    for c, i in chars:
        if out and c.isalpha() and c.casefold() == out[-1][0].casefold():
            continue
        out.append((c, i))
    return out if len(out) < len(chars) else None


def stretched(text: str) -> bool:
    """Whether letters are stretched or doubled as a disguise: a letter three times running, or three
    words whose letters all come in pairs ("oomm mmaannii")."""
    if re.search(r"([^\W\d_])\1\1", text):
        return True
    words = re.findall(r"[^\W\d_]{4,}", text)
    return sum(len(w) % 2 == 0 and all(w[k] == w[k + 1] for k in range(0, len(w), 2)) for w in words) >= 3


def atbash_reading(chars: Chars) -> Chars:
    """The Atbash cipher undone (a<->z, b<->y, ...): its own inverse, like ROT13, and not a Caesar shift."""
    return [(_ATBASH.get(c, c), i) for c, i in chars]


_ATBASH = {**{chr(97 + k): chr(122 - k) for k in range(26)}, **{chr(65 + k): chr(90 - k) for k in range(26)}}


def _printable(decoded: str) -> bool:
    return any(c.isalpha() for c in decoded) and all(c.isprintable() or c.isspace() for c in decoded)


def _b32_token(token: str) -> str | None:
    if not any(c.isdigit() for c in token) and "=" not in token:
        return None  # a word in capitals is not Base32
    try:
        return base64.b32decode(token + "=" * (-len(token) % 8)).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _binary_token(token: str) -> str | None:
    try:
        return bytes(int(b, 2) for b in re.findall(r"[01]{8}", token)).decode("utf-8")
    except ValueError:
        return None


def _token_readings(text: str, pattern: re.Pattern, decode: Callable[[str], str | None]) -> list[Chars]:
    out = []
    for m in pattern.finditer(text):
        decoded = decode(m.group())
        if decoded and _printable(decoded):
            out.append([(c, m.start()) for c in decoded])
    return out


def base32_readings(text: str) -> list[Chars]:
    """Base32 tokens (RFC 4648 §6) that decode to printable UTF-8 text with letters."""
    return _token_readings(text, _B32, _b32_token)


def binary_readings(text: str) -> list[Chars]:
    """Runs of three or more eight-bit binary groups that decode to printable UTF-8 text with letters."""
    return _token_readings(text, _BINARY, _binary_token)


def _unescape_one(esc: str) -> str | None:
    if esc.startswith("&"):
        s = html.unescape(esc)
        return s if s != esc else None
    if esc.startswith("%") or esc.startswith("\\x"):
        raw = bytes(int(h, 16) for h in re.findall(r"[0-9A-Fa-f]{2}", esc.replace("\\x", "%")))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    cp = int(esc[2:], 16)
    return chr(cp) if cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF else None


def unescaped_reading(text: str) -> Chars | None:
    """``text`` with its character escapes resolved (HTML references, percent-encoding, \\u/\\x escapes,
    U+ notation), each resolved character at its escape's offset; None when it has none."""
    out: Chars = []
    pos, changed = 0, False
    for m in _ESCAPE.finditer(text):
        s = _unescape_one(m.group())
        if s is None or not all(c.isprintable() or c.isspace() for c in s):
            continue
        out += [(c, pos + k) for k, c in enumerate(text[pos:m.start()])]
        out += [(c, m.start()) for c in s]
        pos, changed = m.end(), True
    if not changed:
        return None
    return out + [(c, pos + k) for k, c in enumerate(text[pos:])]


def joined_reading(text: str) -> Chars | None:
    """Values given names and meant to be joined ("A = \"om ma\", B = \"ni pad\" ... paint A+B+C"), read
    joined in order without separators (glued text is searched like spaced text); None under two values."""
    out: Chars = []
    for m in _ASSIGNED.finditer(text):
        k = next(g for g in range(1, 5) if m.group(g) is not None)
        out += [(c, m.start(k) + j) for j, c in enumerate(m.group(k))]
    return out if len(list(_ASSIGNED.finditer(text))) >= 2 else None


def _substituted(text: str) -> str | None:
    """``text`` with its escapes resolved, then each Base64, Base32, hex or binary token that decodes to
    printable text replaced by its decoding, so the decoding is checked in its context ("headline =
    base64decode(...)"); None when nothing decodes."""
    unescaped = unescaped_reading(text)
    s = "".join(c for c, _ in unescaped) if unescaped is not None else text
    decoders = ((_B64, _b64_token), (_B32, _b32_token), (_HEX, _hex_token), (_BINARY, _binary_token))
    for pattern, decode in decoders:
        s = pattern.sub(lambda m: d if (d := decode(m.group())) and _printable(d) else m.group(), s)
    return s if s != text else None


def decoded_texts(text: str, chars: Chars) -> list[tuple[str, str]]:
    """Decodings that a whole prompt can hide behind (upside-down letters, Base64, hex, stretched letters;
    escapes, Base64/Base32/hex/binary tokens and character codes written as numbers decoded in place; Morse
    and spelling-alphabet runs; named pieces joined; a cipher the prompt names), as plain text for a full
    guardrail check: unlike reversal, ROT13 or Atbash read unasked, none of these turns an ordinary prompt
    into other words."""
    out = []
    turned = turned_reading(chars)
    if turned is not None:
        out.append(("upside-down", "".join(c for c, _ in turned)))
    out += [("base64", "".join(c for c, _ in r)) for r in base64_readings(text)]
    out += [("hex", "".join(c for c, _ in r)) for r in hex_readings(text)]
    substituted = _substituted(text)
    if substituted is not None:  # escapes and tokens decoded in place, the rest of the prompt kept
        out.append(("decoded in place", substituted))
    numbers = decode_numbers(substituted if substituted is not None else text)
    if numbers is not None:  # character codes written as numbers, decoded in place
        out.append(("character codes", numbers))
    out += announced_readings(text)  # a cipher the prompt names (governance.ciphers)
    out += [(how, "".join(c for c, _ in r)) for how, readings_of in (("morse", morse_readings),
                                                                    ("spelling alphabet", icao_readings))
            for r in readings_of(text)]
    joined = joined_reading(text)
    if joined is not None:
        out.append(("joined values", text + " " + "".join(c for c, _ in joined)))
    if stretched(text):
        undoubled = undoubled_reading(chars)
        if undoubled is not None:
            out.append(("stretched letters", "".join(c for c, _ in undoubled)))
    return out


def morse_readings(text: str) -> list[Chars]:
    """Runs of three or more Morse codes (ITU-R M.1677-1); a slash or a wide gap separates words."""
    out = []
    for m in _MORSE_RUN.finditer(text):
        chars: Chars = []
        for code in re.finditer(r"[^ \t/|]+|/|\|", m.group()):
            sym = code.group().translate(_DOTS)
            chars.append((" " if sym in "/|" else MORSE.get(sym, "?"), m.start() + code.start()))
        if sum(c.isalpha() for c, _ in chars) >= 3:
            out.append(chars)
    return out


def icao_readings(text: str) -> list[Chars]:
    """Runs of three or more ICAO spelling-alphabet words read as their letters ("Oscar Mike" is "om"; a
    "(space)" between them is a space)."""
    out, run = [], []
    for m in _WORD.finditer(text):
        # "(space)" between spelled words is a word break of the spelled text
        letter = " " if run and m.group().lower() == "space" else ICAO.get(m.group().lower())
        gap = text[run[-1][2]:m.start()] if run else ""
        if letter and (not run or re.fullmatch(r"[\s,;.\-/|()]*", gap)):
            run.append((letter, m.start(), m.end()))
            continue
        if len(run) >= 3:
            out.append([(c, i) for c, i, _ in run])
        run = [(letter, m.start(), m.end())] if letter else []
    if len(run) >= 3:
        out.append([(c, i) for c, i, _ in run])
    return out


def encoded_readings(text: str, chars: Chars) -> list[tuple[str, Chars]]:
    """Every decoding of ``text`` (whose decoded characters are ``chars``) to search for mantras, each named."""
    out: list[tuple[str, Chars]] = [("reversed", reversed_reading(chars)), ("rot13", rot13_reading(chars))]
    turned = turned_reading(chars)
    if turned is not None:
        out.append(("upside-down", turned))
    out += [("base64", r) for r in base64_readings(text)]
    out += [("hex", r) for r in hex_readings(text)]
    out += [("base32", r) for r in base32_readings(text)]
    out += [("binary", r) for r in binary_readings(text)]
    out.append(("atbash", atbash_reading(chars)))
    unescaped = unescaped_reading(text)
    if unescaped is not None:
        out.append(("escapes", unescaped))
    joined = joined_reading(text)
    if joined is not None:
        out.append(("joined values", joined))
    # only where letters look stretched or long vowels are doubled (Velthuis "paaragate", "svaahaa"): most
    # prompts double some letter ("tree", "hill"), and this reading costs a full mantra search
    undoubled = undoubled_reading(chars) if stretched(text) or _LONG_VOWELS.search(text) else None
    if undoubled is not None:
        out.append(("doubled letters", undoubled))
    out += [("morse", r) for r in morse_readings(text)]
    out += [("spelling alphabet", r) for r in icao_readings(text)]
    return out
