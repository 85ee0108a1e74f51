"""The hash-chained ledger: appends commit to their predecessor, and every kind of tampering is named."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from governance.digest import CanonicalJSONError, canonical_json, sha256_json
from governance.ledger import ZERO_HASH, Ledger, LedgerError, check_chain_file

GOVERNANCE = Path(__file__).resolve().parents[1] / "governance"


def _inkgen_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
        found += [n for n in names if n == "inkgen" or n.startswith("inkgen.")]
    return found


def test_governance_never_imports_inkgen():
    # The scanner itself must see both import forms, also nested in a function.
    assert _inkgen_imports("import inkgen.cli\ndef f():\n    from inkgen import config\n") == ["inkgen.cli", "inkgen"]
    modules = sorted(GOVERNANCE.rglob("*.py"))
    assert len(modules) >= 8
    offenders = {p.name: _inkgen_imports(p.read_text(encoding="utf-8")) for p in modules}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_canonical_json_is_order_free_and_refuses_non_finite():
    assert canonical_json({"b": 1, "a": [1, "观音"]}) == '{"a":[1,"观音"],"b":1}'
    assert sha256_json({"x": 1, "y": 2}) == sha256_json({"y": 2, "x": 1})
    with pytest.raises(CanonicalJSONError, match=r"\$\.a\[0\]"):
        canonical_json({"a": [float("nan")]})
    with pytest.raises(CanonicalJSONError, match="not a string"):
        canonical_json({1: "x"})


def _ledger(tmp_path: Path, n: int = 5) -> Ledger:
    ledger = Ledger(tmp_path / "gov" / "ledger.jsonl", root=tmp_path)
    for i in range(n):
        ledger.append("note", {"i": i, "text": f"entry {i}"})
    return ledger


def test_entries_chain_and_head(tmp_path):
    ledger = _ledger(tmp_path)
    entries = list(ledger.entries())
    assert [e.seq for e in entries] == list(range(6))
    assert entries[0].kind == "genesis" and entries[0].prev == ZERO_HASH
    assert entries[0].payload["root"] == ".."
    for before, after in zip(entries, entries[1:]):
        assert after.prev == before.hash
        assert after.hash == after.computed_hash()
    assert ledger.head == entries[-1].hash
    assert check_chain_file(ledger.path)[1] == []
    reopened = Ledger(ledger.path)
    assert reopened.root == tmp_path.resolve()
    assert reopened.append("note", {"i": 9}).prev == entries[-1].hash


def test_opening_needs_root_and_refuses_a_different_one(tmp_path):
    with pytest.raises(LedgerError, match="needs the project root"):
        Ledger(tmp_path / "none.jsonl")
    ledger = _ledger(tmp_path, 1)
    with pytest.raises(LedgerError, match="root is"):
        Ledger(ledger.path, root=tmp_path / "elsewhere")


def test_bad_kind_and_payload_are_refused(tmp_path):
    ledger = _ledger(tmp_path, 0)
    with pytest.raises(LedgerError, match="kind"):
        ledger.append("Bad Kind", {})
    with pytest.raises(LedgerError, match="payload must be a dict"):
        ledger.append("note", ["x"])  # type: ignore[arg-type]
    with pytest.raises(CanonicalJSONError):
        ledger.append("note", {"x": float("inf")})
    assert len(list(ledger.entries())) == 1


def _lines(ledger: Ledger) -> list[str]:
    return ledger.path.read_text(encoding="utf-8").splitlines(keepends=True)


def _problems(ledger: Ledger) -> list[tuple[int, str]]:
    return [(p.line, p.problem) for p in check_chain_file(ledger.path)[1]]


def test_edited_entry_is_named(tmp_path):
    ledger = _ledger(tmp_path)
    lines = _lines(ledger)
    data = json.loads(lines[3])
    data["payload"]["text"] = "forged"
    lines[3] = json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"
    ledger.path.write_text("".join(lines), encoding="utf-8")
    assert _problems(ledger) == [(4, "edited")]


def test_edited_entry_with_recomputed_hash_breaks_the_next_link(tmp_path):
    ledger = _ledger(tmp_path)
    lines = _lines(ledger)
    data = json.loads(lines[3])
    data["payload"]["text"] = "forged"
    body = {k: data[k] for k in ("seq", "time", "kind", "payload", "prev")}
    data["hash"] = sha256_json(body)
    lines[3] = json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"
    ledger.path.write_text("".join(lines), encoding="utf-8")
    assert (5, "deleted_or_inserted") in _problems(ledger)


def test_deleted_entry_is_named(tmp_path):
    ledger = _ledger(tmp_path)
    lines = _lines(ledger)
    del lines[2]
    ledger.path.write_text("".join(lines), encoding="utf-8")
    assert _problems(ledger) == [(3, "deleted_or_inserted")]


def test_inserted_entry_is_named(tmp_path):
    ledger = _ledger(tmp_path)
    lines = _lines(ledger)
    lines.insert(2, lines[1])
    ledger.path.write_text("".join(lines), encoding="utf-8")
    assert (3, "reordered") in _problems(ledger)


def test_reordered_entries_are_named(tmp_path):
    ledger = _ledger(tmp_path)
    lines = _lines(ledger)
    lines[2], lines[3] = lines[3], lines[2]
    ledger.path.write_text("".join(lines), encoding="utf-8")
    found = _problems(ledger)
    assert (3, "deleted_or_inserted") in found and (4, "reordered") in found


def test_truncated_ledger_is_caught_by_the_head_sidecar(tmp_path):
    ledger = _ledger(tmp_path)
    lines = _lines(ledger)
    ledger.path.write_text("".join(lines[:-2]), encoding="utf-8")
    assert [p for _, p in _problems(ledger)] == ["truncated"]
    ledger.head_path.unlink()
    assert [p for _, p in _problems(ledger)] == ["truncated"]


def test_malformed_and_incomplete_lines(tmp_path):
    ledger = _ledger(tmp_path)
    lines = _lines(ledger)
    lines[2] = "{not json\n"
    ledger.path.write_text("".join(lines) + '{"seq": 6', encoding="utf-8")
    found = _problems(ledger)
    assert (3, "malformed") in found and (7, "incomplete") in found
    with pytest.raises(LedgerError, match="incomplete"):
        ledger.append("note", {"after": "broken"})
    with pytest.raises(LedgerError, match="line 3: not valid JSON"):
        list(ledger.entries())


def test_appends_never_rewrite_earlier_bytes(tmp_path):
    ledger = _ledger(tmp_path, 3)
    before = ledger.path.read_bytes()
    ledger.append("note", {"more": True})
    assert ledger.path.read_bytes().startswith(before)


def test_find_filters_by_kind_and_payload(tmp_path):
    ledger = _ledger(tmp_path, 4)
    assert [e.payload["i"] for e in ledger.find("note", i=2)] == [2]
    assert len(ledger.find("note")) == 4 and ledger.find("artifact") == []
