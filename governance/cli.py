"""``governance``: the command line of the governance layer (paper section 6.2).

    governance check-prompt "TEXT" [--json]   the decision in words (or JSON); exit 1 only when refused
    governance match IMAGE... [--registry CSV] [--training CSV] [--ledger PATH]
                                              registry and training-split matches with distances, as JSON;
                                              by default against the registry and manifest the ledger recorded
    governance verify [PATH] [--trusted-head H]
                                              re-hash every recorded artifact, check chain, signatures, anchor
                                              and C2PA credentials; exit 1 on any problem
    governance review list|decide ...         the cultural consultant's queue (decisions signed with --key)
    governance report [--ledger PATH] --out DIR
                                              HTML + JSON reviewer's report
    governance anchor [LEDGER]                the ledger's head, to keep outside it (--trusted-head)
    governance consultant-key NAME --out PEM  a consultant's key pair; prints the keyring row

In the project root, verify / review list / report need no ledger: they read params.yaml and work on
every ledger of the project (the governance stage's and `inkgen generate`'s), naming each.
    governance calibrate                      copyright threshold calibration table
    governance guardrails [--json] [--roles naive] [--eval-dir DIR] [--sets GLOB ...] [--no-classifier]
                                              refusal, hold and false-refusal rates per category
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
from governance.anchor import anchor_of, parse_anchor
from governance.credentials import CredentialError
from governance.guardrail_eval import evaluate, record_guardrail_eval, table
from governance.ledger import Ledger, LedgerError
from governance.phash import ImageHashError
from governance.policy import Policy, PolicyError, load_policy
from governance.project import ProjectLedger, project_ledgers
from governance.prov_export import prov_json
from governance.provenance import ProvenanceError
from governance.registry import RegistryError, load_registry
from governance.report import write_report
from governance.review import DECISIONS, ReviewError, decide, review_items
from governance.signing import SigningError, load_keyring, load_private, new_consultant_key
from governance.verify import find_ledger, verify

_ERRORS = (LedgerError, PolicyError, RegistryError, ImageHashError, ReviewError, ProvenanceError, SigningError,
           CredentialError, ValueError, OSError)


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


def _ledgers(path: str | None) -> list[ProjectLedger]:
    """The ledger given, or every ledger of the project in the working directory."""
    if path:
        return [ProjectLedger("ledger", find_ledger(path), None)]
    return project_ledgers(".")


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))


def cmd_check_prompt(args: argparse.Namespace) -> int:
    policy = _policy(args)
    decision = check_prompt(args.text, policy)
    if args.ledger:
        record_prompt_decision(_ledger(args.ledger), args.text, decision, {"via": "governance check-prompt"})
    if args.json:
        _print_json(decision.to_dict())
    else:
        print(f"{decision.action.upper()}: {args.text}")
        for reason in decision.reasons:
            print(f"  - {reason}")
        if decision.rewritten:
            print(f"  prompt to paint: {decision.prompt}")
        if decision.motifs:
            print(f"  religious motifs: {', '.join(decision.motifs)}")
        print(f"  checks run: {', '.join(decision.checks)} (policy {decision.policy_sha256[:12]}…)")
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
    keyring = load_keyring(args.keyring) if args.keyring else None
    trust = Path(args.c2pa_trust).read_bytes() if args.c2pa_trust else None
    results, ok = [], True
    for book in _ledgers(args.path):
        anchor = args.trusted_head or (str(book.anchor) if book.anchor else None)
        result = verify(book.path, trusted_head=parse_anchor(anchor) if anchor else None, keyring=keyring,
                        c2pa_trust=trust)
        ok &= result.ok
        results.append({"label": book.label, **result.to_dict()})
        if args.json:
            continue
        creds = ", ".join(f"{n} {state}" for state, n in sorted(result.credentials.items())) or "none"
        print(f"{book.label} {result.ledger}: {result.entries} entries, {result.artifacts_checked} artifacts "
              f"({result.files_checked} files, {result.images_checked} generated images), C2PA credentials: "
              f"{creds}{'' if trust else ' (no --c2pa-trust: Valid = intact and signed, signer not trusted)'}; "
              f"{result.seconds:.2f} s")
        print(f"  head seq {result.head_seq} {result.head}; anchored: "
              f"{result.anchored or 'no (give --trusted-head; the signed .head sidecar alone cannot catch a rewrite by the key holder)'}")
        for p in result.problems:
            print(f"  PROBLEM {p.describe()}")
        print("  OK" if result.ok else f"  FAILED: {len(result.problems)} problem(s)")
    if args.json:
        _print_json(results if len(results) > 1 else results[0])
    return 0 if ok else 1


def cmd_review_list(args: argparse.Namespace) -> int:
    out = []
    for book in _ledgers(args.ledger):
        items = [i.to_dict() for i in review_items(Ledger(book.path)) if args.all or i.pending]
        out.append({"ledger": str(book.path), "label": book.label, "items": items})
    if args.json:
        _print_json(out)
        return 0
    for block in out:
        print(f"{block['label']} {block['ledger']}: {len(block['items'])} "
              f"{'item(s)' if args.all else 'pending'}")
        for i in block["items"]:
            print(f"  {i['provenance_id']}  {i['state']}  {i['path']}  motifs: {', '.join(i['motifs'])}\n"
                  f"    prompt: {i['prompt']}")
    return 0


def cmd_review_decide(args: argparse.Namespace) -> int:
    (book,) = _ledgers(args.ledger)[:1]
    entry = decide(Ledger(book.path), args.provenance_id, consultant=args.consultant, decision=args.decision,
                   rationale=args.rationale, key=load_private(args.key),
                   keyring=load_keyring(args.keyring) if args.keyring else None)
    _print_json(entry.payload)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    books = _ledgers(args.ledger)
    written = {}
    for book in books:
        out = Path(args.out) if len(books) == 1 else Path(args.out) / book.path.parent.name
        paths = write_report(Ledger(book.path), _policy(args), out, record=not args.no_record)
        written[f"{book.label} {book.path}"] = {k: str(v) for k, v in paths.items()}
    _print_json(written)
    return 0


def cmd_anchor(args: argparse.Namespace) -> int:
    anchors = [{"label": b.label, **anchor_of(b.path)} for b in _ledgers(args.ledger)]
    text = json.dumps(anchors[0] if len(anchors) == 1 else anchors, indent=2, sort_keys=True) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


def cmd_consultant_key(args: argparse.Namespace) -> int:
    row = new_consultant_key(args.name, args.role, args.out)
    print(f"private key written to {args.out} (keep it; never commit it). Add this row to the keyring "
          f"(governance/data/consultants.yaml):")
    print(yaml.safe_dump({"consultants": [row]}, allow_unicode=True, sort_keys=False).split("\n", 1)[1], end="")
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
    only = {"benign": None, "hostile": None, "eval_dir": args.eval_dir} if args.eval_dir else {}
    report = evaluate(_policy(args), roles=args.roles, classifier=not args.no_classifier, sets=args.sets, **only)
    if args.ledger:
        record_guardrail_eval(_ledger(args.ledger), report)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(table(report))
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
    parser = argparse.ArgumentParser(prog="governance", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_check_prompt, _add_match, _add_verify, _add_review, _add_report, _add_anchor,
                _add_consultant_key, _add_calibrate, _add_guardrails, _add_prov_export):
        add(sub)
    return parser


def _command(sub: Any, name: str, func: Any, text: str, policy: bool = False) -> argparse.ArgumentParser:
    """Subcommand ``name`` (help ``text``), run by ``func``; ``policy``: it reads the policy (--policy, --set)."""
    p = sub.add_parser(name, help=text)
    if policy:
        p.add_argument("--policy", help="policy YAML (default: the packaged governance/data/policy.yaml)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override one policy key, e.g. periods.conflation=refuse (repeatable)")
    p.set_defaults(func=func)
    return p


def _add_check_prompt(sub: Any) -> None:
    p = _command(sub, "check-prompt", cmd_check_prompt, "decide allow/anchor/hold/refuse for a prompt", policy=True)
    p.add_argument("text")
    p.add_argument("--json", action="store_true", help="print the decision as JSON (for scripts)")
    p.add_argument("--ledger", help="also enter the decision in this ledger (file or folder)")


def _add_match(sub: Any) -> None:
    p = _command(sub, "match", cmd_match, "copyright matches of images, with distances", policy=True)
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--registry", help="rights registry CSV (id,holder,status,hash)")
    p.add_argument("--training", help="training hashes CSV (e.g. the dataset manifest with a phash column)")
    p.add_argument("--training-id-column", default="item_id", help="id column of --training (default item_id)")
    p.add_argument("--ledger", default=".", help="without --registry/--training: match against the registry and "
                   "training manifest this ledger recorded (file or folder; default .)")


def _add_verify(sub: Any) -> None:
    p = _command(sub, "verify", cmd_verify, "re-hash every recorded artifact; check chain, signatures, anchor, C2PA")
    p.add_argument("path", nargs="?", default=None,
                   help="ledger file or folder (default: every ledger of the project in the working directory)")
    p.add_argument("--trusted-head", metavar="H", help="head kept outside the ledger: HASH, SEQ:HASH or a JSON file "
                   "(`governance anchor`, or the stage's governance.json metrics)")
    p.add_argument("--keyring", help="consultants' keyring YAML (default: governance/data/consultants.yaml)")
    p.add_argument("--c2pa-trust", metavar="PEM", help="trust anchors (root certificates) for C2PA signers")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _add_review(sub: Any) -> None:
    p = sub.add_parser("review", help="the cultural consultant's review queue")
    rsub = p.add_subparsers(dest="review_command", required=True)
    r = _command(rsub, "list", cmd_review_list, "held images waiting for a decision (--all: decided ones too)")
    r.add_argument("--ledger", default=None, help="ledger file or folder (default: the project's ledgers)")
    r.add_argument("--all", action="store_true")
    r.add_argument("--json", action="store_true")
    r = _command(rsub, "decide", cmd_review_decide, "enter a consultant's signed decision on a held image")
    r.add_argument("provenance_id")
    r.add_argument("--ledger", default=None, help="ledger file or folder (default: the project's first ledger)")
    r.add_argument("--consultant", required=True, help="your name, exactly as in the consultants' keyring")
    r.add_argument("--key", required=True, help="your Ed25519 private key (PEM; `governance consultant-key`)")
    r.add_argument("--keyring", help="consultants' keyring YAML (default: governance/data/consultants.yaml)")
    r.add_argument("--decision", required=True, choices=DECISIONS)
    r.add_argument("--rationale", required=True, help="why, in a sentence or two")


def _add_report(sub: Any) -> None:
    p = _command(sub, "report", cmd_report, "write the reviewer's report (HTML + JSON)", policy=True)
    p.add_argument("--ledger", default=None, help="ledger file or folder (default: every ledger of the project)")
    p.add_argument("--out", required=True, help="folder for report.html and report.json (one sub-folder per "
                   "ledger when there are several)")
    p.add_argument("--no-record", action="store_true", help="do not enter the report files in the ledger")


def _add_anchor(sub: Any) -> None:
    p = _command(sub, "anchor", cmd_anchor, "print the ledger's head, to keep outside it (for verify --trusted-head)")
    p.add_argument("ledger", nargs="?", default=None, help="ledger file or folder (default: the project's first)")
    p.add_argument("-o", "--output", help="also write it to this file")


def _add_consultant_key(sub: Any) -> None:
    p = _command(sub, "consultant-key", cmd_consultant_key, "make a consultant's key pair and print the keyring row")
    p.add_argument("name")
    p.add_argument("--role", default="cultural consultant")
    p.add_argument("--out", required=True, help="where to write the private key (PEM, mode 0600; never overwritten)")


def _add_calibrate(sub: Any) -> None:
    p = _command(sub, "calibrate", cmd_calibrate, "calibrate the copyright match threshold", policy=True)
    p.add_argument("--registered-dir", help="folder of registered works (default: procedural works)")
    p.add_argument("--unrelated-dir", help="folder of unrelated works (with --registered-dir)")
    p.add_argument("--ledger", help="enter the calibration in this ledger")
    p.add_argument("--json", action="store_true")


def _add_guardrails(sub: Any) -> None:
    p = _command(sub, "guardrails", cmd_guardrails, "measure refusals on the benign and hostile prompt sets",
                 policy=True)
    p.add_argument("--ledger", help="enter the measurement in this ledger")
    p.add_argument("--json", action="store_true")
    p.add_argument("--roles", choices=("clause", "naive"), default="clause",
                   help="posture holder rule: clause (in force) or naive (baseline, for comparison)")
    p.add_argument("--eval-dir", help="measure only the category files (*.yaml) of this folder, e.g. a new blind set")
    p.add_argument("--no-classifier", action="store_true",
                   help="the rules alone, without the learned dignity and letters classifiers (for comparison)")
    p.add_argument("--sets", nargs="+", default=["*"], metavar="GLOB",
                   help="only the category files whose name (without .yaml) matches, e.g. 'blind3_*' (default: all)")


def _add_prov_export(sub: Any) -> None:
    p = _command(sub, "prov-export", cmd_prov_export, "export the ledger as W3C PROV-JSON")
    p.add_argument("--ledger", default=".", help="ledger file or folder (default .)")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except _ERRORS as exc:
        print(f"governance {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
