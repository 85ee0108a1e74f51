"""The guardrail lexicon compiled from its three data files (paper section 6.2), for :mod:`governance.sacred`.

"Sacred imagery generation requires rigorous protocols ... exclusion of mantras, directional constraints
for deity posture synthesis, and mandatory cultural consultant validation for any religious motif
creation." The terms those protocols recognise are data, read and checked here into the
:class:`governance.sacred.Lexicon` that :func:`governance.sacred.analyse` searches. Three data files, with
their sources:

- ``motifs.yaml`` — motifs with their deity class (English, romanisations, pinyin, Tibetan and Chinese
  names), postures and facings (``en``/``zh``: the figure is in that state; ``object_en``/``object_zh``:
  the figure is what the act is done to — "kicking", "踩"), agents (people, animals, plants that a posture
  may belong to instead) and linkers (prepositions that put a figure in a location, not a posture);
- ``multilingual.yaml`` — the motifs, contexts, agents and degradations of ``motifs.yaml`` in other
  languages (Japanese, Korean, Vietnamese, European languages, Russian, Hindi, Arabic, Thai), merged into
  its entries; their degradations are attributed by company (:mod:`governance.roles`), stems end in ``*``;
- ``mantras.yaml`` — per mantra: written forms, phonetic slot patterns (each slot's alternative syllables,
  so every transcription meets on sound), ambiguous short forms that need a writing cue, and indirect
  names ("the six syllables of Chenrezig") that count when the prompt asks for them as text.

Compiling is slow (pypinyin, lemminflect and the confusables skeleton on every term), so
:func:`load_lexicon` reads the result from the cache of :mod:`governance.lexicon_cache` when it is current.
"""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path
from typing import Any

import regex
import yaml

from governance.lexicon_cache import cached_lexicon
from governance.normalize import hanzi, readings, roman_key
from governance.sacred import Lexicon, Mantra, Terms

DATA = Path(__file__).resolve().parent / "data"


class LexiconError(ValueError):
    """A malformed lexicon file; names the file and key."""


_ARTICLES = ("a", "an", "the", "his", "her", "its", "their")


def _article_variants(term: str) -> list[str]:
    """``term`` with each article or possessive inside it read as any other ("in a toilet" = "in the toilet")."""
    words = term.split()
    slots = [[w] if w.lower() not in _ARTICLES or n == 0 else list(_ARTICLES) for n, w in enumerate(words)]
    out = [" ".join(x) for x in itertools.islice(itertools.product(*slots), 64)]
    return list(dict.fromkeys([term] + out))


def _zh(values: Any, where: str) -> tuple[str, ...]:
    out = []
    for v in values or []:
        h = hanzi(readings(str(v))[0]).text
        if not h:
            raise LexiconError(f"{where}: {v!r} is empty after normalisation")
        out.append(h)
    return tuple(out)


def _romanised(zh: Any) -> list[str]:
    """Pinyin and Wade-Giles readings (pypinyin) of Chinese names of two or more characters, so that
    "Kuan-shih-yin", "Ti-tsang" and "Shih-chia-mou-ni" meet their names; a reading that is an English word
    (弥勒 "mile") is left out (lemminflect's English lexicon)."""
    from lemminflect import getAllLemmas
    from pypinyin import Style, lazy_pinyin

    out = []
    for name in zh or []:
        name = str(name)
        if len(name) < 2:
            continue
        for style in (Style.NORMAL, Style.WADEGILES):
            reading = " ".join(lazy_pinyin(name, style=style)).replace("v", "u")
            if not getAllLemmas(reading.replace(" ", "")) and reading.replace(" ", "").isascii():
                out.append(reading)
    return list(dict.fromkeys(out))


def _terms(entry: Any, where: str, en_keys: tuple[str, ...] = ("en", "pinyin"), zh_key: str = "zh",
           extra: frozenset[str] = frozenset(), romanise: bool = False) -> Terms:
    if not isinstance(entry, dict):
        raise LexiconError(f"{where}: expected a mapping")
    known = set(en_keys) | {zh_key, "zh_exceptions", "en_exceptions", "class", "sources", "ambiguous_en"} | extra
    unknown = sorted(set(entry) - known)
    if unknown:
        raise LexiconError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")
    words = []
    if romanise:
        entry = dict(entry)
        entry["pinyin"] = list(entry.get("pinyin") or []) + _romanised(entry.get(zh_key))
        entry["en_exceptions"] = list(entry.get("en_exceptions") or []) + _romanised(entry.get("zh_exceptions"))
    for key in en_keys:
        for term in entry.get(key) or []:
            if not isinstance(term, str):  # YAML reads a bare on/no/yes as a boolean
                raise LexiconError(f"{where}.{key}: {term!r} is not a string (quote it in the YAML file)")
            for variant in _article_variants(term):
                k = roman_key(variant)
                if not k:
                    raise LexiconError(f"{where}.{key}: {term!r} has no letters")
                words.append((str(term), k))
    return Terms(tuple(words), _zh(entry.get(zh_key), f"{where}.{zh_key}"),
                 _zh(entry.get("zh_exceptions"), f"{where}.zh_exceptions"),
                 tuple(roman_key(str(t)) for t in entry.get("en_exceptions") or []))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: cannot read ({exc})") from None
    if not isinstance(data, dict):
        raise LexiconError(f"{path}: expected a mapping at the top")
    return data


def _phonetic(slots: Any, where: str) -> regex.Pattern:
    if not isinstance(slots, list) or not all(isinstance(s, list) and s for s in slots):
        raise LexiconError(f"{where}: expected a list of slots, each a list of syllables")
    parts = []
    for n, slot in enumerate(slots):
        if not all(isinstance(s, str) for s in slot):  # YAML reads a bare on/no/yes as a boolean
            raise LexiconError(f"{where}[{n}]: {slot!r} has a value that is not a string (quote it)")
        # longest first (a regex alternation takes the first that fits), then alphabetical: the same pattern
        # in every process (a set's order follows the hash seed), so the compiled-lexicon cache is reproducible
        keys = sorted({roman_key(s) for s in slot}, key=lambda k: (-len(k), k))
        if not all(keys):
            raise LexiconError(f"{where}[{n}]: a syllable has no letters")
        parts.append("(?:" + "|".join(map(regex.escape, keys)) + ")")
    return regex.compile("".join(parts))


# and without an article ("used as doorstop", "lined up as targets": a final -s is accepted in matching)
_AS_EN = ("as a {}", "as an {}", "as the {}", "into a {}", "into an {}", "as {}", "into {}")
_AS_ZH = ("当作{}", "当成{}", "当{}", "用作{}", "做成{}", "作为{}")


_PARTICLES = ("", " on", " at", " upon", " over", " onto", " into")


def _verb_forms(phrase: str, where: str) -> tuple[list[str], list[str]]:
    """``(active forms, past participles)`` of a verb phrase ("spit on", "blow up"): its first word
    inflected by lemminflect (its own table, or its rules for a verb the table lacks: "twerk"), each form
    also followed by a particle."""
    from lemminflect import getAllInflections, getAllInflectionsOOV

    head, _, rest = phrase.strip().partition(" ")
    forms = (getAllInflections(head, upos="VERB") or getAllInflectionsOOV(head, upos="VERB")) if head.replace("-", "").isalpha() else {}
    if not forms:
        raise LexiconError(f"{where}: {phrase!r} has no verb inflections")
    tail = f" {rest}" if rest else ""
    active = {f for tag in ("VB", "VBZ", "VBG", "VBD") for f in forms.get(tag, ())}
    passive = set(forms.get("VBN", ())) | set(forms.get("VBD", ()))
    particles = _PARTICLES if not rest else ("",)
    return ([f + tail + p for f in sorted(active) for p in particles],
            [f + tail + p for f in sorted(passive) for p in particles] + [f"being {f}{tail}" for f in sorted(passive)])


def _posture_terms(entry: Any, where: str) -> tuple[Terms, Terms]:
    extra = frozenset({"object_en", "object_zh", "heritage", "as_objects_en", "as_objects_zh", "verbs_en", "acts_en",
                       "near_en", "near_zh", "image_patterns", "onto_patterns", "near_zh_exceptions",
                       "onto_exempt"})
    entry = dict(entry)
    if entry.get("as_objects_en") or entry.get("as_objects_zh"):  # "used as a stool", 当作凳子
        entry["en"] = list(entry.get("en") or []) + [f.format(x) for x in entry.get("as_objects_en") or [] for f in _AS_EN]
        entry["zh"] = list(entry.get("zh") or []) + [f.format(x) for x in entry.get("as_objects_zh") or [] for f in _AS_ZH]
    objects = list(entry.get("object_en") or [])
    for verb in entry.get("acts_en") or []:  # the figure does it: a state in every form but the base
        active, passive = _verb_forms(str(verb), f"{where}.acts_en")
        base = str(verb)
        entry["en"] = list(entry.get("en") or []) + [f for f in active + passive if not f.startswith(base.split()[0] + " ")
                                                     and f != base and not f.startswith("being ")]
    for verb in entry.get("verbs_en") or []:
        active, passive = _verb_forms(str(verb), f"{where}.verbs_en")
        objects += active
        entry["en"] = list(entry.get("en") or []) + passive
    # a Chinese term written in pinyin ("dao gua" 倒挂, "kan tou" 砍头) is the same term (not on the pinyin
    # reading of Chinese characters: only letters the prompt writes)
    entry["en"] = list(entry.get("en") or []) + _romanised([z for z in entry.get("zh") or [] if _is_han(str(z))])
    objects += _romanised([z for z in entry.get("object_zh") or [] if _is_han(str(z))])
    state = _terms(entry, where, ("en",), extra=extra)
    obj = _terms({"en": objects, "zh": entry.get("object_zh"),
                  "zh_exceptions": entry.get("zh_exceptions")}, where + ".object", ("en",))
    return state, obj


def _near_terms(entry: Any, where: str) -> Terms | None:
    if not (entry.get("near_en") or entry.get("near_zh")):
        return None
    return _terms({"en": entry.get("near_en"), "zh": entry.get("near_zh"), "zh_exceptions": entry.get("near_zh_exceptions")},
                  where + ".near", ("en",))


def _patterns(entry: Any, where: str, key: str) -> tuple[re.Pattern, ...]:
    out = []
    for n, pattern in enumerate(entry.get(key) or []):
        try:
            out.append(re.compile(str(pattern), re.IGNORECASE))
        except re.error as exc:
            raise LexiconError(f"{where}.{key}[{n}]: {exc}") from None
    return tuple(out)


def _merge(a: Terms | None, b: Terms | None) -> Terms | None:
    """The terms of both (a lexicon entry and its translations)."""
    if a is None or b is None:
        return a or b
    return Terms(a.words + b.words, a.zh + b.zh, a.zh_exceptions + b.zh_exceptions,
                 a.word_exceptions + b.word_exceptions, a.stems | b.stems)


def _translated(entry: Any, where: str) -> Terms:
    """One entry of ``multilingual.yaml``: ``latin`` terms word-wise (a final ``*``: a stem, any ending),
    ``native`` terms as substrings, ``native_exceptions`` compounds that only contain a term, and
    ``latin_exceptions`` phrases in which a ``latin`` term means something else."""
    if not isinstance(entry, dict):
        raise LexiconError(f"{where}: expected a mapping")
    unknown = sorted(set(entry) - {"latin", "native", "native_exceptions", "latin_exceptions", "ambiguous"})
    if unknown:
        raise LexiconError(f"{where}.{unknown[0]}: unknown key "
                           "(known: ambiguous, latin, latin_exceptions, native, native_exceptions)")
    latin = [str(x) for x in entry.get("latin") or []]
    for x in latin + [str(x) for x in entry.get("native") or []]:
        if "*" in x.rstrip("*") or not x.strip("* "):
            raise LexiconError(f"{where}: {x!r}: a stem's '*' goes at its end only")
    stems = frozenset(roman_key(x.rstrip("*")) for x in latin if x.endswith("*"))
    terms = _terms({"en": [x.rstrip("*") for x in latin], "zh": entry.get("native"),
                    "zh_exceptions": entry.get("native_exceptions"),
                    "en_exceptions": entry.get("latin_exceptions")}, where, ("en",))
    return Terms(terms.words, terms.zh, terms.zh_exceptions, terms.word_exceptions, stems)


def _multilingual(path: Path, motifs: dict[str, Any], postures: dict[str, Any]) -> dict[str, Any]:
    """``multilingual.yaml`` read and checked against the motif and posture ids of ``motifs.yaml``."""
    data = _read(path) if path.exists() else {}
    out: dict[str, Any] = {"motifs": {}, "ambiguous": {}, "near": {}, "acts": {}}
    for mid, entry in (data.get("motifs") or {}).items():
        if mid not in motifs:
            raise LexiconError(f"{path}: motifs.{mid} is not a motif of motifs.yaml")
        out["motifs"][mid] = _translated(entry, f"{path}: motifs.{mid}")
        if entry.get("ambiguous"):
            out["ambiguous"][mid] = _translated({"latin": entry["ambiguous"]}, f"{path}: motifs.{mid}.ambiguous")
    for key in ("sacred_context", "heritage_context", "agents"):
        out[key] = _translated(data[key], f"{path}: {key}") if data.get(key) else None
    for pid, entry in (data.get("postures") or {}).items():
        if pid not in postures or not isinstance(entry, dict) or set(entry) - {"state", "acts"}:
            raise LexiconError(f"{path}: postures.{pid} must be a posture of motifs.yaml with state and/or acts")
        if entry.get("state"):
            out["near"][pid] = _translated(entry["state"], f"{path}: postures.{pid}.state")
        if entry.get("acts"):
            out["acts"][pid] = _translated(entry["acts"], f"{path}: postures.{pid}.acts")
    return out


@functools.lru_cache(maxsize=4)
def load_lexicon(motifs_path: str | Path = DATA / "motifs.yaml",
                 mantras_path: str | Path = DATA / "mantras.yaml",
                 multilingual_path: str | Path = DATA / "multilingual.yaml") -> Lexicon:
    """The compiled lexicon of the three files: :func:`compile_lexicon`'s result, loaded from the JSON cache
    of :mod:`governance.lexicon_cache` when its key (the files, the compiling modules, the libraries) matches."""
    return cached_lexicon((Path(motifs_path), Path(mantras_path), Path(multilingual_path)), compile_lexicon)


def compile_lexicon(motifs_path: str | Path = DATA / "motifs.yaml",
                    mantras_path: str | Path = DATA / "mantras.yaml",
                    multilingual_path: str | Path = DATA / "multilingual.yaml") -> Lexicon:
    """The lexicon compiled from its YAML files (slow: pypinyin, lemminflect and the skeleton on every term)."""
    m = _read(Path(motifs_path))
    for key in ("classes", "motifs", "postures", "facing", "agents", "linkers", "heritage_context"):
        if key not in m:
            raise LexiconError(f"{motifs_path}: missing {key!r}")
    classes = tuple(m["classes"])
    motifs = {}
    for mid, entry in m["motifs"].items():
        if entry.get("class") not in classes:
            raise LexiconError(f"{motifs_path}: motifs.{mid}.class {entry.get('class')!r} is not in classes")
        motifs[mid] = (entry["class"], _terms(entry, f"motifs.{mid}", romanise=True,
                                              extra=frozenset({"protected_en", "protected_zh"})))
    postures = {pid: _posture_terms(e, f"postures.{pid}") for pid, e in m["postures"].items()}
    ml = _multilingual(Path(multilingual_path), motifs, postures)
    motifs.update({mid: (motifs[mid][0], _merge(motifs[mid][1], t)) for mid, t in ml["motifs"].items()})
    facings = {fid: _posture_terms(e, f"facing.{fid}") for fid, e in m["facing"].items()}
    t = _read(Path(mantras_path))
    mantras = _mantras(t, mantras_path)
    ambiguous = {mid: _terms({"en": e.get("ambiguous_en"), "en_exceptions": e.get("en_exceptions")},
                             f"motifs.{mid}.ambiguous_en", ("en",))
                 for mid, e in m["motifs"].items() if e.get("ambiguous_en")}
    ambiguous.update({mid: _merge(ambiguous.get(mid), t) for mid, t in ml["ambiguous"].items()})
    near = {pid: x for pid, e in m["postures"].items() if (x := _near_terms(e, f"postures.{pid}"))}
    near.update({pid: _merge(near.get(pid), x) for pid, x in ml["near"].items()})
    if "sacred_context" not in m:
        raise LexiconError(f"{motifs_path}: missing 'sacred_context'")
    causatives = []
    for verb in m.get("causatives") or []:
        active, passive = _verb_forms(str(verb), "causatives")
        causatives += [f for f in active + passive if not f.startswith("being ")]
    return Lexicon(classes, motifs, postures, facings, _merge(_terms(m["agents"], "agents", ("en",)), ml["agents"]),
                   _terms(m["linkers"], "linkers", ("en",)), tuple(mantras), tuple(t.get("symbols") or []),
                   _terms(t.get("generic_terms", {}), "generic_terms"),
                   _terms(t.get("writing_cues", {}), "writing_cues", ("en",)),
                   int(t.get("glued_min_letters", 10)),
                   _merge(_terms(m["heritage_context"], "heritage_context", ("en",)), ml["heritage_context"]),
                   frozenset(pid for pid, e in m["postures"].items() if e.get("heritage")),
                   ambiguous, _merge(_terms(m["sacred_context"], "sacred_context", ("en",)), ml["sacred_context"]),
                   near,
                   {pid: p for pid, e in m["postures"].items() if (p := _patterns(e, f"postures.{pid}", "image_patterns"))},
                   {pid: p for pid, e in m["postures"].items() if (p := _patterns(e, f"postures.{pid}", "onto_patterns"))},
                   _terms({"en": sorted(set(causatives))}, "causatives", ("en",)),
                   _terms({"en": m.get("pronouns"), "zh": m.get("pronouns_zh")}, "pronouns", ("en",)),
                   frozenset(str(t) for e in m["postures"].values() for t in e.get("onto_exempt") or []),
                   ml["acts"], _terms({"en": m.get("depictions")}, "depictions", ("en",)),
                   _terms({"en": m.get("anaphora_en"), "zh": m.get("anaphora_zh")}, "anaphora", ("en",)),
                   _weak_postures(m, motifs_path), _patterns(t, str(mantras_path), "indirect_patterns"),
                   {mid: _terms({"en": e.get("protected_en"), "zh": e.get("protected_zh"), "zh_exceptions": e.get("zh_exceptions")},
                                 f"motifs.{mid}.protected", ("en",))
                    for mid, e in m["motifs"].items() if e.get("protected_en") or e.get("protected_zh")})


def _mantras(t: dict[str, Any], path: Any) -> list[Mantra]:
    """The ``mantras`` of ``mantras.yaml``: forms (Latin-script word-wise, CJK as substrings), ambiguous
    forms, phonetic slot patterns and indirect names; each needs forms and sources."""
    mantras = []
    for mid, e in (t.get("mantras") or {}).items():
        where = f"{path}: mantras.{mid}"
        if not e.get("forms") or not e.get("sources"):
            raise LexiconError(f"{where}: needs forms and sources")
        mantras.append(Mantra(
            mid, str(e.get("name", mid)),
            _terms({"en": [f for f in e["forms"] if not _unspaced(str(f))],
                    "zh": [f for f in e["forms"] if _unspaced(str(f))]}, where + ".forms", ("en",)),
            _terms({"en": e.get("ambiguous_forms")}, where + ".ambiguous_forms", ("en",)),
            tuple(_phonetic(p, f"{where}.phonetic[{n}]") for n, p in enumerate(e.get("phonetic") or [])),
            _terms({"en": e.get("names_en"), "zh": e.get("names_zh")}, where + ".names", ("en",))))
    return mantras


def _weak_postures(m: dict[str, Any], path: Any) -> frozenset[str]:
    out = frozenset(str(x) for x in m.get("ambiguous_degradations") or [])
    unknown = sorted(out - set(m["postures"]))
    if unknown:
        raise LexiconError(f"{path}: ambiguous_degradations: {unknown[0]!r} is not a posture id")
    return out


def _is_han(text: str) -> bool:
    return bool(regex.search(r"\p{Han}", text))


def _unspaced(text: str) -> bool:
    """Chinese, Japanese or Korean: matched as a substring (particles glue to words: 신묘장구대다라니를)."""
    return bool(regex.search(r"[\p{Han}\p{Hangul}\p{Hiragana}\p{Katakana}]", text))
