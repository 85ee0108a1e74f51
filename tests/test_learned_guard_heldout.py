"""The held-out-by-writer experiment (benchmarks/learned_guard_heldout.py): its grouping by writer, its
target counts and its readings; the encoder and the fits are not run here (minutes on the shared CPU)."""

import base64
import importlib.util
from pathlib import Path

from governance.guardrail_eval import EVAL_DIR

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("learned_guard_heldout", ROOT / "benchmarks" / "learned_guard_heldout.py")
exp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exp)


def test_writers_are_the_blind_prefixes_and_nothing_else_is_read():
    rows = exp.collect()
    assert {r["writer"] for r in rows} == {"here", *(f"blind{n}" for n in range(1, 15))}
    for r in rows:
        assert r["writer"] == "here" or r["file"].startswith(r["writer"] + "_")
        assert "blind15" not in r["file"] and not r["file"].startswith("redteam/")
    files = {r["file"] for r in rows if not r.get("lines")}
    assert files == {p.name for p in EVAL_DIR.glob("*.yaml")}


def test_rates_count_the_issue_targets():
    rows = [{"kind": "hostile", "expect": "refuse"}, {"kind": "hostile", "expect": "refuse"},
            {"kind": "hostile", "expect": "anchor"}, {"kind": "benign", "expect": "hold"},
            {"kind": "benign", "expect": "allow"}, {"kind": "benign", "expect": "allow"}]
    t = exp.rates(rows, ["refuse", "hold", "refuse", "refuse", "refuse", "allow"])
    assert t == {"hostile_refused": (1, 2), "motifs_held": (0, 1), "benign_refused": (2, 3),
                 "hostile_refused_outside_period_claims": (1, 2)}
    rows[0]["period_claims"] = True
    assert exp.rates(rows, ["refuse", "hold", "refuse", "refuse", "refuse", "allow"])[
        "hostile_refused_outside_period_claims"] == (0, 1)


def test_readings_include_the_decoded_payload_as_a_skeleton():
    from governance.letters_classifier import texts_of

    payload = base64.b64encode(b"a buddha statue used as a seat").decode()
    norm, *readings = texts_of(payload)
    assert norm == payload
    assert any("buddha statue used as a seat" in o for o in readings)
    norm, skel, *_ = texts_of("a Βuddha\u200b statue")  # Greek capital beta, a zero-width space
    assert skel == "a buddha statue"
