"""The keep/refuse rules of the museum sources, read from ``inkgen/data/museum_rules.yaml``.

A museum item is kept only when its own fields say it is what the study asked for: a Chinese painting.
Each check that fails refuses the item with :class:`ItemRefused`, whose ``kind`` is what the collect
summary counts and the notebook shows (``not_collected.jsonl``):

* ``bad_field`` - a required field is missing, or a field has another JSON type than the API documents;
* ``not_chinese`` - no origin field names China (Met ``culture``, Cleveland ``culture``, AIC
  ``place_of_origin``), or the department is not one the rules list;
* ``not_a_painting`` - no painting field holds a painting term (Met ``classification``, Cleveland
  ``type``, AIC ``artwork_type_title`` / ``classification_title``);
* ``unparseable_date`` - see :mod:`inkgen.data.sources.dating`.

URLs are checked too (:func:`check_url`): an object or image URL must be https on one of the museum's
public hosts; anything else is recorded as a warning on the record, never kept silently.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import yaml

RULES_PATH = Path(__file__).resolve().parents[1] / "museum_rules.yaml"

_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "str": (str,), "bool": (bool,), "list": (list,),
                                       "dict": (dict,)}


class ItemRefused(Exception):
    """One museum item is not kept; ``kind`` is the short reason, ``detail`` says which field and why."""

    def __init__(self, kind: str, detail: str, **context: Any):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail, self.context = kind, detail, context

    @property
    def reason(self) -> str:
        return f"{self.kind}: {self.detail}"


@lru_cache(maxsize=None)
def load_rules(path: str | Path = RULES_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        rules = yaml.safe_load(fh)
    for name, museum in rules["museums"].items():
        for key in ("required", "optional"):
            for field, kind in museum[key].items():
                if kind.rstrip("?") not in _TYPES:
                    raise ValueError(f"{path}: museums.{name}.{key}.{field}: unknown type {kind!r}")
    return rules


def museum_rules(name: str) -> dict[str, Any]:
    return load_rules()["museums"][name]


def _type_ok(value: Any, kind: str) -> bool:
    if value is None:
        return kind.endswith("?")
    if isinstance(value, bool) and kind.rstrip("?") != "bool":
        return False  # JSON true is not the number 1
    return isinstance(value, _TYPES[kind.rstrip("?")])


def check_fields(obj: Mapping[str, Any], rules: Mapping[str, Any]) -> None:
    """Refuse (``bad_field``) a missing required field or a field of another type than documented.

    Optional fields may be missing or null; required ones may be null only where the type ends in ``?``.
    """
    for group in ("required", "optional"):
        for field, kind in rules[group].items():
            if field not in obj:
                if group == "required":
                    raise ItemRefused("bad_field", f"the required field {field!r} is missing")
                continue
            value = obj[field]
            if group == "optional" and value is None:
                continue
            if not _type_ok(value, kind):
                raise ItemRefused("bad_field", f"{field!r} is {type(value).__name__} {str(value)[:60]!r}, "
                                               f"not {kind.rstrip('?')}", field=field)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def term_pattern(terms: list[str]) -> re.Pattern[str]:
    """Whole-word, case-insensitive alternation of ``terms`` (longest first)."""
    alternatives = sorted((re.escape(t) for t in terms), key=len, reverse=True)
    return re.compile(r"(?<![\w])(" + "|".join(alternatives) + r")(?![\w])", re.IGNORECASE)


def matches(value: Any, terms: list[str]) -> bool:
    pattern = term_pattern(terms)
    return any(pattern.search(text) for text in _texts(value))


def check_kind(obj: Mapping[str, Any], rules: Mapping[str, Any]) -> None:
    """Refuse an item that its own fields do not call a Chinese painting (``not_chinese`` first)."""
    chinese = load_rules()["chinese_terms"]
    origin = {f: obj.get(f) for f in rules["origin_fields"]}
    if not any(matches(v, chinese) for v in origin.values()):
        shown = ", ".join(f"{f}={v!r}" for f, v in origin.items())
        raise ItemRefused("not_chinese", f"{shown} does not name China", **origin)
    if rules["departments"] and obj.get("department") not in rules["departments"]:
        raise ItemRefused("not_chinese", f"department {obj.get('department')!r} is not one of "
                                         f"{rules['departments']}", department=obj.get("department"))
    painting = {f: obj.get(f) for f in rules["painting_fields"]}
    if not any(matches(v, rules["painting_terms"]) for v in painting.values()):
        shown = ", ".join(f"{f}={v!r}" for f, v in painting.items())
        raise ItemRefused("not_a_painting", f"{shown}: not a painting", **painting)


def screen(obj: Mapping[str, Any], rules: Mapping[str, Any]) -> None:
    """All of this module's item checks, in the order their reasons are reported."""
    check_fields(obj, rules)
    check_kind(obj, rules)


def check_url(url: str | None, hosts: list[str], what: str) -> tuple[str | None, str | None]:
    """``(url, None)`` when ``url`` is https on one of ``hosts``; else ``(url, warning)``.

    The caller decides whether a URL with a warning is still used (an image it was downloaded from) or
    dropped (an object URL that would send a reader to a staging host).
    """
    if not url:
        return None, None
    parts = urlsplit(url)
    problems = []
    if parts.scheme != "https":
        problems.append(f"scheme {parts.scheme or 'none'!r} is not https")
    if (parts.hostname or "") not in hosts:
        problems.append(f"host {parts.hostname!r} is not one of {hosts}")
    if not problems:
        return url, None
    return url, f"{what} {url!r}: " + "; ".join(problems)
