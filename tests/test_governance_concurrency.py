"""Concurrent consultant decisions on one held image, from real processes: the first stands, the rest are
refused with the reason (who decided what, when)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from governance.copyright import check_output
from governance.decisions import check_prompt
from governance.generation import record_generation
from governance.ledger import Ledger
from governance.policy import load_policy
from governance.review import review_items
from governance.verify import verify
from governance_keys import consultant

SCRIPT = """
import sys
from governance.ledger import Ledger
from governance.review import ReviewError, decide
from governance.signing import load_keyring, load_private
ledger, pid, key, ring, decision = sys.argv[1:6]
try:
    decide(Ledger(ledger), pid, consultant="A. Consultant", decision=decision, rationale="decided concurrently",
           key=load_private(key), keyring=load_keyring(ring))
    print("DECIDED")
except ReviewError as exc:
    print("REFUSED", exc)
"""


def test_concurrent_decisions_first_stands(tmp_path):
    policy = load_policy()
    ledger = Ledger(tmp_path / "gov" / "ledger.jsonl", root=tmp_path)
    (tmp_path / "model.pt").write_bytes(b"w")
    prompt = "a seated Guanyin on a lotus"
    img = Image.new("RGB", (16, 16), (120, 110, 90))
    rec = record_generation(ledger, img, tmp_path / "out" / "g.png", held_dir=tmp_path / "held",
                            checkpoint=tmp_path / "model.pt", prompt=prompt, decision=check_prompt(prompt, policy),
                            output_check=check_output(img, None, None, policy.copyright))
    _, keyring, ring = consultant(tmp_path / "keys")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1])] + sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(ledger.path), rec.provenance_id,
                               str(tmp_path / "keys" / "key-0.pem"), str(ring), d], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
             for d in ("approve", "reject", "approve", "reject")]
    outs = [p.communicate(timeout=120) for p in procs]
    lines = [o.strip() for o, _ in outs]
    assert sum(x == "DECIDED" for x in lines) == 1, (lines, [e for _, e in outs])
    assert all("already decided" in x and "decisions are final" in x for x in lines if x != "DECIDED")
    decisions = Ledger(ledger.path).find("review_decision")
    assert len(decisions) == 1
    (item,) = review_items(Ledger(ledger.path))
    released = (tmp_path / "out" / "g.png").exists()
    assert released == (item.decision["decision"] == "approve")  # what list says is what happened
    result = verify(ledger.path, keyring=keyring)
    assert result.ok, [p.describe() for p in result.problems]
