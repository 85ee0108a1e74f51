"""End to end: generation gate, consultant review, reviewer's report in a real browser, and the CLI."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from governance import cli
from governance.calibration import calibrate, procedural_work, record_calibration
from governance.copyright import check_output, load_training_hashes
from governance.decisions import check_prompt
from governance.generation import GenerationError, record_generation, record_prompt_decision
from governance.guardrail_eval import evaluate, record_guardrail_eval
from governance.ledger import Ledger
from governance.phash import phash, to_hex
from governance.pngmeta import read_provenance
from governance.policy import load_policy
from governance.provenance import record_artifact, record_source_records
from governance.registry import RegisteredWork, load_registry, write_registry
from governance.report import build_report_data, write_report
from governance.review import ReviewError, decide, pending
from governance_keys import consultant
from governance.verify import verify

CHROMIUM = shutil.which("chromium") or (Path("/usr/bin/chromium").exists() and "/usr/bin/chromium") or None


def _painting(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (64, 64), (240, 232, 210))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0, x1, y1 = (int(v) for v in rng.integers(0, 64, 4))
        draw.line([(x0, y0), (x1, y1)], fill=(30, 30, 30), width=int(rng.integers(1, 5)))
    return img


@pytest.fixture()
def world(tmp_path):
    """A ledger with source records, a manifest and a checkpoint; a registry with one protected work."""
    policy = load_policy()
    ledger = Ledger(tmp_path / "governance" / "ledger.jsonl", root=tmp_path)
    record_source_records(ledger, [{"item_id": f"i{i}", "license": "CC0", "sha256": f"{i + 1:064x}",
                                    "url": f"https://example.org/{i}"} for i in range(3)])
    train_imgs = [_painting(100 + i) for i in range(3)]
    manifest = tmp_path / "data" / "manifest.csv"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("item_id,phash\n" + "".join(f"i{i},{to_hex(phash(im))}\n" for i, im in enumerate(train_imgs)))
    man = record_artifact(ledger, manifest, "training_manifest", sources=["i0", "i1", "i2"])
    ckpt = tmp_path / "models" / "model.pt"
    ckpt.parent.mkdir()
    ckpt.write_bytes(b"checkpoint")
    record_artifact(ledger, ckpt, "checkpoint", derived_from=[man])
    protected = procedural_work(7, 64)
    write_registry(tmp_path / "registry.csv", [RegisteredWork("reg-1", "Estate of a Painter", "protected",
                                                              phash(protected), "Protected Work")])
    registry = load_registry(tmp_path / "registry.csv", policy.copyright.registry_statuses)
    training = load_training_hashes(manifest)
    return tmp_path, policy, ledger, ckpt, registry, training, train_imgs, protected


def _generate(world, prompt, image, name):
    root, policy, ledger, ckpt, registry, training, *_ = world
    decision = check_prompt(prompt, policy)
    if decision.action == "refuse":
        record_prompt_decision(ledger, prompt, decision)
        return decision, None
    check = check_output(image, registry, training, policy.copyright)
    return decision, record_generation(ledger, image, root / "outputs" / name, held_dir=root / "held", checkpoint=ckpt,
                                       prompt=prompt, decision=decision, output_check=check, seed=1,
                                       params={"steps": 8})


def test_generation_gate_review_and_verify(world):
    root, policy, ledger, ckpt, registry, training, train_imgs, protected = world
    _, ok = _generate(world, "a misty mountain landscape", _painting(1), "a.png")
    assert ok.status == "released" and ok.path == root / "outputs" / "a.png"
    meta = read_provenance(ok.path)
    assert meta["provenance_id"] == ok.provenance_id and meta["record"]["prompt"] == "a misty mountain landscape"
    assert meta["ledger_head"] == ok.entry.prev  # made under the head just before its own entry
    _, copy = _generate(world, "autumn hills", ImageOps.mirror(protected), "b.png")
    assert copy.status == "held" and copy.held_for == ("copyright",) and copy.path == root / "held" / "b.png"
    assert not (root / "outputs" / "b.png").exists()
    assert len(ledger.find("artifact", role="checkpoint")) == 1  # not re-recorded per image
    _, memo = _generate(world, "ink strokes", train_imgs[1], "c.png")
    assert memo.held_for == ("copyright",) and "i1" in memo.entry.payload["copyright"]["reasons"][0]
    d, sacred = _generate(world, "a Tang-dynasty Guanyin in Ming costume", _painting(2), "d.png")
    assert sacred.held_for == ("consultant_review",) and sacred.entry.payload["prompt_used"] == d.prompt
    d, none = _generate(world, "Buddha upside down", _painting(3), "e.png")
    assert none is None and ledger.find("prompt_decision")[0].payload["decision"]["action"] == "refuse"
    with pytest.raises(GenerationError, match="refused"):
        record_generation(ledger, _painting(3), root / "outputs" / "e.png", held_dir=root / "held", checkpoint=ckpt,
                          prompt="Buddha upside down", decision=d, output_check=None)
    # Lineage of a generated image reaches the source records and their licences.
    data = build_report_data(ledger, policy)
    first = data["outputs"][0]
    assert first["licences"] == "CC0 (3 items)" and any("checkpoint" in c for c in first["chain"])
    # The review queue.
    assert [i.provenance_id for i in pending(ledger)] == [sacred.provenance_id]
    key, keyring, _ = consultant(root / "keys", "Ven. Miaoshan (consultant)", others=("Y. Other",))
    with pytest.raises(ReviewError, match="needs a rationale"):
        decide(ledger, sacred.provenance_id, consultant="Ven. Miaoshan (consultant)", decision="approve",
               rationale=" ", key=key, keyring=keyring)
    with pytest.raises(ReviewError, match="not a consultant"):
        decide(ledger, sacred.provenance_id, consultant="X", decision="approve", rationale="fine enough here",
               key=key, keyring=keyring)
    with pytest.raises(ReviewError, match="no review request"):
        decide(ledger, copy.provenance_id, consultant="Ven. Miaoshan (consultant)", decision="approve",
               rationale="fine enough here", key=key, keyring=keyring)
    decide(ledger, sacred.provenance_id, consultant="Ven. Miaoshan (consultant)", decision="approve",
           rationale="Costume anchored to Tang; posture and attributes respectful.", decided_at="2025-01-02T10:00:00Z",
           key=key, keyring=keyring)
    released = Image.open(root / "outputs" / "d.png").convert("RGB")
    assert released.tobytes() == Image.open(sacred.path).convert("RGB").tobytes()
    assert pending(ledger) == []
    with pytest.raises(ReviewError, match="already decided"):
        decide(ledger, sacred.provenance_id, consultant="Ven. Miaoshan (consultant)", decision="reject",
               rationale="changed my mind", key=key, keyring=keyring)
    result = verify(ledger.path, keyring=keyring)
    assert result.ok, [p.describe() for p in result.problems]
    assert result.images_checked == 4
    ckpt.write_bytes(b"retrained")  # a new checkpoint is recorded before the next image links to it
    _, later = _generate(world, "a lotus pond", _painting(9), "f.png")
    assert later.entry.payload["checkpoint_sha256"] == ledger.find("artifact", role="checkpoint")[-1].payload["sha256"]
    assert len(ledger.find("artifact", role="checkpoint")) == 2
    # A generated image relabelled, or a ledger cut back to before an image was made, is caught.
    head_before = ledger.head_path.read_text()
    lines = ledger.path.read_text(encoding="utf-8").splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if ok.entry.hash in line)
    ledger.path.write_text("".join(lines[:cut - 1]) + lines[cut], encoding="utf-8")
    problems = {p.problem for p in verify(ledger.path).problems}
    assert "truncated" in problems and "deleted_or_inserted" in problems
    ledger.path.write_text("".join(lines), encoding="utf-8")
    ledger.head_path.write_text(head_before)
    Image.open(copy.path).save(copy.path)  # re-saved without its provenance chunks
    found = {(p.item, p.problem) for p in verify(ledger.path).problems}
    assert (copy.entry.payload["path"], "changed") in found and (copy.provenance_id, "unlabelled") in found


def _report_world(world):
    root, policy, ledger, *_ = world
    _generate(world, "a misty mountain landscape", _painting(1), "a.png")
    # markup in a held prompt is shown as text (a <script> one is refused now: the letters classifier has learned
    # markup injections as hostile)
    _generate(world, "a seated Guanyin, <i>light ink</i> & lotus", _painting(2), "g.png")
    _generate(world, "om mani padme hum on a scroll", _painting(3), "x.png")
    result = calibrate([procedural_work(i, 64) for i in range(4)], [procedural_work(50 + i, 64) for i in range(8)],
                       transforms=["crop", "jpeg", "mirror"], variants=("original", "hflip"), max_threshold=16,
                       max_fpr=0.2, seed=1)
    record_calibration(ledger, result)
    record_guardrail_eval(ledger, evaluate(policy, sets=["gen_agents", "blind1_01_*"]))  # two files: seconds, not a minute
    return write_report(ledger, policy, root / "report")


def test_report_is_readable_and_complete(world):
    paths = _report_world(world)
    html = paths["html"].read_text(encoding="utf-8")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    for heading in ("Summary", "Generated images", "Refused prompts", "Cultural consultant decisions", "Verification",
                    "How the copy threshold was chosen", "How well the prompt rules work",
                    "How to re-verify this yourself"):
        assert f">{heading}</h2>" in html
    assert html.count("data:image/png;base64,") == 2
    assert "&lt;i&gt;light ink&lt;/i&gt; &amp; lotus" in html and "<i>light ink" not in html  # escaped
    assert "Six-syllable mantra" in html and "CC0 (3 items)" in html
    assert "at least 50% of its\nletters in words no rule can read" in html and "held for a cultural consultant</strong>" in html
    assert "read again by two learned classifiers" in html
    assert "On those: problematic prompts" in html and "Only the category files matching gen_agents, blind1_01_* were run" in html
    assert not re.search(r"\{'|\['|\bNone\b|\bTrue\b|\bFalse\b", html)  # no Python reprs on the page
    assert data["summary"]["outputs"] == 2 and data["summary"]["refused"] == 1 and data["summary"]["reviews_pending"] == 1
    assert data["calibration"]["rows"][0]["threshold"] == 0 and data["verification"]["ok"] is True
    ledger = world[2]
    assert {e.payload["path"] for e in ledger.find("artifact", role="report")} == {"report/report.html", "report/report.json"}
    assert verify(ledger.path).ok


def test_report_renders_in_headless_chromium(world, tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it) but was not found")
        pytest.skip("chromium not installed")
    paths = _report_world(world)
    profile = tmp_path_factory.mktemp("chromium-profile")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
           "--dump-dom", paths["html"].resolve().as_uri()]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert 'data-images-decoded="2/2"' in dom, dom[:500]
    for section in ("summary", "outputs", "refusals", "consultant-decisions", "verification", "calibration",
                    "guardrails", "reverify"):
        assert f'id="{section}"' in dom
    assert "Passed." in dom and "Held back" in dom and "waiting for a cultural consultant" in dom


def _cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    return code, out.getvalue(), err.getvalue()


def test_cli_in_process(world):
    root, policy, ledger, ckpt, registry, training, train_imgs, protected = world
    code, out, _ = _cli(["check-prompt", "a lotus pond at dawn"])
    assert code == 0 and out.startswith("ALLOW: a lotus pond at dawn") and "checks run:" in out
    code, out, _ = _cli(["check-prompt", "a lotus pond at dawn", "--json"])
    assert code == 0 and json.loads(out)["action"] == "allow"
    code, out, _ = _cli(["check-prompt", "o.m m-a-n-i p.a.d.m.e h.u.m", "--ledger", str(ledger.path), "--json"])
    assert code == 1 and json.loads(out)["action"] == "refuse" and ledger.find("prompt_decision")
    code, out, _ = _cli(["check-prompt", "a Tang lady before Qing architecture", "--set", "periods.conflation=refuse"])
    assert code == 1
    code, _, err = _cli(["check-prompt", "x", "--set", "periods.nonsense=1"])
    assert code == 2 and "periods.nonsense: unknown policy key" in err
    ImageOps.mirror(protected).save(root / "q.png")
    code, out, _ = _cli(["match", str(root / "q.png"), "--registry", str(root / "registry.csv"),
                         "--training", str(root / "data" / "manifest.csv")])
    hit = json.loads(out)[0]
    assert code == 0 and hit["held"] and hit["matches"][0]["id"] == "reg-1" and hit["matches"][0]["variant"] == "hflip"
    (root / "broken.png").write_bytes(b"nope")
    code, _, err = _cli(["match", str(root / "broken.png"), "--registry", str(root / "registry.csv")])
    assert code == 2 and "broken.png: cannot read" in err
    _, rec = _generate(world, "a seated Buddha", _painting(4), "s.png")
    code, out, _ = _cli(["review", "list", "--ledger", str(ledger.path), "--json"])
    assert [i["provenance_id"] for i in json.loads(out)[0]["items"]] == [rec.provenance_id]
    _, _, ring = consultant(root / "cli-keys", "Dr. Lin")
    code, out, _ = _cli(["review", "decide", rec.provenance_id, "--ledger", str(ledger.path.parent),
                         "--consultant", "Dr. Lin", "--key", str(root / "cli-keys" / "key-0.pem"), "--keyring", str(ring),
                         "--decision", "reject", "--rationale", "hand gesture incorrect"])
    assert code == 0 and json.loads(out)["decision"] == "reject" and not (root / "outputs" / "s.png").exists()
    code, out, _ = _cli(["verify", str(ledger.path), "--keyring", str(ring)])
    assert code == 0 and out.strip().endswith("OK")
    ckpt.write_bytes(b"tampered")
    code, out, _ = _cli(["verify", str(ledger.path), "--json", "--keyring", str(ring)])
    assert code == 1 and json.loads(out)["problems"][0]["item"] == "models/model.pt"
    code, out, _ = _cli(["report", "--ledger", str(ledger.path), "--out", str(root / "rep"), "--no-record"])
    assert code == 0 and (root / "rep" / "report.html").exists()
    code, out, _ = _cli(["prov-export", "--ledger", str(ledger.path), "-o", str(root / "prov.json")])
    assert code == 0 and "wasGeneratedBy" in (root / "prov.json").read_text()
    code, out, _ = _cli(["guardrails", "--json", "--sets", "gen_agents"])
    assert code == 0 and json.loads(out)["false_refusal_rate"] == 0.0 and json.loads(out)["sets"] == ["gen_agents"]
    for sub in (["check-prompt"], ["match"], ["verify"], ["review"], ["review", "decide"], ["report"], ["calibrate"]):
        with pytest.raises(SystemExit) as exit_:
            _cli(sub + ["--help"])
        assert exit_.value.code == 0


def test_cli_subprocess(tmp_path):
    exe = Path(sys.executable).with_name("governance")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "governance.cli"]
    run = subprocess.run(cmd + ["check-prompt", "唵嘛呢叭咪吽", "--json"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and json.loads(run.stdout)["action"] == "refuse"
    run = subprocess.run(cmd + ["verify", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "no ledger file here" in run.stderr
