"""Dates and periods of museum items, from the museum's own dating and its years together.

:func:`date_item` reads an item's begin/end years and display date (the fields ``museum_rules.yaml``
names per museum) and returns a :class:`Dating`:

* **B.C. years.** The Met and the AIC give years before the common era as negative numbers. A source
  may instead give them positive, with the display date saying "B.C." (Cleveland's 400/375 for
  "400-375 BCE", earliest > latest): when the display date carries a B.C. marker and no A.D./CE one,
  positive years are negated; when it says both ("206 B.C.-A.D. 9"), a begin year above the end year is
  read as B.C. Each repair is noted in ``notes``.
* **earliest > latest** with nothing in the display date to explain it cannot be read safely (a swap
  would turn 1700-1650 B.C. into A.D.): the item is refused, ``unparseable_date``.
* **A missing display date** (empty, ``n.d.``, ...) is written from the years, and noted.
* **The period** (taxonomy ``pre_qing`` / ``qing`` / ``modern``) comes from the museum's own
  dynasty/period fields first (in the rules' order: Met ``dynasty`` then ``period``, Cleveland
  ``culture``, AIC ``style_title`` then ``date_display``), matched against the dynasty names of the
  rules; a text naming dynasties of two periods ("Ming ... or Qing dynasty") is ambiguous and the next
  field is tried. Only then the years decide (:func:`period_of_years`). Dynasty names are applied only
  because the item was first checked to be Chinese (:mod:`.rules`): the Japanese Edo scroll is refused
  before any period is given. ``period_source`` says which field decided (``"museum dynasty"``,
  ``"museum period"``, ``"museum culture"``, ``"years"``), or None when nothing did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from inkgen.data.sources.rules import ItemRefused, load_rules, term_pattern

# Period boundaries (taxonomy.yaml ``periods``): the Qing dynasty ruled 1644-1911; the Republic began 1912.
QING_START, MODERN_START = 1644, 1912
_AD = re.compile(r"(?<![\w.])(a\.?\s?d\.?|c\.?\s?e\.?)(?![\w])", re.IGNORECASE)


@dataclass(frozen=True)
class Dating:
    begin: int | None
    end: int | None
    display: str | None
    period: str | None
    period_source: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def metadata(self) -> dict[str, Any]:
        return {"begin": self.begin, "end": self.end, "period_source": self.period_source,
                "notes": list(self.notes)}


def period_of_years(begin: Any, end: Any) -> str | None:
    """``pre_qing`` / ``qing`` / ``modern`` for a work dated ``begin``-``end`` (years; either may be None).

    A span is placed by its midpoint, so "17th century" (1600-1699, midpoint 1649.5) counts as Qing and
    "1600-1650" as pre-Qing. Missing years give None; both years 0 is how museum records say "unknown",
    not "year 0", so it gives None too. Years are only meaningful for Chinese items (the collectors
    check that first).
    """
    years = [int(y) for y in (begin, end) if isinstance(y, (int, float)) and not isinstance(y, bool)]
    if not years or all(y == 0 for y in years):
        return None
    middle = sum(years) / len(years)
    if middle < QING_START:
        return "pre_qing"
    return "qing" if middle < MODERN_START else "modern"


def year_text(year: int) -> str:
    return f"{-year} B.C." if year < 0 else str(year)


def years_text(begin: int | None, end: int | None) -> str | None:
    """A display date written from years: "1662–1722", "1700", "400–375 B.C.", "206 B.C.–A.D. 9"."""
    if begin is None and end is None:
        return None
    if begin is None or end is None or begin == end:
        return year_text(begin if begin is not None else end)
    if begin < 0 <= end:
        return f"{-begin} B.C.–A.D. {end}"
    if end < 0:
        return f"{-begin}–{-end} B.C."
    return f"{begin}–{end}"


def _says_bc(display: str | None) -> bool:
    return bool(display) and term_pattern(load_rules()["bc_markers"]).search(display) is not None


def _years(begin: Any, end: Any, display: str | None, notes: list[str]) -> tuple[int | None, int | None]:
    if begin == 0 and end == 0:
        return None, None  # the Met's "unknown"
    if begin is None or end is None:
        return begin, end
    bc, ad = _says_bc(display), bool(display) and _AD.search(display) is not None
    if bc and not ad and begin > 0 and end > 0:
        begin, end = -begin, -end
        notes.append(f"B.C. years given as positive numbers ({-begin}/{-end}); negated, as "
                     f"display date {display!r} says B.C.")
    elif bc and ad and begin > end > -1 and begin > 0:
        begin = -begin
        notes.append(f"begin year read as B.C. ({-begin}), as display date {display!r} spans B.C.–A.D.")
    if begin > end:
        if bc:
            begin, end = end, begin
            notes.append("earliest > latest for B.C. years; swapped")
        else:
            raise ItemRefused("unparseable_date", f"earliest year {begin} > latest year {end}, and the display "
                                                  f"date {display!r} does not say B.C.", begin=begin, end=end)
    return begin, end


def _period_of_text(value: Any) -> tuple[str | None, bool]:
    """The one period the dynasty names in ``value`` point to, and whether they pointed to several."""
    texts = [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]
    found = set()
    for period, names in load_rules()["dynasties"].items():
        pattern = term_pattern(names)
        if any(pattern.search(text) for text in texts):
            found.add(period)
    if len(found) == 1:
        return found.pop(), False
    return None, len(found) > 1


def date_item(obj: Mapping[str, Any], rules: Mapping[str, Any]) -> Dating:
    """The item's years, display date and period (module docstring); raises ItemRefused."""
    names = rules["date_fields"]
    display = obj.get(names["display"])
    display = display.strip() if isinstance(display, str) else None
    notes: list[str] = []
    begin, end = _years(obj.get(names["begin"]), obj.get(names["end"]), display, notes)
    if not display or display.lower() in load_rules()["no_date_displays"]:
        written = years_text(begin, end)
        if written is not None:
            notes.append(f"display date {display!r} written from the years as {written!r}")
        display = written
    period, source = None, None
    for name in rules["dynasty_fields"]:
        found, ambiguous = _period_of_text(obj.get(name))
        if ambiguous:
            notes.append(f"{name} {obj.get(name)!r} names dynasties of more than one period; not used")
        if found is not None:
            period, source = found, f"museum {name}"
            break
    if period is None:
        period = period_of_years(begin, end)
        source = "years" if period is not None else None
    return Dating(begin, end, display, period, source, tuple(notes))
