"""The paper's reported numbers and claims (section 3: Tables 1-3, Figures 8 and 13), from
``inkgen/data/paper_reported.yaml``, validated, and the verdicts on its claims from this study's
measurements.

Everything loaded here is *reported by the paper*; reports print it beside the study's own estimates
under that label. The paper's metric names (``fid``, ``is``, ...) map to what the study measures through
:data:`STAND_INS`: FID and IS only where a local Inception-v3 file was given, otherwise the Fréchet
distance in the CLIP image encoder and the classifier score, whose names say what they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

from inkgen.metrics.claims import DIRECTIONS, NOT_APPLICABLE, ClaimVerdict, Measured, holm_verdicts, judge
from inkgen.variants import NAMES

VARIANTS = NAMES
PAPER_FILE = "paper_reported.yaml"
TABLE1_METRICS = ("convergence_rounds", "is", "fid", "psnr_db", "cosine_similarity", "parameters_m",
                  "inference_ms")
# paper metric -> the study's measured metric names, in order of preference
STAND_INS: dict[str, tuple[str, ...]] = {
    "convergence_rounds": ("convergence_rounds",),
    "is": ("is", "classifier_score"),
    "fid": ("fid", "frechet_clip"),
    "psnr_db": ("psnr",),
    "cosine_similarity": ("clip_cosine",),
    "parameters_m": ("parameter_count",),
    "inference_ms": ("inference_ms",),
    "macs_g": ("macs",),
    "recognition": ("recognition_primary",),
    "style_similarity": ("style_similarity",),
    "instruction_response": ("instruction_response",),
}
# what a claim compares: ablation variants (stage evaluate), seen vs withheld secondary categories (stage
# evaluate, items of the test split), or instruction sequences (stage instructions, Figure 13)
STAGES = ("evaluate", "generalisation", "instructions")
GROUPS = ("seen", "withheld")


class PaperDataError(ValueError):
    """The reported-numbers file is malformed; the message names the entry and the reason."""


@dataclass(frozen=True)
class Claim:
    """A directional claim: ``variant``'s ``metric`` is ``direction`` than each of ``versus``."""

    id: str
    source: str
    text: str
    metric: str
    direction: str
    variant: str
    versus: tuple[str, ...]
    stage: str = "evaluate"
    applicable: bool = True
    reason: str = ""  # why a claim cannot apply in this implementation


@dataclass(frozen=True)
class PaperReported:
    """The parsed file: ``table1[variant][metric]``, ``table3`` rows, ``figure8``, ``figure13``,
    ``table2``, ``claims``, ``inconsistencies``; ``raw`` is the whole mapping."""

    label: str
    source: str
    metrics: Mapping[str, Mapping[str, str]]
    table1: Mapping[str, Mapping[str, Any]]
    table3: tuple[Mapping[str, Any], ...]
    figure8: Mapping[str, Any]
    figure13: Mapping[str, Any]
    table2: Mapping[str, Any]
    claims: tuple[Claim, ...]
    inconsistencies: tuple[str, ...]
    raw: Mapping[str, Any]
    untestable: tuple[Mapping[str, str], ...] = ()

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(f"no claim {claim_id!r}; known: {[c.id for c in self.claims]}")


def _need(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise PaperDataError(f"{where}: missing {key!r}")
    return mapping[key]


def _number(value: Any, where: str, allow_null: bool = False) -> None:
    if value is None and allow_null:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise PaperDataError(f"{where}: {value!r} is not a number")


def _claims(raw_claims: Any, metrics: Mapping[str, Any], fig13: Mapping[str, Any], where: str) -> tuple[Claim, ...]:
    """The paper's claims, each checked: a known metric, direction, stage and variants; unique ids."""
    claims: list[Claim] = []
    for i, c in enumerate(raw_claims):
        claim = _claim(c, metrics, fig13, f"{where}: claims[{i}]", where)
        if claim.id in {k.id for k in claims}:
            raise PaperDataError(f"{where}: claim {claim.id!r}: duplicate id")
        claims.append(claim)
    return tuple(claims)


def _claim(c: Any, metrics: Mapping[str, Any], fig13: Mapping[str, Any], at: str, where: str) -> Claim:
    """One claim checked; errors name it by ``at`` (its position) until its id is known."""
    fields = {k: _need(c, k, at) for k in ("id", "source", "text", "metric", "direction", "variant",
                                           "versus")}
    cid = str(fields["id"])
    at = f"{where}: claim {cid!r}"
    if fields["metric"] not in metrics or fields["metric"] not in STAND_INS:
        raise PaperDataError(f"{at}: unknown metric {fields['metric']!r} (known: {sorted(STAND_INS)})")
    if fields["direction"] not in DIRECTIONS:
        raise PaperDataError(f"{at}: direction must be one of {DIRECTIONS}, got {fields['direction']!r}")
    stage = c.get("stage", "evaluate")
    if stage not in STAGES:
        raise PaperDataError(f"{at}: stage must be one of {STAGES}, got {stage!r}")
    known = {"evaluate": VARIANTS, "generalisation": GROUPS,
             "instructions": tuple(fig13.get("instruction_sets", ()))}[stage]
    versus = tuple(fields["versus"]) if isinstance(fields["versus"], list) else ()
    for v in (fields["variant"], *versus):
        if v not in known:
            raise PaperDataError(f"{at}: unknown variant {v!r} (known: {list(known)})")
    if not versus or fields["variant"] in versus:
        raise PaperDataError(f"{at}: versus must list other variants than {fields['variant']!r}")
    applicable = c.get("applicable", True)
    if not isinstance(applicable, bool) or (not applicable and not str(c.get("reason", "")).strip()):
        raise PaperDataError(f"{at}: a claim marked applicable: false needs a reason")
    return Claim(cid, str(fields["source"]), str(fields["text"]), fields["metric"], fields["direction"],
                 fields["variant"], versus, stage, applicable, str(c.get("reason", "")))


def _validate(raw: Any, where: str) -> PaperReported:
    if not isinstance(raw, Mapping):
        raise PaperDataError(f"{where}: top level must be a mapping")
    label = _need(raw, "label", where)
    if "reported" not in str(label):
        raise PaperDataError(f"{where}: label must say the numbers are reported by the paper, got {label!r}")
    metrics = _need(raw, "metrics", where)
    for name, meta in metrics.items():
        if _need(meta, "better", f"{where}: metrics.{name}") not in ("higher", "lower"):
            raise PaperDataError(f"{where}: metrics.{name}.better must be 'higher' or 'lower'")

    table1 = _need(_need(raw, "table1", where), "rows", f"{where}: table1")
    if set(table1) != set(VARIANTS):
        raise PaperDataError(f"{where}: table1 rows {sorted(table1)} differ from the variants {sorted(VARIANTS)}")
    for variant, row in table1.items():
        for m in TABLE1_METRICS:
            _number(_need(row, m, f"{where}: table1.{variant}"), f"{where}: table1.{variant}.{m}")

    table3 = _need(_need(raw, "table3", where), "rows", f"{where}: table3")
    for i, row in enumerate(table3):
        for key in ("model", "dataset"):
            _need(row, key, f"{where}: table3 row {i}")
        for m in ("is", "fid", "cosine_similarity", "convergence_rounds"):
            _number(_need(row, m, f"{where}: table3 row {i}"), f"{where}: table3 row {i}.{m}", allow_null=True)

    fig13 = _need(raw, "figure13", where)
    for key in ("style_similarity_threshold", "instruction_response_threshold"):
        v = _need(fig13, key, f"{where}: figure13")
        _number(v, f"{where}: figure13.{key}")
        if not 0 < v < 1:
            raise PaperDataError(f"{where}: figure13.{key}={v} is not a similarity in (0, 1)")

    table2 = _need(raw, "table2", where)
    dims = _need(table2, "dimensions", f"{where}: table2")
    for d, spec in dims.items():
        for key in ("expert_score", "weight"):
            _number(_need(spec, key, f"{where}: table2.{d}"), f"{where}: table2.{d}.{key}")
    total_w = sum(spec["weight"] for spec in dims.values())
    if abs(total_w - 1.0) > 1e-9:
        raise PaperDataError(f"{where}: table2 weights sum to {total_w}, not 1")

    claims = _claims(_need(raw, "claims", where), metrics, fig13, where)
    untestable = tuple(raw.get("untestable", ()))
    for i, u in enumerate(untestable):
        for key in ("claim", "source", "why"):
            _need(u, key, f"{where}: untestable[{i}]")
    return PaperReported(str(label), str(_need(raw, "source", where)), metrics, table1, tuple(table3),
                         _need(raw, "figure8", where), fig13, table2, tuple(claims),
                         tuple(raw.get("inconsistencies", ())), raw, untestable)


def load_paper_reported(path: str | Path | None = None) -> PaperReported:
    """Parse and validate the reported-numbers file (the packaged one unless ``path`` is given)."""
    if path is None:
        text = resources.files("inkgen.data").joinpath(PAPER_FILE).read_text(encoding="utf-8")
        where = f"inkgen/data/{PAPER_FILE}"
    else:
        text, where = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PaperDataError(f"{where}: not valid YAML ({exc})") from exc
    return _validate(raw, where)


def resolve_metric(paper_metric: str, measured: Mapping[str, Mapping[str, Measured]],
                   variants: tuple[str, ...]) -> str:
    """The study's metric that stands in for ``paper_metric``: the first of :data:`STAND_INS` measured
    for every one of ``variants`` (so "fid" is used only where real FID was computed for all of them)."""
    for name in STAND_INS[paper_metric]:
        if all(name in measured.get(v, {}) for v in variants):
            return name
    raise KeyError(f"no measurement for paper metric {paper_metric!r} (any of {STAND_INS[paper_metric]}) "
                   f"for all of {list(variants)}")


def judge_claims(claims: tuple[Claim, ...], measured: Mapping[str, Mapping[str, Measured]], *, confidence: float,
                 n_resamples: int, seed: int, stage: str = "evaluate", skip_unmeasured: bool = True
                 ) -> list[ClaimVerdict]:
    """Verdicts (see :mod:`inkgen.metrics.claims` for the rule) on the ``claims`` of ``stage`` from
    ``measured``: ``{variant or group: {study metric name: Seeded or exact Estimate}}``. A claim marked not
    applicable gets that verdict with its reason; one whose metric was not measured is skipped
    (``skip_unmeasured``) or raises ``KeyError``. Holm's correction runs across all comparisons of the
    claims judged in this call (family-wise ``confidence``)."""
    out = []
    for k, c in enumerate(claims):
        if c.stage != stage:
            continue
        if not c.applicable:
            out.append(ClaimVerdict(c.id, "", NOT_APPLICABLE, (), c.reason))
            continue
        variants = (c.variant, *c.versus)
        try:
            metric = resolve_metric(c.metric, measured, variants)
        except KeyError:
            if skip_unmeasured:
                continue
            raise
        values = {v: measured[v][metric] for v in variants}
        out.append(judge(c.id, metric, c.direction, c.variant, c.versus, values, confidence=confidence,
                         n_resamples=n_resamples, seed=seed + 1000 * k))
    return holm_verdicts(out, confidence=confidence)
