"""Governed generation: the guardrails before ``inkgen generate`` paints, provenance and copyright after.

Paper section 6.2 puts three duties on whoever releases a generated painting, and this module is where
``inkgen generate`` (the command line, :func:`governed_generate` from Python, and stage governance) meets
the :mod:`governance` package that implements them:

- *cultural authenticity* and *spiritual dignity*, **before** anything is generated: the prompt goes
  through :func:`governance.decisions.check_prompt`. ``refuse`` (a mantra, a degrading deity posture, a
  period conflation under ``periods.conflation: refuse``, an over-long prompt) → the decision is entered
  in the ledger and :class:`PromptRefused` is raised; nothing is generated. ``anchor`` → the rewritten,
  period-consistent prompt is what the model paints, and the caller is told so. ``hold`` (a religious
  motif) → the image is generated but written under the held folder, never at the requested path, until
  a cultural consultant's recorded decision (``governance review decide``) releases it;
- *ownership attribution*, **after**: every image is checked against the rights registry and the training
  set (:func:`governance.copyright.check_output`; a match holds it back — a memorised training image is a
  copy too), written as a PNG carrying its provenance id and the ledger head, and entered in the
  append-only ledger linked to its checkpoint, whose entry links to the training manifest and, through
  it, to the source records and their licences (:meth:`Gate.link_checkpoint`).

The ledger is only ever appended to. Paths are resolved against the working directory and must lie under
the ledger's root (the project folder), so run from the project root.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from PIL import Image

from governance.candidates import References, load_training_references
from governance.copyright import OutputCheck, check_output
from governance.decisions import Decision, check_prompt
from governance.digest import file_digest
from governance.generation import GenerationError, GenerationRecord, check_held_dir, record_generation, \
    record_prompt_decision
from governance.hash_index import HashIndex
from governance.ledger import Entry, Ledger
from governance.policy import Policy, load_policy
from governance.provenance import latest_artifacts, read_records_jsonl, record_artifact, record_source_records, \
    relative_path
from governance.registry import RightsRegistry, load_registry
from inkgen.generate_error import GenerateError

#: Manifest column naming the item a training row came from (the study's ``manifest.csv``).
ITEM_COLUMN = "item_id"


class PromptRefused(GenerateError):
    """The guardrails refused the prompt; nothing was generated. ``decision`` holds the reasons."""

    def __init__(self, decision: Decision):
        self.decision = decision
        super().__init__("prompt refused by the governance policy: " + "; ".join(decision.reasons))


@dataclass
class GovernedResult:
    """What one governed call did: the prompt decision and, unless refused, one record per image."""

    decision: Decision
    records: list[GenerationRecord] = field(default_factory=list)
    checks: list[OutputCheck] = field(default_factory=list)
    ledger_path: Path | None = None

    @property
    def anchored(self) -> bool:
        return self.decision.rewritten

    def messages(self) -> list[str]:
        """Plain sentences for a person at a terminal: what was painted, where it went and why."""
        out = []
        if self.decision.rewritten:
            out.append(f"anchored: the prompt mixes periods, so the model painted the rewritten prompt "
                       f"{self.decision.prompt!r}")
        for rec, check in zip(self.records, self.checks):
            if rec.status == "released":
                out.append(f"wrote {rec.path} (provenance id {rec.provenance_id})")
                continue
            why = []
            if "consultant_review" in rec.held_for:
                why.append(f"religious motif ({', '.join(self.decision.motifs)}): a cultural consultant must "
                           f"decide (governance review decide {rec.provenance_id} --ledger {self.ledger_path or 'LEDGER'} "
                           "--consultant NAME --key KEY.pem --decision approve|reject --rationale TEXT)")
            if "copyright" in rec.held_for:
                why.append("; ".join(check.reasons))
            out.append(f"held {rec.path} (provenance id {rec.provenance_id}), not written to its release path: "
                       + "; ".join(why))
        return out


def _training_ids(manifest: Path) -> list[str]:
    with open(manifest, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if ITEM_COLUMN not in (reader.fieldnames or []):
            raise GenerateError(f"{manifest}: training manifest has no {ITEM_COLUMN!r} column")
        return [row[ITEM_COLUMN] for row in reader]


@dataclass
class Gate:
    """The policy, the ledger and the copyright references one generation run is checked against."""

    policy: Policy
    ledger: Ledger
    held_dir: Path
    registry: RightsRegistry | None = None
    training: HashIndex | References | None = None
    training_manifest: Path | None = None
    source_records: Path | None = None  # records.jsonl with the licences of the manifest's items

    @classmethod
    def open(cls, ledger: str | os.PathLike[str], *, held_dir: str | os.PathLike[str], root: str | os.PathLike[str] | None = None,
             policy: Policy | None = None, registry: str | os.PathLike[str] | None = None,
             training_manifest: str | os.PathLike[str] | None = None,
             source_records: str | os.PathLike[str] | None = None) -> "Gate":
        """Open (or start, rooted at ``root``, default the working directory) ``ledger`` and load the
        references: the registry CSV and the training manifest's perceptual hashes, when given."""
        policy = policy or load_policy()
        path = Path(ledger)
        book = Ledger(path, root=None if path.is_file() and path.stat().st_size else (root or Path.cwd()))
        reg = load_registry(registry, policy.copyright.registry_statuses) if registry else None
        manifest = Path(training_manifest) if training_manifest else None
        # Memorisation means reproducing an image the model was trained on: the train split only; its image
        # files (relative to the project root) let a candidate be verified on the pixels.
        training = load_training_references(manifest, root=root or Path.cwd(), split="train",
                                            id_column=ITEM_COLUMN) if manifest else None
        records = Path(source_records) if source_records and Path(source_records).is_file() else None
        return cls(policy, book, Path(held_dir), reg, training, manifest, records)

    @classmethod
    def from_params(cls, params: Any, root: str | os.PathLike[str], *, ledger: str | None = None,
                    held_dir: str | None = None, registry: str | None = None,
                    training_manifest: str | None = None) -> "Gate":
        """The gate ``inkgen generate`` uses inside the project: each argument left ``None`` comes from
        params.yaml's ``governance`` section (and the dataset's manifest, the raw records)."""
        g = params.governance
        root = Path(root)
        policy = load_policy(g.policy_path(root), g.policy_overrides())
        reg = registry if registry is not None else (str(root / g.registry) if g.registry else None)
        manifest = training_manifest if training_manifest is not None else \
            str(root / params.paths.dataset / "manifest.csv")
        return cls.open(ledger or root / g.ledger, held_dir=held_dir or root / g.held_dir, root=root, policy=policy,
                        registry=reg or None, training_manifest=manifest or None,
                        source_records=root / params.paths.raw / "records.jsonl")

    # ---------------------------------------------------------------------------------- before
    def check(self, prompt: str, context: dict[str, Any] | None = None) -> Decision:
        """The prompt's decision; a refusal is entered in the ledger and raised as :class:`PromptRefused`."""
        decision = check_prompt(prompt, self.policy)
        if decision.action == "refuse":
            record_prompt_decision(self.ledger, prompt, decision, context)
            raise PromptRefused(decision)
        return decision

    # ----------------------------------------------------------------------------------- after
    def link_checkpoint(self, checkpoint: str | os.PathLike[str]) -> Entry:
        """The checkpoint's artifact entry, linked to the training manifest (and the manifest to its items'
        source records with their licences) the first time this ledger sees the checkpoint's digest."""
        rel = relative_path(self.ledger, checkpoint)
        sha, _ = file_digest(checkpoint)
        latest = latest_artifacts(self.ledger)
        known = latest.get(rel)
        if known is not None and known.payload["sha256"] == sha and \
                (known.payload["derived_from"] or self.training_manifest is None):
            return known
        derived = []
        if self.training_manifest is not None:
            mrel = relative_path(self.ledger, self.training_manifest)
            msha, _ = file_digest(self.training_manifest)
            man = latest.get(mrel)
            ids = _training_ids(self.training_manifest)
            if man is None or man.payload["sha256"] != msha:
                self._record_sources(ids)
                man = record_artifact(self.ledger, self.training_manifest, "training_manifest", sources=ids)
            derived.append(man)
        return record_artifact(self.ledger, checkpoint, "checkpoint", derived_from=derived)

    def _record_sources(self, ids: Sequence[str]) -> None:
        """Enter the source records of ``ids`` the ledger does not hold yet (a record is never repeated)."""
        if self.source_records is None:
            return
        have = {e.payload["item_id"] for e in self.ledger.find("source_record")}
        wanted = set(ids) - have
        rows = [r for r in read_records_jsonl(self.source_records) if r.get("item_id") in wanted]
        if rows:
            record_source_records(self.ledger, rows)

    def release(self, image: Image.Image, release_path: str | os.PathLike[str], *, checkpoint: str | os.PathLike[str],
                prompt: str, decision: Decision, seed: int | None = None,
                params: dict[str, Any] | None = None) -> tuple[GenerationRecord, OutputCheck]:
        """Check ``image`` for copies, write it (at ``release_path`` or under the held folder) and enter it."""
        check = check_output(image, self.registry, self.training, self.policy.copyright)
        record = record_generation(self.ledger, image, release_path, held_dir=self.held_dir, checkpoint=checkpoint,
                                   prompt=prompt, decision=decision, output_check=check, seed=seed, params=params,
                                   copyright_checks=self.copyright_checks())
        return record, check

    def copyright_checks(self) -> dict[str, str]:
        """What each copyright reference is, in words; a reference switched off is "not checked"."""
        return {"registry": f"checked against {len(self.registry)} registered works" if self.registry is not None
                else "not checked (no rights registry given)",
                "training": f"checked against {len(self.training)} training images" if self.training is not None
                else "not checked (no training manifest given)"}


def release_paths(out: str | os.PathLike[str], n: int) -> list[Path]:
    """``out`` for one image; ``OUT-0.png``, ``OUT-1.png``, ... for several (as ``inkgen generate`` names them)."""
    out = Path(out)
    return [out] if n == 1 else [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(n)]


def governed_generate(generator: Any, prompt: str, out: str | os.PathLike[str], *, gate: Gate,
                      checkpoint: str | os.PathLike[str], seed: int = 0, count: int = 1,
                      context: dict[str, Any] | None = None, **generate_kwargs: Any) -> GovernedResult:
    """Paint ``prompt`` with ``generator`` (an :class:`inkgen.generate.Generator`) through ``gate``.

    Raises :class:`PromptRefused` (nothing generated, the refusal entered in the ledger). Otherwise paints
    the decision's prompt (the anchored one when rewritten), then checks, writes and records each image:
    ``result.records[i].path`` is where image ``i`` went — ``out`` (or ``OUT-i.png``) when released, the
    held folder when a religious motif or a copyright match holds it. ``context``: what the ledger records of
    where a refused prompt came from (``{"via": "inkgen generate"}``).
    """
    paths = release_paths(Path(out).expanduser(), count)
    for p in paths:
        if p.suffix.lower() != ".png":
            raise GenerateError(f"{p}: governed images are PNG files (their provenance lives in PNG chunks)")
        if p.exists():  # refused before the model paints anything
            raise GenerateError(f"{p}: already exists; a generated image is never overwritten (choose another --out)")
        try:
            check_held_dir(gate.held_dir, p, gate.ledger.root)  # a held image must never land on a release path
        except GenerationError as exc:
            raise GenerateError(str(exc)) from None
    decision = gate.check(prompt, context)  # the one check of the prompt: a refusal paints nothing
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
    gate.link_checkpoint(checkpoint)
    images = generator.generate([decision.prompt], seed=seed, count=count, **generate_kwargs)
    result = GovernedResult(decision, ledger_path=gate.ledger.path)
    settings = {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
                for k, v in generate_kwargs.items()}
    for i, (image, path) in enumerate(zip(images, paths)):
        record, check = gate.release(image, path, checkpoint=checkpoint, prompt=prompt, decision=decision, seed=seed,
                                     params={**settings, "count": count, "index": i})
        result.records.append(record)
        result.checks.append(check)
    return result
