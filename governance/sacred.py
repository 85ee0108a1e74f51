"""Sacred imagery in prompts: religious motifs, mantras, deity postures and facing (paper section 6.2).

"Sacred imagery generation requires rigorous protocols ... exclusion of mantras, directional constraints
for deity posture synthesis, and mandatory cultural consultant validation for any religious motif
creation." This module *recognises*; :mod:`governance.decisions` decides. It reads two data files:

- ``motifs.yaml`` — religious motifs (Buddha, Guanyin, bodhisattvas, arhats, protectors, apsaras, Daoist
  deities, thangka, mandala) in English, pinyin and Chinese, each with its deity class; posture and facing
  vocabulary;
- ``mantras.yaml`` — mantra texts in Latin transliteration, Devanagari, Tibetan and Chinese, generic words
  for mantra text, and cues that a prompt asks for *written* text.

Words (English, pinyin) match whole tokens after :func:`governance.textnorm.normalize`; a hyphenated
compound is one token, so the pinyin ``fo`` (Buddha) does not fire on "Fo Tan harbour"'s ``fo-tan`` nor
on "foal". Chinese terms match as substrings, minus listed compounds that only look religious (佛手
citron, 曼陀罗花 datura). Mantras are compared on letter skeletons (:func:`governance.textnorm.skeleton`),
which defeats spacing, punctuation, diacritics, zero-width and look-alike tricks.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from governance.textnorm import letters_only, normalize, skeleton

DATA = Path(__file__).resolve().parent / "data"
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


class LexiconError(ValueError):
    """A malformed lexicon file; names the file and key."""


def tokens(normalized: str) -> list[str]:
    """Word tokens of normalised text; possessive 's dropped (Buddha's → buddha)."""
    return [re.sub(r"['’]s$", "", t) for t in _TOKEN.findall(normalized)]


@dataclass(frozen=True)
class Terms:
    """A vocabulary entry: word sequences (English and pinyin) and Chinese substrings."""

    words: tuple[tuple[str, ...], ...]
    zh: tuple[str, ...]
    zh_exceptions: tuple[str, ...] = ()
    word_exceptions: tuple[tuple[str, ...], ...] = ()

    def find(self, toks: list[str], text: str) -> list[str]:
        """The terms present: word sequences in ``toks`` (plural -s/-es accepted on the last word), and
        Chinese substrings in ``text`` once the exception compounds are blanked out."""
        found = []
        if self.word_exceptions:  # blank out compounds that only look religious ("buddha's hand" citron)
            toks = list(toks)
            for ex in self.word_exceptions:
                for i in range(len(toks) - len(ex) + 1):
                    if tuple(toks[i:i + len(ex)]) == ex:
                        toks[i:i + len(ex)] = [""] * len(ex)
        for seq in self.words:
            k = len(seq)
            for i in range(len(toks) - k + 1):
                if toks[i:i + k - 1] == list(seq[:-1]) and toks[i + k - 1] in (seq[-1], seq[-1] + "s", seq[-1] + "es"):
                    found.append(" ".join(seq))
                    break
        if self.zh:
            blanked = text
            for ex in self.zh_exceptions:
                blanked = blanked.replace(ex, "\u3000")
            found += [t for t in self.zh if t in blanked]
        return found


def _terms(entry: Any, where: str, word_keys: tuple[str, ...] = ("en", "pinyin")) -> Terms:
    if not isinstance(entry, dict):
        raise LexiconError(f"{where}: expected a mapping")
    known = set(word_keys) | {"zh", "zh_exceptions", "en_exceptions", "class"}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise LexiconError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")
    words = []
    for key in word_keys:
        for term in entry.get(key) or []:
            seq = tuple(tokens(normalize(str(term))))
            if not seq:
                raise LexiconError(f"{where}.{key}: {term!r} has no words")
            words.append(seq)
    zh = tuple(normalize(str(t)) for t in entry.get("zh") or [])
    for t in zh:
        if not _CJK.search(t):
            raise LexiconError(f"{where}.zh: {t!r} has no Chinese characters")
    exceptions = tuple(tuple(tokens(normalize(str(t)))) for t in entry.get("en_exceptions") or [])
    return Terms(tuple(words), zh, tuple(normalize(str(t)) for t in entry.get("zh_exceptions") or []), exceptions)


@dataclass(frozen=True)
class MantraForm:
    mantra: str
    form: str
    key: str
    start_boundary: bool
    end_boundary: bool


@dataclass(frozen=True)
class Lexicon:
    classes: tuple[str, ...]
    motifs: dict[str, tuple[str, Terms]]     # motif id -> (deity class, terms)
    postures: dict[str, Terms]
    facings: dict[str, Terms]
    mantras: tuple[MantraForm, ...]
    mantra_names: dict[str, str]
    generic_mantra: Terms
    writing_cues: Terms


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: cannot read ({exc})") from None
    if not isinstance(data, dict):
        raise LexiconError(f"{path}: expected a mapping at the top")
    return data


@functools.lru_cache(maxsize=4)
def load_lexicon(motifs_path: str | Path = DATA / "motifs.yaml",
                 mantras_path: str | Path = DATA / "mantras.yaml") -> Lexicon:
    m = _read(Path(motifs_path))
    for key in ("classes", "motifs", "postures", "facing"):
        if key not in m:
            raise LexiconError(f"{motifs_path}: missing {key!r}")
    classes = tuple(m["classes"])
    motifs = {}
    for mid, entry in m["motifs"].items():
        if entry.get("class") not in classes:
            raise LexiconError(f"{motifs_path}: motifs.{mid}.class {entry.get('class')!r} is not in classes")
        motifs[mid] = (entry["class"], _terms(entry, f"motifs.{mid}"))
    postures = {pid: _terms(e, f"postures.{pid}", ("en",)) for pid, e in m["postures"].items()}
    facings = {fid: _terms(e, f"facing.{fid}", ("en",)) for fid, e in m["facing"].items()}
    t = _read(Path(mantras_path))
    forms, names = [], {}
    for mid, entry in t.get("mantras", {}).items():
        names[mid] = entry.get("name", mid)
        for form in entry.get("forms") or []:
            key = letters_only(str(form))
            if not key:
                raise LexiconError(f"{mantras_path}: mantras.{mid}: form {form!r} has no letters")
            forms.append(MantraForm(mid, str(form), key, key[0].isascii(), key[-1].isascii()))
    return Lexicon(classes, motifs, postures, facings, tuple(forms), names,
                   _terms(t.get("generic_terms", {}), "generic_terms"),
                   _terms(t.get("writing_cues", {}), "writing_cues", ("en",)))


@dataclass(frozen=True)
class SacredFindings:
    motifs: dict[str, list[str]]          # motif id -> terms found
    classes: tuple[str, ...]              # deity classes of those motifs
    postures: dict[str, list[str]]        # posture id -> terms (only when a motif is present)
    facings: dict[str, list[str]]
    mantras: dict[str, list[str]]         # mantra id -> forms found
    mantra_text_request: list[str]        # generic mantra words + writing cues, when both occur

    def to_dict(self) -> dict[str, Any]:
        return {"motifs": self.motifs, "classes": list(self.classes), "postures": self.postures,
                "facing": self.facings, "mantras": self.mantras, "mantra_text_request": self.mantra_text_request}


def find_mantras(text: str, lexicon: Lexicon) -> dict[str, list[str]]:
    """Mantra id -> the listed forms whose letter skeleton occurs in ``text``."""
    sk = skeleton(normalize(text))
    found: dict[str, list[str]] = {}
    for f in lexicon.mantras:
        if sk.find(f.key, f.start_boundary, f.end_boundary) >= 0:
            found.setdefault(f.mantra, []).append(f.form)
    return found


def analyse(text: str, lexicon: Lexicon) -> SacredFindings:
    """Everything sacred-imagery related that ``text`` names."""
    norm = normalize(text)
    toks = tokens(norm)
    motifs = {mid: hits for mid, (_, terms) in lexicon.motifs.items() if (hits := terms.find(toks, norm))}
    classes = tuple(sorted({lexicon.motifs[mid][0] for mid in motifs}))
    postures = facings = {}
    if motifs:
        postures = {pid: hits for pid, terms in lexicon.postures.items() if (hits := terms.find(toks, norm))}
        facings = {fid: hits for fid, terms in lexicon.facings.items() if (hits := terms.find(toks, norm))}
    generic = lexicon.generic_mantra.find(toks, norm)
    cues = lexicon.writing_cues.find(toks, norm) if generic else []
    return SacredFindings(motifs, classes, postures, facings, find_mantras(text, lexicon),
                          generic + cues if generic and cues else [])
