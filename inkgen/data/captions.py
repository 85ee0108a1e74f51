"""Structured captions: the paper's three-dimensional text annotation (section 2.1, Figure 2).

The paper annotates each painting by extracting keywords and joining them with adjectives into a concise,
objective description, along three dimensions:

- **category**: the painting type with its adjective ("free and easy" freehand, "delicate" fine-brush);
- **content**: the themes shown, each with its own adjectives ("majestic, distant mountains and rivers");
- **technique**: the techniques used, with theirs ("exquisite fine brush", "vigorous coarse brush").

Every word of those lexicons comes from ``taxonomy.yaml``; this module only chooses and arranges them.
Labels come from the best source an item has, per field, in the order of :data:`ORIGINS`: the procedural
renderer's truth, then human annotators (majority label, see :mod:`inkgen.data.agreement`), then a folder's
metadata CSV, then the curation classifier's prediction (paper eq. 1). Adjectives are drawn from a PRNG
seeded by ``(seed, item_id)``, so a caption never depends on which other items are in the corpus.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from inkgen.data.records import CuratedItem
from inkgen.data.taxonomy import Taxonomy, Term, load_taxonomy

# Label origins, most trusted first. "truth" is what the procedural renderer drew; a folder's metadata CSV
# ranks below human annotators because annotation is the deliberate, checked step (agreement.py).
ORIGINS = ("truth", "human", "metadata_csv", "classifier")
# Single-valued fields a label source may set (the ones human annotators label too).
LABEL_FIELDS = ("painting_type", "primary", "secondary", "period")


class CaptionError(ValueError):
    """An item that cannot be captioned; the message names the item and the reason."""


@dataclass(frozen=True)
class Caption:
    """One item's annotation: the text and the structured fields it was written from.

    ``adjectives`` maps ``"<dimension>.<term>"`` (category / content / technique) to the adjectives used.
    ``field_origins`` says where each field came from: an origin of :data:`ORIGINS`, ``"title"`` (keywords
    found in the work's title) or ``"taxonomy"`` (the category's or painting type's default theme or
    technique). ``label_origin`` is the least trusted origin among the category labels the caption states.
    """

    item_id: str
    text: str
    painting_type: str
    primary: str
    secondary: str | None
    period: str | None
    themes: tuple[str, ...]
    techniques: tuple[str, ...]
    elements: tuple[str, ...]
    adjectives: Mapping[str, tuple[str, ...]]
    label_origin: str
    field_origins: Mapping[str, str]


def label_sources(item: CuratedItem, human: Mapping[str, str] | None = None) -> list[tuple[str, Mapping]]:
    """The item's label sources as ``(origin, labels)``, most trusted first."""
    sources: list[tuple[str, Mapping[str, Any]]] = []
    truth = item.record.truth
    if truth:
        # Folder items carry the metadata CSV's labels as truth, marked with their origin.
        origin = truth.get("origin", "truth")
        if origin not in ORIGINS:
            raise CaptionError(f"{item.record.item_id}: truth has unknown origin {origin!r}")
        sources.append((origin, truth))
    if human:
        sources.append(("human", human))
    if item.predicted:
        sources.append(("classifier", item.predicted))
    return sorted(sources, key=lambda s: ORIGINS.index(s[0]))


def _first(sources: list[tuple[str, Mapping]], field: str) -> tuple[str, str] | None:
    for origin, labels in sources:
        value = labels.get(field)
        if value:
            return origin, value
    return None


def _check(item_id: str, value: str, lexicon: Mapping[str, Term], what: str, origin: str) -> str:
    if value not in lexicon:
        raise CaptionError(f"{item_id}: {origin} gives unknown {what} {value!r} (expected one of "
                           f"{sorted(lexicon)})")
    return value


def resolve_labels(item: CuratedItem, human: Mapping[str, str] | None = None,
                   taxonomy: Taxonomy | None = None) -> tuple[dict[str, str | None], dict[str, str]]:
    """Category labels (painting type, primary, secondary, period) and the origin of each.

    Each field takes the most trusted source that has it. A secondary category implies its primary, so
    primary comes from the most trusted source giving either; a secondary that contradicts the resolved
    primary (a classifier's primary against a metadata CSV's secondary, say) is dropped, not mixed in.
    """
    tax = taxonomy or load_taxonomy()
    item_id = item.record.item_id
    sources = label_sources(item, human)
    labels: dict[str, str | None] = {}
    origins: dict[str, str] = {}

    found = _first(sources, "painting_type")
    if found is None:
        raise CaptionError(f"{item_id}: no source gives a painting type (truth, human, metadata CSV or "
                           "classifier)")
    origins["painting_type"], labels["painting_type"] = found[0], _check(
        item_id, found[1], tax.painting_types, "painting type", found[0])

    primary = None
    for origin, given in sources:
        if given.get("secondary"):
            secondary = _check(item_id, given["secondary"], tax.secondary, "secondary category", origin)
            primary = origin, tax.primary_of(secondary)
            if given.get("primary") not in (None, "", primary[1]):
                raise CaptionError(f"{item_id}: {origin} gives primary {given['primary']!r} but secondary "
                                   f"{secondary!r}, which belongs to {primary[1]!r}")
        elif given.get("primary"):
            primary = origin, _check(item_id, given["primary"], tax.primary, "primary category", origin)
        if primary:
            break
    if primary is None:
        raise CaptionError(f"{item_id}: no source gives a primary or secondary category")
    origins["primary"], labels["primary"] = primary

    labels["secondary"] = None
    for origin, given in sources:
        value = given.get("secondary")
        if value and tax.primary_of(_check(item_id, value, tax.secondary, "secondary category", origin)) \
                == labels["primary"]:
            labels["secondary"], origins["secondary"] = value, origin
            break

    found = _first(sources, "period")
    if found is not None:
        origins["period"], labels["period"] = found[0], _check(item_id, found[1], tax.periods, "period",
                                                                found[0])
    elif item.record.period in tax.periods:
        # Collectors store a taxonomy period key when they know one; free-text periods are not labels.
        labels["period"], origins["period"] = item.record.period, "metadata"
    else:
        labels["period"] = None
    return labels, origins


@lru_cache(maxsize=8)
def _patterns(phrases: tuple[tuple[str, str], ...]) -> tuple[tuple[str, re.Pattern], ...]:
    """Whole-word, case-blind patterns (singular or plural) for ``(key, phrase)`` pairs."""
    return tuple((key, re.compile(r"\b" + re.escape(phrase) + r"(?:s|es)?\b", re.IGNORECASE))
                 for key, phrase in phrases)


def title_keywords(title: str | None, taxonomy: Taxonomy | None = None) -> tuple[tuple[str, ...],
                                                                                  tuple[str, ...]]:
    """Elements and themes named in a work's title, in the order they appear ("Plum Blossoms" -> plum).

    Element keys and theme labels are the keywords, so the title vocabulary is the taxonomy's.
    """
    if not title:
        return (), ()
    tax = taxonomy or load_taxonomy()

    def found(phrases: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
        hits = sorted((m.start(), key) for key, pat in _patterns(phrases) if (m := pat.search(title)))
        return tuple(key for _, key in hits)

    return (found(tuple((k, k.replace("_", " ")) for k in tax.elements)),
            found(tuple((k, t.label) for k, t in tax.themes.items())))


def _dedupe(keys) -> tuple[str, ...]:
    return tuple(dict.fromkeys(keys))


def _pick(rng: random.Random, term: Term, most: int) -> tuple[str, ...]:
    """One to ``most`` of a term's adjectives, in lexicon order ("majestic, distant").

    An adjective already in the term's label ("auspicious" for auspicious beasts, "light" for light ink)
    would only repeat it, so it is never chosen; a term left with none is named bare.
    """
    words = set(term.label.lower().split())
    adjectives = tuple(a for a in term.adjectives if a.lower() not in words)
    if not adjectives:
        return ()
    chosen = set(rng.sample(adjectives, rng.randint(1, min(most, len(adjectives)))))
    return tuple(a for a in adjectives if a in chosen)


def _phrase(adjectives: tuple[str, ...], label: str) -> str:
    return ", ".join(adjectives) + " " + label if adjectives else label


def _join(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def _salient(keys: tuple[str, ...], first: set[str], limit: int | None) -> tuple[str, ...]:
    """At most ``limit`` keys, those in ``first`` ahead of the rest, each group in its given order."""
    ordered = sorted(keys, key=lambda k: (k not in first, keys.index(k)))
    return tuple(ordered[:limit] if limit else ordered)


def _content(rec: Any, labels: Mapping[str, Any], tax: Taxonomy, origins: dict[str, str]
             ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The elements, the title's themes and all themes of ``rec``; ``origins`` records where they came from.
    Content: drawn elements (truth), else keywords of the title, else the category's own theme."""
    truth = rec.truth or {}
    if truth.get("elements"):
        elements = _dedupe(_check(rec.item_id, e, tax.elements, "element", "truth")
                           for e in truth["elements"])
        title_themes: tuple[str, ...] = ()
        origins["elements"] = origins["themes"] = "truth"
    else:
        elements, title_themes = title_keywords(rec.title, tax)
        if elements or title_themes:
            origins["elements"] = origins["themes"] = "title"
    themes = _dedupe([*(tax.elements[e].theme for e in elements), *title_themes])
    if not themes:
        fallback = tax.secondary[labels["secondary"]].theme if labels["secondary"] else None
        fallback = fallback or tax.primary[labels["primary"]].theme
        themes = (fallback,) if fallback else ()
        origins["themes"] = "taxonomy"
    if not themes:
        raise CaptionError(f"{rec.item_id}: no element, title keyword or category theme to describe")
    return elements, title_themes, themes


def _techniques(rec: Any, ptype: Any, tax: Taxonomy, origins: dict[str, str]) -> tuple[str, ...]:
    """Technique: what the renderer used, else the technique that defines the painting type."""
    truth = rec.truth or {}
    if truth.get("techniques"):
        techniques = _dedupe(_check(rec.item_id, t, tax.techniques, "technique", "truth")
                             for t in truth["techniques"])
        origins["techniques"] = "truth"
    else:
        techniques = ptype.techniques
        origins["techniques"] = "taxonomy"
    if not techniques:
        raise CaptionError(f"{rec.item_id}: no technique known for painting type {ptype.key!r}")
    return techniques


def build_caption(item: CuratedItem, seed: int, human: Mapping[str, str] | None = None,
                  taxonomy: Taxonomy | None = None, max_elements: int | None = None,
                  max_techniques: int | None = None) -> Caption:
    """The item's structured caption, e.g. "This is a delicate fine-brush (gongbi) flowers and plants
    painting (branch ornament) of a plum branch and birds. It shows fragrant plum blossom; lively flowers
    and birds. It is painted with exquisite fine brush and gorgeous heavy colour."

    The structured fields keep every element, theme and technique; to stay concise the text names at most
    ``max_elements`` main elements (those of the category's own theme first) with their themes, and at
    most ``max_techniques`` techniques (the painting type's defining one first). ``adjectives`` has an
    entry for each term the text names.
    """
    tax = taxonomy or load_taxonomy()
    rec = item.record
    labels, origins = resolve_labels(item, human, tax)
    ptype = tax.painting_types[labels["painting_type"]]
    category_themes = {tax.primary[labels["primary"]].theme}
    if labels["secondary"]:
        category_themes.add(tax.secondary[labels["secondary"]].theme)

    elements, title_themes, themes = _content(rec, labels, tax, origins)
    techniques = _techniques(rec, ptype, tax, origins)

    named_elements = _salient(elements, {e for e in elements if tax.elements[e].theme in category_themes},
                              max_elements)
    named_themes = (_dedupe([*(tax.elements[e].theme for e in named_elements), *title_themes])
                    if named_elements or title_themes else themes)
    named_techniques = _salient(techniques, set(ptype.techniques), max_techniques)

    rng = random.Random(f"{seed}:{rec.item_id}")  # str seeds hash with SHA-512: stable across processes
    # Themes may take two adjectives (the paper's "majestic" and "distant"); the category and technique
    # phrases keep one each so that lists of them stay unambiguous.
    adjectives = {f"category.{ptype.key}": _pick(rng, ptype, 1)}
    adjectives.update({f"content.{t}": _pick(rng, tax.themes[t], 2) for t in named_themes})
    adjectives.update({f"technique.{t}": _pick(rng, tax.techniques[t], 1) for t in named_techniques})

    category = _phrase(adjectives[f"category.{ptype.key}"], ptype.label)
    secondary = f" ({tax.secondary[labels['secondary']].label})" if labels["secondary"] else ""
    # Theme phrases hold commas of their own ("majestic, distant ..."), so semicolons separate them.
    content = "; ".join(_phrase(adjectives[f"content.{t}"], tax.themes[t].label) for t in named_themes)
    technique = _join([_phrase(adjectives[f"technique.{t}"], tax.techniques[t].label)
                       for t in named_techniques])
    primary = tax.primary[labels["primary"]].label
    subject = f" of {_join([tax.elements[e].label for e in named_elements])}" if named_elements else ""
    text = (f"This is {_article(category)} {category} {primary} painting{secondary}{subject}. "
            f"It shows {content}. It is painted with {technique}.")

    stated = [f for f in ("painting_type", "primary", "secondary") if labels[f] is not None]
    label_origin = max((origins[f] for f in stated), key=ORIGINS.index)
    return Caption(
        item_id=rec.item_id, text=text, painting_type=labels["painting_type"], primary=labels["primary"],
        secondary=labels["secondary"], period=labels["period"], themes=themes, techniques=techniques,
        elements=elements, adjectives=adjectives, label_origin=label_origin, field_origins=origins,
    )
