"""The governance policy: every tunable of the governance layer, read from one YAML file.

Paper section 6.2 names the rules — style anchoring against temporal conflation (*cultural authenticity*),
cross-referencing against a copyright database (*ownership attribution*), mantra exclusion, directional
constraints on deity posture and consultant validation (*spiritual dignity*). Their values are policy,
owned by the people who answer for them (curators, rights officers, the monastic partners), so they live in
``governance/data/policy.yaml``, not in code: the dataclasses below have **no defaults**. A pipeline passes
``overrides`` (a nested dict, e.g. from ``params.yaml``'s ``governance.policy``) that replace single keys.

Loading is strict: an unknown key, a missing key, a wrong type or an out-of-range value is an error that
names the key (``copyright.registry_max_distance: 70 is not in 0..64``), and posture/facing ids are
checked against the sacred-imagery lexicon so a typo cannot silently allow everything.
"""

from __future__ import annotations

import copy
import os
import typing
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml

from governance.digest import sha256_json

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_POLICY = DATA / "policy.yaml"


class PolicyError(ValueError):
    """A policy file or override that cannot be used; the message names the key."""


@dataclass(frozen=True)
class PromptPolicy:
    max_chars: int            # a bound on checking work (linear time), not a safety rule
    unreadable: Literal["hold", "allow"]   # what a prompt the guardrail mostly cannot read gets
    unreadable_share: float   # ... "mostly": at least this share of its letters (governance.readability)


@dataclass(frozen=True)
class PeriodPolicy:
    conflation: Literal["refuse", "anchor"]   # what a prompt mixing periods gets


@dataclass(frozen=True)
class DeityRule:
    allowed_postures: tuple[str, ...]
    allowed_facing: tuple[str, ...]


@dataclass(frozen=True)
class SacredPolicy:
    heritage_damage: Literal["hold", "refuse"]  # a damaged sacred image in a museum or excavation
    dignity_classifier: bool        # a learned second opinion may refuse what the rules only hold (dignity.py)
    letters_classifier: bool        # another, in any script, from character n-grams (letters_classifier.py)
    letters_hold: bool              # the same classifier holds what no rule named but it reads as religious
    deities: dict[str, DeityRule]   # deity class (from motifs.yaml) -> what it may be shown doing


@dataclass(frozen=True)
class FusionPolicy:
    weights: dict[str, float]   # evidence feature -> logistic-regression weight (governance.copy_fusion.FEATURES)
    bias: float
    threshold: float            # P(copy) at or above which a candidate is a copy


@dataclass(frozen=True)
class CopyrightPolicy:
    registry_statuses: tuple[str, ...]        # every status a registry row may carry
    training_block_statuses: tuple[str, ...]  # a training item matching one of these is kept out
    output_hold_statuses: tuple[str, ...]     # an output matching one of these is held back
    registry_max_distance: int                # Hamming bits; from the calibration, see calibration.py
    training_max_distance: int                # memorisation check against the training set
    variants: tuple[str, ...]                 # image variants hashed at query time (original, hflip, vflip)
    candidates: int                           # stage one: nearest works verified per query (copymatch.py)
    candidate_max_distance: int               # ... plus every work within this many pHash bits
    query_rotation: float                     # the query is also hashed rotated by +/- this many degrees
    candidate_index: Literal["numpy", "faiss"]  # stage one's search: vectorised scan or faiss binary index
    fusion: FusionPolicy                      # stage two: evidence fused by logistic regression (copy_fusion.py)


@dataclass(frozen=True)
class CalibrationPolicy:
    seed: int
    n_registered: int
    n_unrelated: int
    size: int                  # pixels of a procedural work's long side
    max_threshold: int         # thresholds 0..max_threshold are tabulated
    max_fpr: float             # the rule: highest recall whose false-positive rate is at most this
    transforms: tuple[str, ...]
    twin_min_correlation: float  # matcher calibration: a pair this correlated at 64 px is the same picture


@dataclass(frozen=True)
class ReportPolicy:
    thumbnail_px: int


@dataclass(frozen=True)
class Policy:
    prompt: PromptPolicy
    periods: PeriodPolicy
    sacred: SacredPolicy
    copyright: CopyrightPolicy
    calibration: CalibrationPolicy
    report: ReportPolicy
    source: str = ""   # where it was read from (not a policy value; for messages and the report)

    def to_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if is_dataclass(v):
                return {f.name: plain(getattr(v, f.name)) for f in fields(v) if f.name != "source"}
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, tuple):
                return [plain(x) for x in v]
            return v
        return plain(self)

    @property
    def sha256(self) -> str:
        return sha256_json(self.to_dict())


_RANGES = {  # key path -> inclusive bounds; checked after types
    "prompt.max_chars": (1, 1_000_000),
    "prompt.unreadable_share": (0.01, 1.0),
    "copyright.registry_max_distance": (0, 64),
    "copyright.training_max_distance": (0, 64),
    "calibration.seed": (0, 2**32 - 1),
    "calibration.n_registered": (1, 1_000_000),
    "calibration.n_unrelated": (1, 1_000_000),
    "calibration.size": (32, 4096),
    "calibration.max_threshold": (0, 64),
    "calibration.max_fpr": (0.0, 1.0),
    "calibration.twin_min_correlation": (0.0, 1.0),
    "copyright.candidates": (1, 10_000),
    "copyright.candidate_max_distance": (0, 64),
    "copyright.query_rotation": (0.0, 45.0),
    "copyright.fusion.threshold": (0.0, 1.0),
    "report.thumbnail_px": (16, 2048),
}
VARIANTS = ("original", "hflip", "vflip")


def _build(cls: type, data: Any, where: str) -> Any:
    """Instantiate dataclass ``cls`` from ``data`` strictly (no unknown, no missing keys)."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls) if f.name != "source"]
    if not isinstance(data, Mapping):
        raise PolicyError(f"{where or 'policy'}: expected a mapping with keys {names}, got {type(data).__name__}")
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise PolicyError(f"{where + '.' if where else ''}{unknown[0]}: unknown policy key (known: {', '.join(names)})")
    missing = [n for n in names if n not in data]
    if missing:
        raise PolicyError(f"{where + '.' if where else ''}{missing[0]}: missing policy key")
    return cls(**{n: _value(hints[n], data[n], f"{where + '.' if where else ''}{n}") for n in names})


def _value(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if is_dataclass(hint):
        return _build(hint, value, where)
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise PolicyError(f"{where}: {value!r} is not one of {', '.join(map(str, typing.get_args(hint)))}")
        return value
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PolicyError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    if origin is dict:
        if not isinstance(value, Mapping) or not value:
            raise PolicyError(f"{where}: expected a non-empty mapping")
        return {str(k): _value(typing.get_args(hint)[1], v, f"{where}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise PolicyError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PolicyError(f"{where}: expected a number, got {value!r}")
        value = float(value)
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(f"{where}: expected an integer, got {value!r}")
    elif hint is str and not isinstance(value, str):
        raise PolicyError(f"{where}: expected a string, got {value!r}")
    if where in _RANGES:
        lo, hi = _RANGES[where]
        if not lo <= value <= hi:
            raise PolicyError(f"{where}: {value} is not in {lo}..{hi}")
    return value


def _merge(base: dict[str, Any], overrides: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in out:
            raise PolicyError(f"{path}: unknown policy key in overrides")
        if isinstance(value, Mapping) and isinstance(out[key], dict) and not path.startswith("sacred.deities."):
            out[key] = _merge(out[key], value, path)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _check_copyright(policy: Policy) -> None:
    from governance.copy_fusion import Fusion  # its feature names are the weights' keys

    c = policy.copyright
    try:
        Fusion(dict(c.fusion.weights), c.fusion.bias, c.fusion.threshold)
    except ValueError as exc:
        raise PolicyError(str(exc)) from None
    for name in ("training_block_statuses", "output_hold_statuses"):
        bad = sorted(set(getattr(c, name)) - set(c.registry_statuses))
        if bad:
            raise PolicyError(f"copyright.{name}: {bad[0]!r} is not in copyright.registry_statuses")
    bad_variants = sorted(set(c.variants) - set(VARIANTS)) or ([] if "original" in c.variants else ["(original missing)"])
    if bad_variants:
        raise PolicyError(f"copyright.variants: {bad_variants[0]} (known: {', '.join(VARIANTS)}; original required)")


def _check_sacred(policy: Policy, postures: set[str], facings: set[str], classes: set[str]) -> None:
    for cls, rule in policy.sacred.deities.items():
        if cls not in classes:
            raise PolicyError(f"sacred.deities.{cls}: no such deity class in motifs.yaml ({', '.join(sorted(classes))})")
        for name, known, values in (("allowed_postures", postures, rule.allowed_postures),
                                    ("allowed_facing", facings, rule.allowed_facing)):
            bad = sorted(set(values) - known)
            if bad:
                raise PolicyError(f"sacred.deities.{cls}.{name}: {bad[0]!r} is not a posture/facing id in motifs.yaml")
    missing = sorted(classes - set(policy.sacred.deities))
    if missing:
        raise PolicyError(f"sacred.deities: no rule for deity class {missing[0]!r} (every class needs one)")


def load_policy(path: str | os.PathLike[str] | None = None, overrides: Mapping[str, Any] | None = None, *,
                check_sacred_ids: bool = True) -> Policy:
    """Read the policy (``governance/data/policy.yaml`` unless ``path``), apply ``overrides``, validate.

    ``check_sacred_ids=False`` skips checking the ``sacred.deities`` ids against the guardrail lexicon: for a
    caller that uses only the copyright rules (the training screen), which then depends on neither the lexicon's
    data nor its code, so editing the guardrails does not invalidate trained models."""
    path = Path(path) if path is not None else DEFAULT_POLICY
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}: cannot read the policy ({exc})") from None
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: the policy must be a mapping")
    merged = _merge(raw, overrides or {})
    policy = replace(_build(Policy, merged, ""), source=str(path))
    _check_copyright(policy)
    if check_sacred_ids:
        from governance.lexicon import load_lexicon  # the lexicon defines the ids the policy may use

        lexicon = load_lexicon()
        _check_sacred(policy, set(lexicon.postures), set(lexicon.facings), set(lexicon.classes))
    return policy
