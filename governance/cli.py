"""``governance``: the command line of the governance layer (paper section 6.2).

    governance check-prompt "TEXT"            decision as JSON; exit 1 only when refused
    governance match IMAGE... [--registry CSV] [--training CSV] [--ledger PATH]
                                              registry and training-split matches with distances, as JSON;
                                              by default against the registry and manifest the ledger recorded
    governance verify [PATH]                  re-hash every recorded artifact, check the chain; exit 1 on any problem
    governance review list|decide ...         the cultural consultant's queue
    governance report --ledger PATH --out DIR HTML + JSON reviewer's report
    governance calibrate                      copyright threshold calibration table
    governance guardrails                     false refusals (benign set) and catches (hostile set)
    governance prov-export --ledger PATH      the ledger as W3C PROV-JSON

Every command takes ``--policy FILE`` (default: the packaged ``policy.yaml``) and ``--set KEY=VALUE``
overrides (``--set periods.conflation=refuse``; values are read as YAML). Errors print one line naming
the item and the reason, and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import yaml

from governance.calibration import calibrate, calibrate_procedural, folder_works, record_calibration
from governance.copyright import check_output, load_training_hashes
from governance.decisions import check_prompt
from governance.generation import record_prompt_decision
from governance.guardrail_eval import evaluate, record_guardrail_eval
from governance.ledger import Ledger, LedgerError
from governance.phash import ImageHashError
from governance.policy import Policy, PolicyError, load_policy
from governance.prov_export import prov_json
from governance.provenance import ProvenanceError
from governance.registry import RegistryError, load_registry
from governance.report import write_report
from governance.review import DECISIONS, ReviewError, decide, review_items
from governance.verify import find_ledger, verify

_ERRORS = (LedgerError, PolicyError, RegistryError, ImageHashError, ReviewError, ProvenanceError, ValueError, OSError)


def _overrides(pairs: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise PolicyError(f"--set {pair!r}: expected KEY=VALUE, e.g. periods.conflation=refuse")
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(value)
    return out


def _policy(args: argparse.Namespace) -> Policy:
    return load_policy(args.policy, _overrides(args.set))


def _ledger(path: str) -> Ledger:
    return Ledger(find_ledger(path))


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))


def cmd_check_prompt(args: argparse.Namespace) -> int:
    policy = _policy(args)
    decision = check_prompt(args.text, policy)
    if args.ledger:
        record_prompt_decision(_ledger(args.ledger), args.text, decision, {"via": "governance check-prompt"})
    _print_json(decision.to_dict())
    return 1 if decision.action == "refuse" else 0


def _recorded_references(ledger_path: str) -> tuple[str | None, str | None]:
    """The rights registry and training manifest the ledger at ``ledger_path`` last recorded (absolute
    paths under its root), so that ``governance match IMAGE`` checks against what the study used."""
    ledger = _ledger(ledger_path)
    found: dict[str, str] = {}
    for e in ledger.entries():
        if e.kind == "artifact" and e.payload.get("role") in ("rights_registry", "training_manifest"):
            found[e.payload["role"]] = str(ledger.root / e.payload["path"])
    return found.get("rights_registry"), found.get("training_manifest")


def cmd_match(args: argparse.Namespace) -> int:
    policy = _policy(args)
    registry_path, training_path = args.registry, args.training
    if registry_path is None and training_path is None:
        registry_path, training_path = _recorded_references(args.ledger)
    registry = load_registry(registry_path, policy.copyright.registry_statuses) if registry_path else None
    training = load_training_hashes(training_path, args.training_id_column) if training_path else None
    if registry is None and training is None:
        raise ValueError("nothing to match against: give --registry CSV and/or --training CSV, or --ledger with "
                         "a recorded rights registry or training manifest")
    results = []
    for image in args.images:
        check = check_output(Path(image), registry, training, policy.copyright)
        results.append({"image": image, "registry": registry_path, "training": training_path,
                        "training_split": "train", **check.to_dict()})
    _print_json(results)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    result = verify(args.path)
    if args.json:
        _print_json(result.to_dict())
    else:
        print(f"ledger {result.ledger}: {result.entries} entries, {result.artifacts_checked} artifacts "
              f"({result.files_checked} files, {result.images_checked} generated images) in {result.seconds:.2f} s")
        for p in result.problems:
            print(f"PROBLEM {p.describe()}")
        print("OK" if result.ok else f"FAILED: {len(result.problems)} problem(s)")
    return 0 if result.ok else 1


def cmd_review_list(args: argparse.Namespace) -> int:
    items = [i.to_dict() for i in review_items(_ledger(args.ledger)) if args.all or i.pending]
    _print_json(items)
    return 0


def cmd_review_decide(args: argparse.Namespace) -> int:
    entry = decide(_ledger(args.ledger), args.provenance_id, consultant=args.consultant, decision=args.decision,
                   rationale=args.rationale)
    _print_json(entry.payload)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    paths = write_report(_ledger(args.ledger), _policy(args), args.out, record=not args.no_record)
    _print_json({k: str(v) for k, v in paths.items()})
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    policy = _policy(args)
    c = policy.calibration
    if args.registered_dir or args.unrelated_dir:
        if not (args.registered_dir and args.unrelated_dir):
            raise ValueError("--registered-dir and --unrelated-dir go together")
        result = calibrate(folder_works(args.registered_dir), folder_works(args.unrelated_dir),
                           transforms=c.transforms, variants=policy.copyright.variants,
                           max_threshold=c.max_threshold, max_fpr=c.max_fpr, seed=c.seed,
                           source=f"folders {args.registered_dir} / {args.unrelated_dir}")
    else:
        result = calibrate_procedural(c, policy.copyright.variants)
    if args.ledger:
        record_calibration(_ledger(args.ledger), result)
    if args.json:
        _print_json(result.to_dict())
    else:
        names = list(result.rows[0].recall_by_transform)
        print("threshold  recall    FPR     " + "  ".join(f"{n:>8}" for n in names))
        for r in result.rows:
            mark = "  <- chosen" if r.threshold == result.chosen else ""
            print(f"{r.threshold:9d}  {r.recall:6.1%}  {r.fpr:6.2%}  "
                  + "  ".join(f"{r.recall_by_transform[n]:8.1%}" for n in names) + mark)
        print(f"rule: {result.rule}\nchosen threshold: {result.chosen} (policy in force: "
              f"{policy.copyright.registry_max_distance})")
    return 0


def cmd_guardrails(args: argparse.Namespace) -> int:
    report = evaluate(_policy(args))
    if args.ledger:
        record_guardrail_eval(_ledger(args.ledger), report)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(report.summary())
        for m in report.benign.mismatches + report.hostile.mismatches:
            print(f"  line {m['line']}: expected {m['expected']}, got {m['got']}: {m['prompt']}")
    return 0


def cmd_prov_export(args: argparse.Namespace) -> int:
    text = prov_json(_ledger(args.ledger).entries())
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--policy", help="policy YAML (default: the packaged governance/data/policy.yaml)")
    common.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one policy key, e.g. periods.conflation=refuse (repeatable)")
    parser = argparse.ArgumentParser(prog="governance", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check-prompt", parents=[common], help="decide allow/anchor/hold/refuse for a prompt")
    p.add_argument("text")
    p.add_argument("--ledger", help="also enter the decision in this ledger (file or folder)")
    p.set_defaults(func=cmd_check_prompt)

    p = sub.add_parser("match", parents=[common], help="copyright matches of images, with distances")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--registry", help="rights registry CSV (id,holder,status,hash)")
    p.add_argument("--training", help="training hashes CSV (e.g. the dataset manifest with a phash column)")
    p.add_argument("--training-id-column", default="item_id", help="id column of --training (default item_id)")
    p.add_argument("--ledger", default=".", help="without --registry/--training: match against the registry and "
                   "training manifest this ledger recorded (file or folder; default .)")
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("verify", help="re-hash every recorded artifact and check the ledger chain")
    p.add_argument("path", nargs="?", default=".", help="ledger file or folder holding ledger.jsonl (default .)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("review", help="the cultural consultant's review queue")
    rsub = p.add_subparsers(dest="review_command", required=True)
    r = rsub.add_parser("list", help="held images waiting for a decision (--all: decided ones too)")
    r.add_argument("--ledger", default=".", help="ledger file or folder (default .)")
    r.add_argument("--all", action="store_true")
    r.set_defaults(func=cmd_review_list)
    r = rsub.add_parser("decide", help="enter a consultant's decision on a held image")
    r.add_argument("provenance_id")
    r.add_argument("--ledger", default=".", help="ledger file or folder (default .)")
    r.add_argument("--consultant", required=True, help="who decides (name, role)")
    r.add_argument("--decision", required=True, choices=DECISIONS)
    r.add_argument("--rationale", required=True, help="why, in a sentence or two")
    r.set_defaults(func=cmd_review_decide)

    p = sub.add_parser("report", parents=[common], help="write the reviewer's report (HTML + JSON)")
    p.add_argument("--ledger", default=".", help="ledger file or folder (default .)")
    p.add_argument("--out", required=True, help="folder for report.html and report.json")
    p.add_argument("--no-record", action="store_true", help="do not enter the report files in the ledger")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("calibrate", parents=[common], help="calibrate the copyright match threshold")
    p.add_argument("--registered-dir", help="folder of registered works (default: procedural works)")
    p.add_argument("--unrelated-dir", help="folder of unrelated works (with --registered-dir)")
    p.add_argument("--ledger", help="enter the calibration in this ledger")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("guardrails", parents=[common], help="measure refusals on the benign and hostile prompt sets")
    p.add_argument("--ledger", help="enter the measurement in this ledger")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_guardrails)

    p = sub.add_parser("prov-export", help="export the ledger as W3C PROV-JSON")
    p.add_argument("--ledger", default=".", help="ledger file or folder (default .)")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_prov_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except _ERRORS as exc:
        print(f"governance {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
