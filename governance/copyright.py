"""The copyright cross-check: training items against the registry, outputs against registry and training set.

Paper section 6.2, *ownership attribution*: "model outputs trained on copyrighted contemporary works
triggered 27% copyright violation flags"; the remedy is to cross-reference training samples against the
copyright database. Two checks, both by pHash Hamming distance over every image variant
(:mod:`governance.phash`) with the thresholds of the policy (``copyright.*``, chosen by calibration,
:mod:`governance.calibration`):

- :func:`screen_training_items` — before training: an item within ``registry_max_distance`` of a
  registered work whose status is in ``training_block_statuses`` is *flagged* and kept out; every item
  comes back with its reasons (the closest registered works), so the decision can be entered in the
  ledger and audited;
- :func:`check_output` — after generation: an output within ``registry_max_distance`` of a work whose
  status is in ``output_hold_statuses``, or within ``training_max_distance`` of a training image
  (memorisation: the model reproduced its training data), is *held* back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from PIL import Image

from governance.candidates import References, load_training_references
from governance.copymatch import Matcher, Verified
from governance.hash_index import HashIndex
from governance.ledger import Entry, Ledger
from governance.phash import ImageHashError, hash_file, open_image, parse_hash, to_hex, variant_hashes
from governance.policy import CopyrightPolicy
from governance.registry import RightsRegistry


@dataclass(frozen=True)
class Match:
    against: str      # registry | training
    id: str           # registered work id or training item id
    distance: int     # pHash bits (stage one)
    variant: str      # which variant of the query matched (original, hflip, ...)
    status: str = ""  # registry status (registry matches)
    holder: str = ""
    verified: bool = False    # stage two ran on the pixels (False: the hash alone decided)
    inliers: int = -1         # stage two: RANSAC inliers
    correlation: float = -1.0  # stage two: aligned grey-level correlation
    probability: float = -1.0  # stage two: fused P(copy) (governance.copy_fusion)
    block_agreement: float = -1.0  # stage two: share of textured blocks that agree once aligned

    def to_dict(self) -> dict[str, Any]:
        return {"against": self.against, "id": self.id, "distance": self.distance, "variant": self.variant,
                "status": self.status, "holder": self.holder, "verified": self.verified, "inliers": self.inliers,
                "correlation": self.correlation, "probability": self.probability,
                "block_agreement": self.block_agreement}

    def evidence(self) -> str:
        if self.verified:
            return (f"{self.inliers} keypoints agree under one transform, aligned correlation {self.correlation:.2f}, "
                    f"{self.block_agreement:.0%} of blocks agree: P(copy) {self.probability:.3f} "
                    f"(pHash {self.distance} bits, {self.variant})")
        return f"pHash distance {self.distance} bits ({self.variant}; hash only, no image on file to verify)"


def load_training_hashes(path: str | os.PathLike[str], id_column: str = "item_id",
                         hash_columns: tuple[str, ...] = ("phash", "hash"), *, split: str | None = "train",
                         split_column: str = "split") -> HashIndex:
    """Training-set hashes from a CSV with an id column and a ``phash`` (or ``hash``) column of 16 hex
    digits — the study's ``manifest.csv`` is such a file. A malformed value names its row.

    Only rows whose ``split`` column equals ``split`` are training images: the manifest also lists the
    validation and test images, which the model never saw, so an output close to one of them is not a
    memorised training image. A CSV without that column is taken whole (a plain list of training hashes);
    ``split=None`` takes every row."""
    # The same reading as the two-stage matcher's training references, without the image files.
    return load_training_references(path, split=split, id_column=id_column, hash_columns=hash_columns,
                                    split_column=split_column).index


def _best_per_id(hits_by_variant: Mapping[str, list], ) -> dict[str, tuple[int, str]]:
    best: dict[str, tuple[int, str]] = {}
    for variant, hits in hits_by_variant.items():
        for h in hits:
            if h.id not in best or (h.distance, variant != "original") < (best[h.id][0], best[h.id][1] != "original"):
                best[h.id] = (h.distance, variant)
    return best


def _two_stage(image: Image.Image, refs: References, policy: CopyrightPolicy, hash_max: int,
               matcher: Matcher | None) -> list[tuple[str, Verified]]:
    m = matcher or Matcher.from_policy(policy)
    return [(v.id, v) for v in m.match(image, refs, hash_only_max_distance=hash_max) if v.copy]


def registry_matches(hashes: Mapping[str, int], registry: RightsRegistry, radius: int,
                     image: Image.Image | None = None, policy: CopyrightPolicy | None = None,
                     matcher: Matcher | None = None) -> list[Match]:
    """Registered works the query copies. With the query's ``image`` and a ``policy``: the two stages of
    :mod:`governance.copymatch` (works without an image on file fall back to the hash within ``radius``);
    with hashes only: every work within ``radius`` bits of any variant, nearest first."""
    if image is not None and policy is not None:
        return [Match("registry", wid, v.distance, v.variant, registry.work(wid).status, registry.work(wid).holder,
                      v.verified, v.inliers, v.correlation, v.probability, round(v.block_agreement, 3))
                for wid, v in _two_stage(image, registry.references(), policy, radius, matcher)]
    found = _best_per_id({v: registry.index.query(h, radius) for v, h in hashes.items()})
    matches = [Match("registry", wid, d, v, registry.work(wid).status, registry.work(wid).holder)
               for wid, (d, v) in found.items()]
    return sorted(matches, key=lambda m: (m.distance, m.id))


def training_matches(hashes: Mapping[str, int], training: HashIndex | References, radius: int,
                     image: Image.Image | None = None, policy: CopyrightPolicy | None = None,
                     matcher: Matcher | None = None) -> list[Match]:
    """Training images the query reproduces (two stages when ``image``, ``policy`` and a :class:`References`
    with image files are given; else by hash within ``radius``)."""
    if isinstance(training, References) and image is not None and policy is not None:
        return [Match("training", tid, v.distance, v.variant, verified=v.verified, inliers=v.inliers,
                      correlation=v.correlation, probability=v.probability,
                      block_agreement=round(v.block_agreement, 3)) for tid, v in _two_stage(image, training, policy, radius, matcher)]
    index = training.index if isinstance(training, References) else training
    found = _best_per_id({v: index.query(h, radius) for v, h in hashes.items()})
    return sorted((Match("training", i, d, v) for i, (d, v) in found.items()), key=lambda m: (m.distance, m.id))


def _as_image(source: Any) -> Image.Image | None:
    """The query's pixels when it has any (an image or an image file); None for a bare hash."""
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, (str, os.PathLike)) and os.path.exists(source):
        return open_image(source)
    return None


def _query_hashes(source: Any, variants: tuple[str, ...], where: str) -> dict[str, int]:
    """Variant hashes for an image, a path, or a precomputed hash (original orientation only); an error
    names ``where`` (the item) as well as the file."""
    try:
        if isinstance(source, Image.Image):
            return variant_hashes(source, variants)
        if isinstance(source, str) and len(source.strip()) == 16 and not os.path.exists(source):
            return {"original": parse_hash(source, where)}
        if isinstance(source, (str, os.PathLike)):
            return hash_file(source, variants)
        return {"original": parse_hash(source, where)}
    except ImageHashError as exc:
        raise ImageHashError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class ItemVerdict:
    item_id: str
    kept: bool
    reasons: tuple[str, ...]
    matches: tuple[Match, ...]
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "kept": self.kept, "reasons": list(self.reasons), "hash": self.hash,
                "matches": [m.to_dict() for m in self.matches]}


@dataclass
class ScreenResult:
    kept: list[ItemVerdict] = field(default_factory=list)
    flagged: list[ItemVerdict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kept": len(self.kept), "flagged": [v.to_dict() for v in self.flagged]}


def screen_training_items(rows: Iterable[tuple[str, Any]], registry: RightsRegistry,
                          policy: CopyrightPolicy) -> ScreenResult:
    """Split ``(item_id, image path | PIL image | 16-hex hash)`` rows into kept and flagged items.

    Flagged: within ``policy.registry_max_distance`` of a registered work whose status is in
    ``policy.training_block_statuses``. Matches with other statuses (e.g. licensed) are listed as reasons
    on kept items, so the report shows that they were seen and why they were allowed.
    """
    result = ScreenResult()
    matcher = Matcher.from_policy(policy)
    for item_id, source in rows:
        hashes = _query_hashes(source, policy.variants, f"training item {item_id}")
        matches = registry_matches(hashes, registry, policy.registry_max_distance, _as_image(source), policy, matcher)
        blocking = [m for m in matches if m.status in policy.training_block_statuses]
        reasons = tuple(f"matches registered work {m.id} ({m.status}, {m.holder}): {m.evidence()}"
                        for m in (blocking or matches))
        verdict = ItemVerdict(str(item_id), not blocking, reasons, tuple(matches), to_hex(hashes["original"]))
        (result.flagged if blocking else result.kept).append(verdict)
    return result


@dataclass(frozen=True)
class OutputCheck:
    hashes: dict[str, str]
    matches: tuple[Match, ...]
    held: bool
    reasons: tuple[str, ...]
    registry_max_distance: int
    training_max_distance: int

    def to_dict(self) -> dict[str, Any]:
        return {"hashes": self.hashes, "matches": [m.to_dict() for m in self.matches], "held": self.held,
                "reasons": list(self.reasons), "registry_max_distance": self.registry_max_distance,
                "training_max_distance": self.training_max_distance}


def check_output(image: Any, registry: RightsRegistry | None, training: HashIndex | References | None,
                 policy: CopyrightPolicy) -> OutputCheck:
    """Check one generated image (PIL image or path) against the registry and the training set: pHash
    candidates, verified on the pixels where the reference's image is on file (:mod:`governance.copymatch`)."""
    hashes = _query_hashes(image, policy.variants, "output")
    pixels = _as_image(image)
    matcher = Matcher.from_policy(policy)
    matches: list[Match] = []
    reasons: list[str] = []
    if registry is not None:
        for m in registry_matches(hashes, registry, policy.registry_max_distance, pixels, policy, matcher):
            matches.append(m)
            if m.status in policy.output_hold_statuses:
                reasons.append(f"copies registered work {m.id} ({m.status}, {m.holder}): {m.evidence()}")
    if training is not None:
        for m in training_matches(hashes, training, policy.training_max_distance, pixels, policy, matcher):
            matches.append(m)
            reasons.append(f"reproduces training image {m.id}: {m.evidence()} — memorisation")
    return OutputCheck({v: to_hex(h) for v, h in hashes.items()}, tuple(matches), bool(reasons), tuple(reasons),
                       policy.registry_max_distance, policy.training_max_distance)


def record_screening(ledger: Ledger, result: ScreenResult, *, registry: RightsRegistry,
                     policy: CopyrightPolicy) -> Entry:
    """Enter a training screen: which items were kept out and why, under which registry and thresholds."""
    return ledger.append("copyright_screen", {
        "registry": registry.source, "registry_size": len(registry), "registry_statuses": registry.statuses(),
        "max_distance": policy.registry_max_distance, "block_statuses": list(policy.training_block_statuses),
        "variants": list(policy.variants), "kept": len(result.kept),
        "flagged": [v.to_dict() for v in result.flagged]})
