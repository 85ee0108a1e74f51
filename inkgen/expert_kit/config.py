"""The settings of the expert rating kit (paper section 3.2, Table 2's protocol).

Each field declares its type, range and meaning here, once (``inkgen.settings.setting``); params.yaml's
``evaluate.expert`` section is these fields less what the evaluate stage passes in (the interval settings
of ``evaluate`` and what the authentic works are), plus how many works the package holds
(``inkgen.config.evaluation``). This module imports neither numpy nor PIL: the params file is validated
without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

from inkgen.settings import check_fields, setting

RESERVED_COLUMNS = ("item_id", "description", "notes")  # the rating sheet's own columns


class ExpertKitError(ValueError):
    """A kit input, package or filled sheet that cannot be used; the message names the file, row, column."""


def check_dimensions(dimensions: Mapping[str, Any], key: str = "KitConfig.dimensions",
                     error: type[Exception] = ExpertKitError) -> None:
    """Each sub-semantic dimension a usable sheet column with a positive weight, the weights summing to 1
    (the paper's Table 2: painting_types_techniques 0.4, main_elements 0.3, element_relationship 0.1,
    composition 0.2)."""
    if not dimensions:
        raise error(f"{key} is empty")
    for name, w in dimensions.items():
        if not str(name).isidentifier() or name in RESERVED_COLUMNS:
            raise error(f"{key}: {name!r} is not a usable column name")
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not w > 0:
            raise error(f"{key}[{name!r}] = {w!r}: weights must be positive numbers")
    total = sum(dimensions.values())
    if abs(total - 1.0) > 1e-9:
        raise error(f"{key}: weights sum to {total}, not 1")


@dataclass(frozen=True)
class KitConfig:
    """The kit's settings: ``dimensions`` maps each sub-semantic dimension to its weight in the total."""

    dimensions: Mapping[str, float] = setting(doc="Table 2's sub-semantic dimensions and their weights (sum 1)")
    scale_min: int = setting(0, 100, doc="lowest score of the integer scale (paper: 1)")
    scale_max: int = setting(1, 100, doc="highest score (paper: 5)")
    seed: int = setting(0, 2**31 - 1, doc="shuffle and opaque ids")
    display_size: int = setting(8, 4096, doc="every work is shown at this side, so size tells nothing")
    confidence: float = setting(0.5, 0.9999, doc="level of the analysis's intervals")
    n_resamples: int = setting(1, 1_000_000, doc="bootstrap resamples of the analysis's intervals")
    authentic_source: str = setting(doc="what the authentic works are, as raters may be told (no claim of artists)",
                                    default="")

    # the values params.yaml's evaluate.expert does not set: the evaluate stage passes them in
    DECIDED_ELSEWHERE: ClassVar[tuple[str, ...]] = ("confidence", "n_resamples", "authentic_source")

    def __post_init__(self) -> None:
        check_fields(self, "KitConfig", ExpertKitError)
        check_dimensions(self.dimensions)
        if not self.scale_min < self.scale_max:
            raise ExpertKitError(f"KitConfig: scale {self.scale_min}..{self.scale_max} is empty")

    @property
    def names(self) -> list[str]:
        return list(self.dimensions)
