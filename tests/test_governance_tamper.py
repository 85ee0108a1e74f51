"""The tamper table: each way of rewriting a ledger or its images, and the problem `verify` names for it.

Every case starts from the same small world (an artifact, a released image, a held image with a signed
consultant approval, a prompt decision after the last generation), tampers with it as an adversary would,
and asserts that ``governance.verify.verify`` reports the named problem — with the trusted head given only
where the adversary is assumed to hold the writer key (then only the anchor outside the file can tell).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from governance.anchor import anchor_of, parse_anchor
from governance.copyright import check_output
from governance.decisions import check_prompt
from governance.digest import sha256_json
from governance.generation import record_generation, record_prompt_decision
from governance.ledger import ENTRY_PURPOSE, HEAD_PURPOSE, Ledger
from governance.policy import load_policy
from governance.provenance import record_artifact
from governance.review import decide
from governance.review_auth import sign_decision
from governance.signing import public_hex, sign
from governance.verify import verify
from governance_keys import consultant

WRITER = Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("tamper")
    policy = load_policy()
    ledger = Ledger(root / "gov" / "ledger.jsonl", root=root, key=WRITER)
    (root / "model.pt").write_bytes(b"weights")
    record_artifact(ledger, root / "model.pt", "checkpoint")
    for name, prompt, colour in (("a.png", "a misty mountain landscape", (90, 100, 110)),
                                 ("g.png", "a seated Guanyin on a lotus", (150, 120, 90))):
        img = Image.new("RGB", (16, 16), colour)
        record_generation(ledger, img, root / "out" / name, held_dir=root / "held", checkpoint=root / "model.pt",
                          prompt=prompt, decision=check_prompt(prompt, policy),
                          output_check=check_output(img, None, None, policy.copyright))
    key, keyring, ring_path = consultant(root / "keys", "A. Consultant", others=("B. Other",))
    held = ledger.find("review_request")[0].payload["provenance_id"]
    decide(ledger, held, consultant="A. Consultant", decision="approve", rationale="respectful, attributes correct",
           key=key, keyring=keyring)
    record_prompt_decision(ledger, "a lotus pond", check_prompt("a lotus pond", policy))
    anchor = anchor_of(ledger.path)
    result = verify(ledger.path, keyring=keyring, trusted_head=parse_anchor(f"{anchor['seq']}:{anchor['hash']}"))
    assert result.ok, [p.describe() for p in result.problems]
    return root, keyring, anchor


def _lines(root):
    return (root / "gov" / "ledger.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)


def _write(root, lines):
    (root / "gov" / "ledger.jsonl").write_text("".join(lines), encoding="utf-8")


def _entry_line(body, key):
    digest = sha256_json(body)
    line = {**body, "hash": digest, "sig": sign(key, ENTRY_PURPOSE, digest)}
    return json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _resign(root, lines, key, *, edit=None, genesis_key=False):
    """Recompute every hash and signature with ``key`` (a consistent rewrite), after ``edit(i, data)``."""
    out, prev = [], "0" * 64
    for i, line in enumerate(lines):
        data = json.loads(line)
        if edit:
            edit(i, data)
        data.pop("hash"), data.pop("sig")
        data["prev"], data["seq"], data["signer"] = prev, i, public_hex(key.public_key())
        if genesis_key and data["kind"] == "genesis":
            data["payload"]["writer_key"] = public_hex(key.public_key())
        out.append(_entry_line(data, key))
        prev = json.loads(out[-1])["hash"]
    _write(root, out)
    _head(root, out, key)
    return out


def _head(root, lines, key):
    last = json.loads(lines[-1])
    head = {"seq": last["seq"], "hash": last["hash"]}
    (root / "gov" / "ledger.jsonl.head").write_text(json.dumps(
        {**head, "signer": public_hex(key.public_key()), "sig": sign(key, HEAD_PURPOSE, head)}) + "\n")


def _append(root, kind, payload, key):
    lines = _lines(root)
    last = json.loads(lines[-1])
    body = {"seq": last["seq"] + 1, "time": last["time"], "kind": kind, "payload": payload, "prev": last["hash"],
            "signer": public_hex(key.public_key())}
    lines.append(_entry_line(body, key))
    _write(root, lines)
    _head(root, lines, key)


def _gen(root):
    return [json.loads(x) for x in _lines(root) if '"kind":"generation"' in x]


def _decision_payload(root, keyring, key, name, pid, sha):
    genesis = json.loads(_lines(root)[0])["hash"]
    p = {"provenance_id": pid, "consultant": name, "decided_at": "2026-01-01T00:00:00Z", "decision": "approve",
         "rationale": "looks fine to me, approve"}
    return {**p, **sign_decision(key, p, genesis, sha), "released_path": None, "still_held_for": []}


# each case: (name, tamper(root, keyring), expected problem, needs the anchor)
def t_truncate(root, kr):
    _write(root, _lines(root)[:-1])


def t_truncate_head_unsigned(root, kr):
    lines = _lines(root)[:-2]
    _write(root, lines)
    last = json.loads(lines[-1])
    h = json.loads((root / "gov" / "ledger.jsonl.head").read_text())
    h.update(seq=last["seq"], hash=last["hash"])
    (root / "gov" / "ledger.jsonl.head").write_text(json.dumps(h))


def t_truncate_head_resigned_by_writer(root, kr):
    lines = _lines(root)[:-1]
    _write(root, lines)
    _head(root, lines, WRITER)


def t_cut_all_generations_keep_pngs(root, kr):
    lines = _lines(root)
    first = next(i for i, x in enumerate(lines) if '"kind":"generation"' in x)
    _write(root, lines[:first])
    _head(root, lines[:first], WRITER)


def t_consistent_rewrite_own_key(root, kr):
    _resign(root, _lines(root), Ed25519PrivateKey.generate(),
            edit=lambda i, d: d["payload"].update(prompt="x") if d["kind"] == "generation" else None)


def t_consistent_rewrite_writer_key_relabelled(root, kr):
    lines = _resign(root, _lines(root), WRITER,
                    edit=lambda i, d: d["payload"].update(prompt="x") if d["kind"] == "generation" else None)
    for g in [json.loads(x) for x in lines if '"kind":"generation"' in x]:
        from governance.pngmeta import save_with_provenance
        path = root / g["payload"]["path"]
        save_with_provenance(Image.open(path).convert("RGB"), path, provenance_id=g["payload"]["provenance_id"],
                             ledger_head=g["prev"])


def t_key_swap_from_genesis(root, kr):
    _resign(root, _lines(root), Ed25519PrivateKey.generate(), genesis_key=True)


def t_forged_decision_no_key(root, kr):
    lines = _lines(root)
    d = json.loads(lines[-1])
    d.update(seq=d["seq"] + 1, prev=d["hash"], kind="review_decision")
    lines.append(json.dumps(d) + "\n")
    _write(root, lines)


def t_forged_decision_writer_key_unsigned(root, kr):
    g = _gen(root)[1]["payload"]
    _append(root, "review_decision", {"provenance_id": g["provenance_id"], "consultant": "A. Consultant",
                                      "decided_at": "x", "decision": "reject", "rationale": "forged by a writer"}, WRITER)


def t_unlisted_consultant(root, kr):
    g = _gen(root)[0]["payload"]
    _append(root, "review_request", {"provenance_id": g["provenance_id"], "path": g["path"], "motifs": []}, WRITER)
    _append(root, "review_decision", _decision_payload(root, kr, Ed25519PrivateKey.generate(), "Mallory",
                                                       g["provenance_id"], g["sha256"]), WRITER)


def t_bidi_consultant_name(root, kr):
    g = _gen(root)[0]["payload"]
    key = Ed25519PrivateKey.generate()
    _append(root, "review_request", {"provenance_id": g["provenance_id"], "path": g["path"], "motifs": []}, WRITER)
    _append(root, "review_decision", _decision_payload(root, kr, key, "x\u202e", g["provenance_id"], g["sha256"]),
            WRITER)


def t_duplicate_decision(root, kr):
    lines = _lines(root)
    dec = next(json.loads(x) for x in lines if '"kind":"review_decision"' in x)
    _append(root, "review_decision", dec["payload"], WRITER)


def t_decision_replayed_on_other_image(root, kr):
    lines = _lines(root)
    dec = next(json.loads(x) for x in lines if '"kind":"review_decision"' in x)["payload"]
    g = _gen(root)[0]["payload"]
    _append(root, "review_request", {"provenance_id": g["provenance_id"], "path": g["path"], "motifs": []}, WRITER)
    _append(root, "review_decision", {**dec, "provenance_id": g["provenance_id"]}, WRITER)


def t_edit_after_last_generation_no_key(root, kr):
    lines = _lines(root)
    lines[-1] = lines[-1].replace("a lotus pond", "a lotus pond at night")
    _write(root, lines)


def t_edit_after_last_generation_writer_key(root, kr):
    lines = _lines(root)
    _resign(root, lines, WRITER, edit=lambda i, d: d["payload"].update(prompt="changed")
            if i == len(lines) - 1 else None)


def _edit_payload(field_edit):
    def tamper(root, kr):
        lines = _lines(root)
        i = next(i for i, x in enumerate(lines) if '"kind":"artifact"' in x)
        d = json.loads(lines[i])
        field_edit(d)
        lines[i] = json.dumps(d) + "\n"
        _write(root, lines)
    return tamper


def _edit_payload_resigned(field_edit):
    def tamper(root, kr):
        lines = _lines(root)
        i = next(i for i, x in enumerate(lines) if '"kind":"artifact"' in x)
        _resign(root, lines, WRITER, edit=lambda j, d: field_edit(d) if j == i else None)
    return tamper


def t_malformed_json(root, kr):
    lines = _lines(root)
    lines[2] = lines[2][:40] + "\n"
    _write(root, lines)


def t_reordered(root, kr):
    lines = _lines(root)
    lines[2], lines[3] = lines[3], lines[2]
    _write(root, lines)


def t_duplicate_line(root, kr):
    lines = _lines(root)
    _write(root, lines[:3] + [lines[2]] + lines[3:])


def t_deleted_middle(root, kr):
    lines = _lines(root)
    _write(root, lines[:2] + lines[3:])


def t_inserted(root, kr):
    lines = _lines(root)
    d = json.loads(lines[2])
    d["payload"] = {**d["payload"], "note": "inserted"}
    _write(root, lines[:3] + [json.dumps(d) + "\n"] + lines[3:])


def t_head_deleted(root, kr):
    (root / "gov" / "ledger.jsonl.head").unlink()


def t_head_garbage(root, kr):
    (root / "gov" / "ledger.jsonl.head").write_text("{not json")


def t_incomplete_last_line(root, kr):
    lines = _lines(root)
    lines[-1] = lines[-1][:-30]
    _write(root, lines)


def t_artifact_changed(root, kr):
    (root / "model.pt").write_bytes(b"other weights")


def t_artifact_deleted(root, kr):
    (root / "model.pt").unlink()


def t_png_pixels(root, kr):
    path = root / _gen(root)[0]["payload"]["path"]
    data = bytearray(path.read_bytes())
    i = data.find(b"IDAT")
    data[i + 8] ^= 0x5A
    path.write_bytes(bytes(data))


def t_png_swapped(root, kr):
    a, b = root / "out" / "a.png", root / "out" / "g.png"
    tmp = root / "swap.png"
    shutil.move(a, tmp), shutil.move(b, a), shutil.move(tmp, b)


def t_png_credential_stripped(root, kr):
    path = root / _gen(root)[0]["payload"]["path"]
    Image.open(path).convert("RGB").save(path)


def t_signature_garbled(root, kr):
    lines = _lines(root)
    d = json.loads(lines[1])
    d["sig"] = base64.b64encode(b"\0" * 64).decode()
    lines[1] = json.dumps(d) + "\n"
    _write(root, lines)


CASES = [
    ("truncate the last entry", t_truncate, "truncated", False),
    ("truncate + rewrite .head (no key)", t_truncate_head_unsigned, "head_forged", False),
    ("truncate + .head re-signed with the writer key", t_truncate_head_resigned_by_writer, "truncated", True),
    ("cut every generation record, PNGs kept", t_cut_all_generations_keep_pngs, "truncated", True),
    ("consistent rewrite signed with another key", t_consistent_rewrite_own_key, "unknown_signer", False),
    ("consistent rewrite with the writer key, PNGs relabelled", t_consistent_rewrite_writer_key_relabelled,
     "rewritten", True),
    ("  ... same, caught without anchor by the C2PA credential", t_consistent_rewrite_writer_key_relabelled,
     "credential_absent", False),
    ("key swap from genesis", t_key_swap_from_genesis, "rewritten", True),
    ("  ... same, caught without anchor by the images' embedded heads", t_key_swap_from_genesis, "truncated", False),
    ("forged decision appended (no key)", t_forged_decision_no_key, "edited", False),
    ("forged decision with writer key, no consultant signature", t_forged_decision_writer_key_unsigned,
     "unsigned_decision", False),
    ("decision by an unlisted consultant key", t_unlisted_consultant, "unlisted_consultant", False),
    ("bidi-control consultant name", t_bidi_consultant_name, "bad_consultant_name", False),
    ("second decision on a decided image", t_duplicate_decision, "duplicate_decision", False),
    ("decision replayed onto another image", t_decision_replayed_on_other_image, "forged_decision", False),
    ("edit after the last generation (no key)", t_edit_after_last_generation_no_key, "edited", False),
    ("edit after the last generation, re-signed with the writer key", t_edit_after_last_generation_writer_key,
     "rewritten", True),
    ("artifact entry without sha256", _edit_payload(lambda d: d["payload"].pop("sha256")), "malformed", False),
    ("artifact without sha256, re-signed with the writer key",
     _edit_payload_resigned(lambda d: d["payload"].pop("sha256")), "malformed", False),
    ("artifact path climbing out of the project, re-signed",
     _edit_payload_resigned(lambda d: d["payload"].update(path="../../etc/passwd")), "malformed", False),
    ("artifact sha256 of the wrong type, re-signed",
     _edit_payload_resigned(lambda d: d["payload"].update(sha256=12)), "malformed", False),
    ("seq of the wrong type", _edit_payload(lambda d: d.update(seq="3")), "malformed", False),
    ("payload not an object", _edit_payload(lambda d: d.update(payload=[1])), "malformed", False),
    ("malformed JSON line", t_malformed_json, "malformed", False),
    ("reordered lines", t_reordered, "reordered", False),
    ("duplicated line", t_duplicate_line, "reordered", False),
    ("deleted middle entry", t_deleted_middle, "deleted_or_inserted", False),
    ("inserted entry", t_inserted, "reordered", False),
    ("head sidecar deleted", t_head_deleted, "truncated", False),
    ("head sidecar garbage", t_head_garbage, "truncated", False),
    ("last line cut short", t_incomplete_last_line, "incomplete", False),
    ("signature garbled", t_signature_garbled, "bad_signature", False),
    ("recorded artifact changed", t_artifact_changed, "changed", False),
    ("recorded artifact deleted", t_artifact_deleted, "missing", False),
    ("generated PNG pixels edited", t_png_pixels, "credential_invalid", False),
    ("two generated PNGs swapped", t_png_swapped, "swapped", False),
    ("C2PA credential stripped (image re-saved)", t_png_credential_stripped, "credential_absent", False),
]


@pytest.mark.parametrize("name,tamper,expected,anchored", CASES, ids=[c[0].strip(" .") for c in CASES])
def test_tamper_is_caught_and_named(pristine, tmp_path, name, tamper, expected, anchored):
    src, keyring, anchor = pristine
    root = tmp_path / "w"
    shutil.copytree(src, root)
    tamper(root, keyring)
    trusted = parse_anchor(f"{anchor['seq']}:{anchor['hash']}") if anchored else None
    result = verify(root / "gov" / "ledger.jsonl", keyring=keyring, trusted_head=trusted)  # never raises
    found = {p.problem for p in result.problems}
    assert expected in found, (name, [p.describe() for p in result.problems])


def test_downstream_stages_are_not_recorded_by_the_governance_stage():
    from inkgen.pipeline_ledger import downstream_stages

    lock = {"stages": {
        "prior": {"deps": [{"path": "data/dataset"}], "outs": [{"path": "models/prior/full"}]},
        "governance": {"deps": [{"path": "models/prior/full"}], "outs": [{"path": "reports/governance"}]},
        "study": {"deps": [{"path": "reports/metrics/governance.json"}], "outs": [{"path": "reports/notebooks/09.ipynb"}]},
        "after_study": {"deps": [{"path": "reports/notebooks/09.ipynb"}], "outs": [{"path": "x"}]}}}
    assert downstream_stages(lock, {"reports/governance", "reports/metrics/governance.json"}) == {"study", "after_study"}


def test_stale_lock_entries_are_listed_not_recorded(tmp_path):
    """DVC keeps the lock entries of a renamed stage; the governance stage must not enter them as pipeline."""
    from governance.ledger import Ledger
    from inkgen.pipeline_ledger import defined_stages, record_pipeline

    (tmp_path / "params.yaml").write_text("seeds: [1, 2]\n")
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  prior:\n    matrix:\n      seed: ${seeds}\n    cmd: cp a b-${item.seed}\n"
        "    deps:\n      - a\n    outs:\n      - b-${item.seed}\n")
    (tmp_path / "a").write_text("in")
    for s in (1, 2):
        (tmp_path / f"b-{s}").write_text(f"out {s}")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=tmp_path, check=True)
    stage = {"cmd": "x", "deps": [{"path": "a"}], "outs": [{"path": "b-1"}]}
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": {
        "prior@1": stage, "prior@2": {**stage, "outs": [{"path": "b-2"}]}, "train@1": stage}}))
    assert defined_stages(tmp_path) == {"prior@1", "prior@2"}
    ledger = Ledger(tmp_path / "gov" / "ledger.jsonl", root=tmp_path)
    table = record_pipeline(ledger, tmp_path, tmp_path / "dvc.lock", defined=defined_stages(tmp_path))
    assert table.set_index("stage")["recorded"].to_dict() == {"prior@1": True, "prior@2": True, "train@1": False}
    assert "stale dvc.lock entry" in table.set_index("stage").loc["train@1", "missing"]
    assert sorted(e.payload["name"] for e in ledger.entries() if e.kind == "stage") == ["prior@1", "prior@2"]


def test_held_folder_at_or_inside_the_output_folder_is_refused(tmp_path):
    from governance.generation import GenerationError, check_held_dir

    for held, out in ((tmp_path / "out", tmp_path / "out" / "g2.png"), (tmp_path / "out" / "held", tmp_path / "out" / "g.png"),
                      (tmp_path / "held", tmp_path / "held" / "sub" / "g.png")):
        with pytest.raises(GenerationError, match="held folder"):
            check_held_dir(held, out, tmp_path)
    check_held_dir(tmp_path / "held", tmp_path / "out" / "g.png", tmp_path)
    check_held_dir(tmp_path / "outputs" / "held", tmp_path / "g.png", tmp_path)  # --out x.png in the project root


def test_verify_and_review_list_find_the_project_ledgers(pristine, tmp_path, monkeypatch, capsys):
    import yaml

    from governance import cli

    src, keyring, anchor = pristine
    root = tmp_path / "proj"
    shutil.copytree(src, root)
    (root / "params.yaml").write_text(yaml.safe_dump({"paths": {"governance": "gov", "metrics": "m"},
                                                       "governance": {"ledger": "gen/ledger.jsonl"}}))
    (root / "m").mkdir()
    (root / "m" / "governance_anchor.json").write_text(json.dumps(anchor))
    monkeypatch.chdir(root)
    ring = src / "keys" / "consultants.yaml"
    assert cli.main(["verify", "--keyring", str(ring)]) == 0
    out = capsys.readouterr().out
    assert "governance stage ledger" in out and "anchored: seq" in out and "C2PA credentials: 3 Valid" in out
    assert cli.main(["review", "list", "--all"]) == 0
    assert "approve" in capsys.readouterr().out
    assert cli.main(["report", "--out", str(tmp_path / "rep"), "--no-record"]) == 0
    assert "governance stage ledger" in capsys.readouterr().out and (tmp_path / "rep" / "report.html").is_file()
    _write(root, _lines(root)[:-1])
    _head(root, _lines(root), WRITER)
    assert cli.main(["verify", "--keyring", str(ring)]) == 1
    assert "PROBLEM trusted head" in capsys.readouterr().out


def test_report_reads_the_credentials_back_and_says_what_was_not_checked(pristine, tmp_path):
    from governance.report import build_report_data

    src, keyring, _ = pristine
    root = tmp_path / "w"
    shutil.copytree(src, root)
    ledger = Ledger(root / "gov" / "ledger.jsonl", key=WRITER)
    data = build_report_data(ledger, load_policy())
    first = data["outputs"][0]
    assert first["credential"].startswith("Valid: signed by") and "development certificate chain" in first["credential"]
    assert "copyright registry: not checked (no rights registry given)" in first["checks"] or \
        "copyright registry: not checked" in first["checks"]
    t_png_pixels(root, keyring)
    assert build_report_data(ledger, load_policy())["outputs"][0]["credential"].startswith("does NOT validate (Invalid)")


# What the ledger cannot catch without a head kept outside it: an adversary holding the writer key who
# cuts or edits entries after the last generation and re-signs the head. Stated, and checked to stay so.
UNDETECTED_WITHOUT_ANCHOR = [
    ("truncate + .head re-signed with the writer key", t_truncate_head_resigned_by_writer),
    ("edit after the last generation, re-signed with the writer key", t_edit_after_last_generation_writer_key),
]


@pytest.mark.parametrize("name,tamper", UNDETECTED_WITHOUT_ANCHOR, ids=[c[0] for c in UNDETECTED_WITHOUT_ANCHOR])
def test_known_limit_without_an_anchor(pristine, tmp_path, name, tamper):
    src, keyring, _ = pristine
    root = tmp_path / "w"
    shutil.copytree(src, root)
    tamper(root, keyring)
    assert verify(root / "gov" / "ledger.jsonl", keyring=keyring).ok  # only --trusted-head catches these


def test_a_new_writer_after_the_anchor_is_named_when_the_anchor_lists_its_writers(pristine, tmp_path):
    src, keyring, anchor = pristine
    root = tmp_path / "w"
    shutil.copytree(src, root)
    other = Ledger(root / "gov" / "ledger.jsonl", key=Ed25519PrivateKey.generate())
    record_artifact(other, root / "model.pt", "checkpoint")  # announces its key, then appends
    path = tmp_path / "anchor.json"
    path.write_text(json.dumps(anchor))
    assert verify(other.path, keyring=keyring).ok  # a new writer is allowed ...
    result = verify(other.path, keyring=keyring, trusted_head=parse_anchor(str(path)))
    assert {p.problem for p in result.problems} == {"unanchored_writer"}  # ... but named against the anchor


def test_approving_into_a_recorded_folder_keeps_verify_green(tmp_path):
    from governance.provenance import record_stage

    policy = load_policy()
    ledger = Ledger(tmp_path / "gov" / "ledger.jsonl", root=tmp_path, key=WRITER)
    (tmp_path / "model.pt").write_bytes(b"w")
    recs = []
    for name, prompt in (("05.png", "a misty river"), ("06.png", "a seated Guanyin on a lotus")):
        img = Image.new("RGB", (16, 16), (len(name) * 9, 80, 90))
        recs.append(record_generation(ledger, img, tmp_path / "images" / name, held_dir=tmp_path / "held",
                                      checkpoint=tmp_path / "model.pt", prompt=prompt,
                                      decision=check_prompt(prompt, policy),
                                      output_check=check_output(img, None, None, policy.copyright)))
    record_stage(ledger, "governance", [str(tmp_path / "model.pt")], {}, [str(tmp_path / "images")])
    key, keyring, _ = consultant(tmp_path / "keys")
    decide(ledger, recs[1].provenance_id, consultant="A. Consultant", decision="approve",
           rationale="respectful depiction, approved", key=key, keyring=keyring)
    assert (tmp_path / "images" / "06.png").is_file()
    result = verify(ledger.path, keyring=keyring)
    assert result.ok, [p.describe() for p in result.problems]  # was: images/06.png: added
    (tmp_path / "images" / "07.png").write_bytes(b"smuggled")
    assert {p.problem for p in verify(ledger.path, keyring=keyring).problems} == {"added"}


def test_c2pa_trusted_with_the_chain_root_and_invalid_after_a_pixel_edit(pristine, tmp_path):
    from governance.credentials import signing_chain

    src, keyring, _ = pristine
    root = tmp_path / "w"
    shutil.copytree(src, root)
    trust = signing_chain().root_pem  # the development chain the tests' governance home created
    assert verify(root / "gov" / "ledger.jsonl", keyring=keyring).credentials == {"Valid": 3}
    result = verify(root / "gov" / "ledger.jsonl", keyring=keyring, c2pa_trust=trust)
    assert result.ok and result.credentials == {"Trusted": 3}
    t_png_pixels(root, keyring)
    result = verify(root / "gov" / "ledger.jsonl", keyring=keyring, c2pa_trust=trust)
    assert result.credentials.get("Invalid") == 1
    assert any(p.problem == "credential_invalid" and "dataHash.mismatch" in p.detail for p in result.problems)


def test_prov_export_links_a_consultant_review_to_its_consultant_held_image_and_release(pristine):
    """PROV-DM of the review path: the ConsultantReview activity is associated with the consultant's agent,
    used the held image, and generated the released copy."""
    from governance.prov_export import prov_json

    root, _, _ = pristine
    doc = json.loads(prov_json(Ledger(root / "gov" / "ledger.jsonl").entries()))
    review = next(k for k, a in doc["activity"].items() if "ConsultantReview" in str(a["prov:type"]))
    consultant_agent = next(k for k, a in doc["agent"].items() if "A. Consultant" in str(a["prov:label"]))
    assert any(r["prov:activity"] == review and r["prov:agent"] == consultant_agent
               for r in doc["wasAssociatedWith"].values())
    gen = Ledger(root / "gov" / "ledger.jsonl").find("generation")
    held_sha = next(e.payload["sha256"] for e in gen if e.payload["status"] == "held")
    assert any(r["prov:activity"] == review and r["prov:entity"] == f"art:{held_sha}" for r in doc["used"].values())
    assert any(r["prov:activity"] == review for r in doc["wasGeneratedBy"].values())
