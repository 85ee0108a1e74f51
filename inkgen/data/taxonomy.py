"""The paper's annotation system (section 2.1, Figures 1-2) read from ``taxonomy.yaml``.

Four primary and twelve secondary categories, three painting types, fifteen themes and eighteen
techniques, each with its adjectives; the elements the procedural renderer can draw; the historical
periods. The lexicon is data, not code: this module only loads and checks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import yaml

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.yaml")


@dataclass(frozen=True)
class Term:
    """One entry of a lexicon: its key, its English label, its adjectives and any extra fields."""

    key: str
    label: str
    adjectives: tuple[str, ...] = ()
    zh: str = ""
    share: float | None = None
    theme: str | None = None
    techniques: tuple[str, ...] = ()


@dataclass(frozen=True)
class Primary(Term):
    secondary: Mapping[str, Term] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Taxonomy:
    primary: Mapping[str, Primary]
    painting_types: Mapping[str, Term]
    themes: Mapping[str, Term]
    techniques: Mapping[str, Term]
    elements: Mapping[str, Term]
    periods: Mapping[str, Term]

    @property
    def secondary(self) -> Mapping[str, Term]:
        """Every secondary category by key (keys are unique across primaries)."""
        return MappingProxyType({k: t for p in self.primary.values() for k, t in p.secondary.items()})

    def primary_of(self, secondary: str) -> str:
        """The primary category a secondary category belongs to."""
        for key, primary in self.primary.items():
            if secondary in primary.secondary:
                return key
        raise KeyError(f"unknown secondary category {secondary!r}")


def _terms(section: Mapping, where: str) -> Mapping[str, Term]:
    out = {}
    for key, spec in section.items():
        if not isinstance(spec, Mapping) or "label" not in spec:
            raise ValueError(f"{TAXONOMY_FILE.name}: {where}.{key} needs a 'label'")
        out[key] = Term(
            key=key,
            label=spec["label"],
            adjectives=tuple(spec.get("adjectives", ())),
            zh=spec.get("zh", ""),
            share=spec.get("share"),
            theme=spec.get("theme"),
            techniques=tuple(spec.get("techniques", ())),
        )
    return MappingProxyType(out)


def _check_shares(terms: Mapping[str, Term], where: str) -> None:
    total = sum(t.share or 0.0 for t in terms.values())
    if abs(total - 1.0) > 1e-3:
        raise ValueError(f"{TAXONOMY_FILE.name}: shares under {where} add up to {total:.4f}, not 1")


@lru_cache(maxsize=None)
def load_taxonomy(path: Path = TAXONOMY_FILE) -> Taxonomy:
    """Read and check the taxonomy file (shares sum to one, elements name known themes)."""
    raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    primary = {}
    for key, spec in raw["primary"].items():
        secondary = _terms(spec["secondary"], f"primary.{key}.secondary")
        _check_shares(secondary, f"primary.{key}.secondary")
        primary[key] = Primary(key=key, label=spec["label"], zh=spec.get("zh", ""), share=spec["share"],
                               theme=spec.get("theme"), secondary=secondary)
    tax = Taxonomy(
        primary=MappingProxyType(primary),
        painting_types=_terms(raw["painting_types"], "painting_types"),
        themes=_terms(raw["themes"], "themes"),
        techniques=_terms(raw["techniques"], "techniques"),
        elements=_terms(raw["elements"], "elements"),
        periods=_terms(raw["periods"], "periods"),
    )
    _check_shares(tax.primary, "primary")
    _check_shares(tax.periods, "periods")
    for el in tax.elements.values():
        if el.theme not in tax.themes:
            raise ValueError(f"{TAXONOMY_FILE.name}: element {el.key!r} names unknown theme {el.theme!r}")
    for cat in (*tax.primary.values(), *tax.secondary.values()):
        if cat.theme is not None and cat.theme not in tax.themes:
            raise ValueError(f"{TAXONOMY_FILE.name}: category {cat.key!r} names unknown theme {cat.theme!r}")
    for pt in tax.painting_types.values():
        for tech in pt.techniques:
            if tech not in tax.techniques:
                raise ValueError(f"{TAXONOMY_FILE.name}: painting type {pt.key!r} names unknown technique "
                                 f"{tech!r}")
    return tax
