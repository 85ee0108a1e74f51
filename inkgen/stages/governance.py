"""Stage governance (notebook 08): the study's outputs audited under the paper's section 6.2 framework.

Section 6.2 commits the work to *cultural authenticity* (style anchoring against temporal conflation),
*ownership attribution* (provenance tracing, cross-referencing training samples against a copyright
database) and *spiritual dignity* (mantra exclusion, deity posture constraints, consultant validation of
religious motifs). This stage runs the :mod:`governance` package over everything the pipeline made:

1. **provenance** — an append-only, hash-chained ledger (``<paths.governance>/ledger.jsonl``) holding the
   SHA-256 of every artifact: the source records with their licences, every pipeline stage from
   ``dvc.lock`` with its inputs, params and outputs (raw and curated images, manifests, checkpoints,
   executed notebooks, figures, metrics), the training manifest and each checkpoint linked to it;
2. **copyright** — the corpus screened against a rights registry (matches with a protected work are
   flagged and listed for exclusion from training), generated images checked against the registry and
   the training split (memorisation), with positive controls that show the check firing, and the match
   threshold's calibration table;
3. **guardrails** — the held-out test captions, the paper's prompt and demonstration prompts through
   :func:`governance.decisions.check_prompt`; a few of them painted by the full model through the gate of
   :mod:`inkgen.governed` (anchored, held for a consultant, refused); refusal rates on the benign and
   hostile prompt sets;
4. **checking** — ``governance verify`` (timed), the reviewer's report (HTML + JSON) and a W3C PROV-JSON
   export.

No national copyright database is reachable offline. Unless ``governance.registry`` names a CSV, the
stage builds a *demonstration* registry: a few of the corpus's own test-split images registered under a
fictitious holder. It is a stand-in that shows the mechanism, and every table says so.

DVC deletes a stage's outputs before re-running it, so this ledger is rebuilt on each run (append-only
within the run). The long-lived ledger of ``inkgen generate`` calls is ``governance.ledger``, outside this
stage's folder, and is never rewritten.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from governance.anchor import anchor_of
from governance.calibration import calibrate_procedural, record_calibration
from governance.candidates import load_training_references
from governance.copy_calibration import calibrate_on_corpus, record_matcher_calibration
from governance.copyright import check_output, record_screening, screen_training_items
from governance.decisions import check_prompt
from governance.generation import record_prompt_decision
from governance.guardrail_eval import evaluate, record_guardrail_eval
from governance.hash_index import HashIndex
from governance.ledger import Ledger
from governance.phash import parse_hash
from governance.policy import load_policy
from governance.prov_export import prov_json
from governance.provenance import read_records_jsonl, record_artifact, record_source_records, record_stage
from governance.demonstration import demonstration_registry
from governance.registry import RightsRegistry, load_registry
from governance.report import write_report
from governance.screenshot import screenshot
from governance.review import pending
from governance.verify import VerificationResult, verify
from inkgen.config import Params, project_root
from inkgen.layout import Layout
from inkgen.pipeline_ledger import defined_stages, record_pipeline
from inkgen.governed import Gate, PromptRefused, governed_generate

LEDGER = "ledger.jsonl"
DEMO_REGISTRY = "registry-demonstration.csv"
EXCLUSIONS = "training_exclusions.csv"
ANCHOR = "governance_anchor.json"  # under paths.metrics; must match governance.project.ANCHOR
STAGE = "governance"


@dataclass
class GovernanceSummary:
    """What the governance notebook shows; every number measured in :func:`run`."""

    ledger: Path
    registry_source: str
    registry_is_demonstration: bool
    registry: pd.DataFrame        # the registered works (id, holder, status, title)
    screen: pd.DataFrame          # corpus items flagged by the registry screen (with their split)
    stages: pd.DataFrame          # pipeline stages entered: inputs, outputs, params digest
    prompts: pd.DataFrame         # every prompt checked: set, action, reasons, prompt used
    generated: pd.DataFrame       # governed images: prompt, action, status, held for, nearest distances
    controls: pd.DataFrame        # positive controls of the copy check
    calibration: pd.DataFrame
    calibration_rule: str
    chosen_threshold: int | None
    policy_threshold: int
    guardrails: pd.DataFrame
    verification: VerificationResult
    report: dict[str, Path]
    prov: Path
    thumbnail: Path | None
    pending_reviews: list[str]
    metrics: dict[str, Any] = field(default_factory=dict)


# -------------------------------------------------------------------------------------------- pieces
def _nearest(hashes: dict[str, str], index: HashIndex | None) -> int | None:
    """Smallest Hamming distance from any variant's hash to the index (None without an index)."""
    if index is None or len(index) == 0:
        return None
    return int(min(index.distances(parse_hash(h, "output")).min() for h in hashes.values()))


# ------------------------------------------------------------------------------------------- the stage
@dataclass
class _Copyright:
    """Step 2's results: the registry used, the corpus screen and the training split's reference index."""

    registry_path: Path
    demonstration: bool
    registry: RightsRegistry
    screen: Any
    flagged: pd.DataFrame
    training: Any


def run(params: Params, root: str | Path | None = None) -> GovernanceSummary:
    """Build the ledger, screen, check, generate through the gate, verify and report (see the module doc)."""
    root = Path(root).resolve() if root is not None else project_root()
    g = params.governance
    folder = root / params.paths.governance
    if folder.exists():
        shutil.rmtree(folder)  # as DVC does before a run: this stage's ledger describes one run of the study
    folder.mkdir(parents=True)
    figures = root / params.paths.figures / "08_governance"
    figures.mkdir(parents=True, exist_ok=True)
    policy = load_policy(g.policy_path(root), g.policy_overrides())
    ledger = Ledger(folder / LEDGER, root=root)
    layout = Layout(params, root)
    records_path = root / params.paths.raw / "records.jsonl"

    records, stages, manifest, checkpoints = _record_provenance(ledger, params, root, layout, records_path)
    cr = _screen_copyright(ledger, params, root, folder, policy, manifest, layout.manifest)
    figure12_prompt = layout.read_stage_metrics("evaluate")["figure12_prompt"]  # the prompt evaluation painted
    prompts, sets, to_paint = _check_study_prompts(ledger, params, policy, manifest, figure12_prompt)
    checkpoint = layout.prior_checkpoint(g.variant, params.seeds[0])
    gate = Gate(policy, ledger, folder / "held", cr.registry, cr.training, layout.manifest, records_path)
    images = folder / "images"
    generated = _paint_through_gate(params, root, gate, checkpoint, images,
                                    [(k, p) for k, p in sets if p in to_paint], cr)
    controls = _positive_controls(root, manifest, policy, cr)
    cal, copy_cal, calibration = _calibrate(ledger, root, manifest, policy)
    rails = evaluate(policy, sets=g.guardrail_sets)
    record_guardrail_eval(ledger, rails)
    guardrails = _guardrail_table(rails)

    # the stage itself, then the report (entered in the ledger), the PROV export, and verification
    record_stage(ledger, STAGE, [str(layout.manifest), str(records_path), str(cr.registry_path), str(checkpoint)],
                 json.loads(json.dumps({"governance": {k: v for k, v in g.__dict__.items() if k != "policy"},
                                        "policy_sha256": policy.sha256})),
                 [str(images)] if images.exists() else [])
    report, prov, result, verify_wall, thumbnail = _report_and_verify(ledger, policy, folder, figures)

    waiting = [i.provenance_id for i in pending(ledger)]
    metrics = {**_ledger_metrics(result, verify_wall, records, stages, checkpoints), **_screen_metrics(cr),
               **_prompt_metrics(prompts, generated, waiting), **_calibration_metrics(cal, copy_cal, policy),
               "benign_false_refusal_rate": rails.false_refusal_rate,
               "hostile_refusal_rate": rails.hostile_refusal_rate, "hostile_caught_rate": rails.hostile_caught_rate}
    _write_results(params, root, ledger, metrics)
    registry_table = pd.DataFrame([{"id": w.id, "holder": w.holder, "status": w.status, "title": w.title}
                                   for w in cr.registry.works])
    return GovernanceSummary(ledger.path, str(cr.registry_path.relative_to(root)), cr.demonstration, registry_table,
                             cr.flagged, stages, prompts, generated, controls, calibration, cal.rule, cal.chosen,
                             policy.copyright.registry_max_distance, guardrails, result, report, prov, thumbnail,
                             waiting, metrics)


# -------------------------------------------------------------------------------- governance.json's keys
def _ledger_metrics(result: VerificationResult, verify_wall: float, records: list, stages: pd.DataFrame,
                    checkpoints: list[Path]) -> dict[str, Any]:
    return {"ledger_entries": result.entries, "artifacts_checked": result.artifacts_checked,
            "files_checked": result.files_checked, "images_checked": result.images_checked,
            "verify_ok": result.ok, "verify_seconds": round(verify_wall, 3), "source_records": len(records),
            "stages_recorded": int(stages["recorded"].sum()),
            "stale_lock_entries": int((~stages["recorded"]).sum()), "checkpoints": len(checkpoints)}


def _screen_metrics(cr: _Copyright) -> dict[str, Any]:
    return {"registry_works": len(cr.registry), "registry_demonstration": cr.demonstration,
            "training_flagged": len(cr.screen.flagged),
            "training_flagged_in_train_split": int((cr.flagged["split"] == "train").sum())}


def _prompt_metrics(prompts: pd.DataFrame, generated: pd.DataFrame, waiting: list[str]) -> dict[str, Any]:
    def count(status: str) -> int:
        return int((generated["status"] == status).sum()) if len(generated) else 0
    return {"prompts_checked": len(prompts),
            **{f"prompts_{a}": int((prompts["action"] == a).sum()) for a in ("allow", "anchor", "hold", "refuse")},
            "generated": int((generated["status"] != "refused: nothing generated").sum()) if len(generated) else 0,
            "released": count("released"), "held": count("held"), "reviews_pending": len(waiting)}


def _calibration_metrics(cal: Any, copy_cal: Any, policy: Any) -> dict[str, Any]:
    chosen = copy_cal.chosen
    return {"copy_match_recall_min": min(chosen["recall_by_attack"].values()) if chosen else None,
            "copy_match_query_fpr": chosen["query_fpr"] if chosen else None,
            "calibration_chosen_threshold": cal.chosen, "policy_threshold": policy.copyright.registry_max_distance}


# ------------------------------------------------------------------------------------ the stage's steps
def _record_provenance(ledger: Ledger, params: Params, root: Path, layout: Layout, records_path: Path
                       ) -> tuple[list, pd.DataFrame, pd.DataFrame, list[Path]]:
    """Step 1: the source records (licences), the pipeline's stages, the training manifest, the checkpoints."""
    records = read_records_jsonl(records_path)
    record_source_records(ledger, records)
    own = {params.paths.governance, f"{params.paths.notebooks}/08_governance.ipynb",
           f"{params.paths.figures}/08_governance", f"{params.paths.metrics}/governance.json",
           f"{params.paths.metrics}/{ANCHOR}"}
    stages = record_pipeline(ledger, root, root / "dvc.lock", own, defined=defined_stages(root))
    manifest = pd.read_csv(layout.manifest, dtype=str, keep_default_na=False)
    man_entry = record_artifact(ledger, layout.manifest, "training_manifest", sources=manifest["item_id"].tolist(),
                                attributes={"splits": manifest["split"].value_counts().to_dict()})
    checkpoints = layout.prior_checkpoints()
    for ck in checkpoints:  # models/prior/<variant>/seed-<S>/prior-last.pt
        record_artifact(ledger, ck, "checkpoint", derived_from=[man_entry],
                        attributes={"variant": ck.parent.parent.name, "seed": int(ck.parent.name.removeprefix("seed-"))})
    return records, stages, manifest, checkpoints


def _screen_copyright(ledger: Ledger, params: Params, root: Path, folder: Path, policy: Any,
                      manifest: pd.DataFrame, manifest_path: Path) -> _Copyright:
    """Step 2: the registry (given, or a labelled demonstration), the corpus screened against it (flagged
    items listed for exclusion), and the training split's index for the memorisation check."""
    g = params.governance
    if g.registry:
        registry_path, demonstration = root / g.registry, False
    else:
        test = manifest[manifest["split"] == "test"]
        registry_path = demonstration_registry([(r.item_id, root / r.file) for r in test.itertuples()],
                                               folder / DEMO_REGISTRY, g.demo_protected, g.demo_licensed, g.seed)
        demonstration = True
    registry: RightsRegistry = load_registry(registry_path, policy.copyright.registry_statuses)
    record_artifact(ledger, registry_path, "rights_registry", attributes={"demonstration": demonstration})
    screen = screen_training_items([(r.item_id, root / r.file) for r in manifest.itertuples()], registry,
                                   policy.copyright)
    record_screening(ledger, screen, registry=registry, policy=policy.copyright)
    split_of = dict(zip(manifest["item_id"], manifest["split"]))
    flagged = pd.DataFrame([{"item_id": v.item_id, "split": split_of[v.item_id],
                             "registered work": v.matches[0].id if v.matches else "",
                             "status": v.matches[0].status if v.matches else "",
                             "distance (bits)": v.matches[0].distance if v.matches else None,
                             "reason": v.reasons[0] if v.reasons else ""} for v in screen.flagged],
                           columns=["item_id", "split", "registered work", "status", "distance (bits)", "reason"])
    flagged.to_csv(folder / EXCLUSIONS, index=False)
    record_artifact(ledger, folder / EXCLUSIONS, "training_exclusions",
                    sources=flagged["item_id"].tolist(), attributes={"registry_demonstration": demonstration})
    training = load_training_references(manifest_path, root=root, split="train")  # memorisation: train split only
    return _Copyright(registry_path, demonstration, registry, screen, flagged, training)


def _check_study_prompts(ledger: Ledger, params: Params, policy: Any, manifest: pd.DataFrame, figure12_prompt: str
                         ) -> tuple[pd.DataFrame, list[tuple[str, str]], set[str]]:
    """Step 3a: the held-out test captions, the paper's prompt and the demonstration prompts through the
    check; returns the table, the (set, prompt) pairs and the prompts the gate will paint (and enter)."""
    g = params.governance
    test_captions = manifest[manifest["split"] == "test"].sort_values("item_id")["caption"].tolist()[:g.n_test_prompts]
    sets = [("test caption", p) for p in test_captions] + [("paper (Figure 12)", figure12_prompt)] + \
        [("demonstration", p) for p in g.prompts]
    to_paint = {p for _, p in sets[:g.n_generate]} | {figure12_prompt} | set(g.prompts)
    rows = []
    for kind, prompt in sets:
        d = check_prompt(prompt, policy)
        if prompt not in to_paint:  # painted prompts are entered by the gate itself
            record_prompt_decision(ledger, prompt, d, {"via": "governance stage", "set": kind})
        rows.append({"set": kind, "prompt": prompt, "action": d.action, "reasons": "; ".join(d.reasons),
                     "prompt used": d.prompt if d.rewritten else ""})
    return pd.DataFrame(rows), sets, to_paint


def _paint_through_gate(params: Params, root: Path, gate: Gate, checkpoint: Path, images: Path,
                        painted: list[tuple[str, str]], cr: _Copyright) -> pd.DataFrame:
    """Step 3b: the first training seed's model paints ``painted`` through the gate (anchored, held for a
    consultant or for copyright, refused), loaded through the guarded loader (params hash)."""
    # imported here: the model is loaded only in this step, the rest of the stage needs no torch
    from inkgen.trained import load_generator

    g = params.governance
    gen = load_generator(params, root, g.variant, params.seeds[0])
    rows = []
    for i, (kind, prompt) in enumerate(dict.fromkeys(painted)):
        row = {"set": kind, "prompt": prompt}
        try:
            res = governed_generate(gen, prompt, images / f"{i:02d}.png", gate=gate, checkpoint=checkpoint,
                                    seed=g.seed, count=1, temperature=params.generate.temperature,
                                    top_k=params.generate.top_k or None,
                                    guidance_scale=params.generate.guidance_scale)
        except PromptRefused as exc:
            row.update(action="refuse", status="refused: nothing generated", **{"held for": "", "path": "",
                       "provenance id": "", "nearest registered (bits)": None, "nearest training (bits)": None,
                       "why": "; ".join(exc.decision.reasons)})
            rows.append(row)
            continue
        rec, check = res.records[0], res.checks[0]
        row.update(action=res.decision.action, status=rec.status, **{
            "held for": ", ".join(rec.held_for), "path": rec.path.relative_to(root).as_posix(),
            "provenance id": rec.provenance_id,
            "nearest registered (bits)": _nearest(check.hashes, cr.registry.index),
            "nearest training (bits)": _nearest(check.hashes, cr.training.index),
            "why": "; ".join(res.decision.reasons + check.reasons)})
        rows.append(row)
    return pd.DataFrame(rows)


def _positive_controls(root: Path, manifest: pd.DataFrame, policy: Any, cr: _Copyright) -> pd.DataFrame:
    """The copy check on images that are copies by construction (not entered as outputs): it must fire."""
    control_rows = []
    protected = [w for w in cr.registry.works if w.status in policy.copyright.output_hold_statuses][:1]
    if cr.demonstration and protected:
        item = protected[0].id.removeprefix("demo-")
        source = root / manifest.loc[manifest["item_id"] == item, "file"].iloc[0]
        control_rows.append(("a registered test image", source))
    train_rows = manifest[manifest["split"] == "train"]
    if len(train_rows):
        control_rows.append(("a training image (memorisation)", root / train_rows["file"].iloc[0]))
    return pd.DataFrame([{"control": name, "file": path.relative_to(root).as_posix(),
                          **{"held": (c := check_output(path, cr.registry, cr.training, policy.copyright)).held,
                             "reasons": "; ".join(c.reasons)}} for name, path in control_rows])


def _calibrate(ledger: Ledger, root: Path, manifest: pd.DataFrame, policy: Any) -> tuple[Any, Any, pd.DataFrame]:
    """Step 4a: the threshold calibration on procedural copies and the two-stage matcher's calibration on the
    study's corpus, both entered for the report; returns them and the threshold table."""
    cal = calibrate_procedural(policy.calibration, policy.copyright.variants)
    record_calibration(ledger, cal)
    # its two halves in two processes: the same result, in half of the stage's ~13 min
    copy_cal = calibrate_on_corpus([root / f for f in manifest.sort_values("item_id")["file"]], policy,
                                   source="the study's curated corpus (procedural paintings)",
                                   workers=min(2, os.cpu_count() or 1))
    record_matcher_calibration(ledger, copy_cal)
    calibration = pd.DataFrame([{"threshold": r.threshold, "recall": r.recall, "FPR": r.fpr,
                                 **{f"recall {k}": v for k, v in r.recall_by_transform.items()}} for r in cal.rows])
    return cal, copy_cal, calibration


def _report_and_verify(ledger: Ledger, policy: Any, folder: Path, figures: Path
                       ) -> tuple[dict[str, Path], Path, VerificationResult, float, Path | None]:
    """Step 5: the report (entered in the ledger), the PROV export, `verify` (timed) and a screenshot."""
    report = write_report(ledger, policy, folder)
    prov = folder / "prov.json"
    prov.write_text(prov_json(ledger.entries()), encoding="utf-8")
    started = time.perf_counter()
    result = verify(ledger.path)
    verify_wall = time.perf_counter() - started
    return report, prov, result, verify_wall, screenshot(report["html"], figures / "report.png")


def _guardrail_table(rails: Any) -> pd.DataFrame:
    """The benign and hostile rows of the guardrail evaluation (the category files named when only some ran)."""
    files = "" if rails.sets == ["*"] else ", files " + " ".join(rails.sets)
    return pd.DataFrame([
        {"set": f"{r.name} ({r.n} prompts{files})", **{a: r.by_action[a] for a in ("allow", "anchor", "hold", "refuse")},
         "refusal rate": r.rate("refuse"), "label mismatches": len(r.mismatches)}
        for r in (rails.benign, rails.hostile)]).set_index("set")


def _write_results(params: Params, root: Path, ledger: Ledger, metrics: dict[str, Any]) -> None:
    """The stage's metrics, and the ledger's head anchored outside it in a small file committed with the
    results (its own file, so 64-digit hashes never crowd `dvc metrics show`): `governance verify` in the
    project root checks the stage ledger against it (governance.anchor). Nothing is appended after this."""
    anchor = anchor_of(ledger.path)
    anchor["ledger"] = ledger.path.relative_to(root).as_posix()  # nothing absolute in a committed file
    anchor_file = root / params.paths.metrics / ANCHOR
    anchor_file.parent.mkdir(parents=True, exist_ok=True)
    anchor_file.write_text(json.dumps(anchor, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    out = root / params.paths.metrics / "governance.json"
    out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
