"""Two-stage copy matching (pHash candidates, SIFT/RANSAC verification), its calibration, the training
split, and the report's copyright section: demonstration notice, runnable commands, fitting the page."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from governance.calibration import procedural_work
from governance.candidates import References, candidates, load_training_references
from governance.copy_calibration import (ATTACKS, calibrate_matcher, choose, plain_correlation,
                                         record_matcher_calibration)
from governance.copymatch import Matcher, query_hashes, reference_set
from governance.copyright import check_output, load_training_hashes
from governance.generation import record_generation
from governance.decisions import check_prompt
from governance.hash_index import HashIndex
from governance.ledger import Ledger
from governance.phash import phash, to_hex
from governance.policy import load_policy
from governance.provenance import record_artifact
from governance.registry import RegisteredWork, load_registry, write_registry
from governance.report import write_report

CHROMIUM = shutil.which("chromium") or (Path("/usr/bin/chromium").exists() and "/usr/bin/chromium") or None


def _works(n: int, start: int = 0, size: int = 64) -> list[Image.Image]:
    return [procedural_work(start + i, size) for i in range(n)]


def test_candidates_are_nearest_plus_radius_and_exact():
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**63, 500, dtype=np.uint64)
    refs = References(HashIndex(hashes))
    q = int(hashes[10]) ^ 0b111  # 3 bits from work 10
    got = candidates(refs, {"original": q, "hflip": int(hashes[20])}, k=4, radius=3)
    d = np.minimum(np.bitwise_count(hashes ^ np.uint64(q)), np.bitwise_count(hashes ^ hashes[20]))
    assert [c.index for c in got][:2] == [20, 10] and got[0].variant == "hflip" and got[1].distance == 3
    assert sorted(c.distance for c in got) == sorted(np.sort(d)[:len(got)].tolist())
    assert len(got) >= 4 and all(c.distance <= max(3, np.sort(d)[3]) for c in got)


def test_faiss_candidates_equal_the_numpy_scan():
    """Stage one through faiss's binary index returns exactly the numpy scan's candidates (same works, same
    distances, same variants, same order), on clustered hashes with many ties and with extra (crop) hashes."""
    pytest.importorskip("faiss")
    from governance.candidates import faiss_candidates
    rng = np.random.default_rng(7)
    for n in (3, 200, 2000):
        h = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
        h[: n // 2] = h[0] ^ (np.uint64(1) << rng.integers(0, 64, n // 2).astype(np.uint64))   # ties galore
        refs = References(HashIndex(h))
        refs.add_hashes(h[: n // 3] ^ np.uint64(0xF0F), np.arange(n // 3))
        for _ in range(8):
            q = {"original": int(h[rng.integers(n)] ^ np.uint64(rng.integers(0, 2**20))),
                 "hflip": int(rng.integers(0, 2**63))}
            for k, radius in ((16, 12), (4, 0), (1, 30), (40, 3)):
                expected = candidates(refs, q, k=k, radius=radius)
                assert faiss_candidates(refs, q, k=k, radius=radius) == expected
                assert candidates(refs, q, k=k, radius=radius, index="faiss") == expected
    works = _works(20)
    refs = reference_set([f"w{i}" for i in range(20)], works)        # real hashes with their crop hashes
    for img in (ATTACKS["crop"](works[3], rng), works[11], procedural_work(4000, 64)):
        q = query_hashes(img, 8)
        assert faiss_candidates(refs, q, k=6, radius=10) == candidates(refs, q, k=6, radius=10)
    with pytest.raises(ValueError, match="candidate index 'annoy'"):
        candidates(refs, q, k=6, radius=10, index="annoy")


def test_evidence_separates_a_copy_from_another_painting():
    from governance.copy_verify import evidence, features, query_features
    works = _works(3)
    ref = features(works[0])
    copy = max(evidence(query_features(ATTACKS["watermark"](works[0], np.random.default_rng(1))), ref),
               key=lambda e: e.inliers)
    other = max(evidence(query_features(works[1]), ref), key=lambda e: e.inliers)
    assert copy.inliers > other.inliers and copy.block_agreement > other.block_agreement
    assert copy.correlation > 0.5 and copy.ink_recall > 0.5 and copy.overlap > 0.9
    assert abs(copy.scale - 1.0) < 0.1 and abs(copy.angle) < 3
    flipped = evidence(query_features(ImageOps.mirror(works[0])), ref)
    assert flipped[1].variant == "hflip" and flipped[1].inliers > flipped[0].inliers


def test_colour_residual_explains_a_copiers_edits_but_not_a_repainted_region():
    """A watermark, a colour edit or a JPEG leave next to no colour unexplained; the same picture with its
    middle repainted (red and blue swapped in a 32 px square) leaves that square."""
    from governance.copy_verify import evidence, features, query_features
    work = procedural_work(0, 64)
    ref = features(work)

    def unexplained(img: Image.Image) -> float:
        return max(evidence(query_features(img), ref), key=lambda e: e.inliers).colour_unexplained
    for attack in ("watermark", "colour", "jpeg"):
        assert unexplained(ATTACKS[attack](work, np.random.default_rng(1))) < 0.02, attack
    repainted = np.asarray(work.convert("RGB")).copy()
    repainted[16:48, 16:48] = repainted[16:48, 16:48][..., ::-1]
    assert unexplained(Image.fromarray(repainted)) > 0.1


def test_fusion_weights_are_validated_and_fit_separates(tmp_path):
    import yaml

    from governance.copy_fusion import FEATURES, Fusion, fit
    from governance.policy import DEFAULT_POLICY, PolicyError
    with pytest.raises(ValueError, match="missing"):
        Fusion({"log_inliers": 1.0}, 0.0, 0.5)
    with pytest.raises(ValueError, match="probability"):
        Fusion({f: 0.0 for f in FEATURES}, 0.0, 1.5)
    with pytest.raises(ValueError, match="missing 'bias'"):
        Fusion.from_dict({"weights": {}, "threshold": 0.5})
    raw = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    raw["copyright"]["fusion"]["weights"]["sharpness"] = 1.0
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(PolicyError, match="unknown \\['sharpness'\\]"):
        load_policy(tmp_path / "policy.yaml")
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1.0, 0.3, (200, len(FEATURES))), rng.normal(0.0, 0.3, (300, len(FEATURES)))
    f = fit(pos, neg)
    assert f.probabilities(pos).mean() > 0.9 and f.probabilities(neg).mean() < 0.1
    assert Fusion.from_dict(f.to_dict()).probabilities(pos[:3]) == pytest.approx(f.probabilities(pos[:3]), abs=1e-4)
    with pytest.raises(ValueError, match="both classes"):
        fit(pos, neg[:0])


def test_matcher_verifies_attacked_copies_and_rejects_other_works():
    works = _works(12)
    refs = reference_set([f"w{i}" for i in range(12)], works)
    m = Matcher.from_policy(load_policy().copyright)          # the fusion in force, fitted at 64 px
    rng = np.random.default_rng(0)
    for name in ("crop", "rotate", "watermark", "flip", "colour"):
        copy = ATTACKS[name](works[5], rng)
        top = m.match(copy, refs)[0]                            # the original is the likeliest candidate
        assert top.id == "w5" and top.verified and top.probability > 0.5 and top.inliers >= 8, (name, top)
        # a decision only where the calibration found every copy (flip, colour: 250 of 250 on the test half)
        assert top.copy == (top.probability >= m.fusion.threshold), (name, top)
        if name in ("flip", "colour"):
            assert top.copy, (name, top)
    other = procedural_work(777, 64)
    assert not any(v.copy for v in m.match(other, refs))
    # A reference known only by its hash is judged by distance alone, and says so.
    hash_only = References(HashIndex(np.array([phash(works[2])], dtype=np.uint64), ["h2"]))
    v = m.match(works[2], hash_only)[0]
    assert v.copy and not v.verified and v.inliers == -1


def test_matcher_calibration_splits_fits_and_extrapolates():
    m = Matcher.from_policy(load_policy().copyright)
    reg, unr = _works(8), _works(8, 5000)
    unr[2] = reg[0].copy()  # a twin: the same picture under another name is set apart, not a false positive
    r = calibrate_matcher(reg, unr, m, attacks=["crop", "flip"], max_fpr=0.5, twin_min_correlation=0.9, seed=1)
    assert r.calibration.n_registered == r.test.n_registered == 4 and r.calibration.n_unrelated == 4
    assert r.calibration.twins >= 1 and r.calibration.unrelated_with_twin == 1
    assert r.test.pairs == 4 * 4 - r.test.twins
    assert r.candidate_recall["flip"] == 1.0
    thresholds = [x["threshold"] for x in r.rows]
    for a, b in zip(r.rows, r.rows[1:]):       # a stricter threshold never finds more copies nor more false pairs
        for split in ("calibration", "test"):
            assert b[split]["recall"] <= a[split]["recall"] and b[split]["false_pairs"] <= a[split]["false_pairs"]
    assert thresholds == sorted(thresholds)
    assert r.chosen == choose(r.rows, 0.5) and r.chosen["calibration"]["query_fpr"] <= 0.5
    assert r.fusion.threshold == r.chosen["threshold"]
    e = r.extrapolate(r.chosen, 1_000_000)
    expected = (r.chosen["test"]["false_pairs"] or 3) / r.test.pairs * 1_000_000
    assert e["false_pairs_per_query"] == pytest.approx(expected) and e["bound"] == (r.chosen["test"]["false_pairs"] == 0)
    d = r.to_dict()
    assert d["extrapolation"][0]["registry_size"] == 1_000_000 and len(d["rows"]) == len(r.rows)
    assert set(d["fusion"]["weights"]) == set(load_policy().copyright.fusion.weights)
    ok = {"query_fpr": 0.0, "recall": 0.8, "recall_by_attack": {"a": 0.8}}
    rows = [{"threshold": 0.5, "calibration": {"query_fpr": 0.2, "recall": 0.9, "recall_by_attack": {"a": 0.9}}},
            {"threshold": 0.9, "calibration": ok}]
    assert choose(rows, 0.01)["threshold"] == 0.9 and choose(rows, 0.5)["threshold"] == 0.5
    assert choose(rows[:1], 0.01) is None
    assert plain_correlation(reg[1], ImageOps.mirror(reg[1])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown attack"):
        calibrate_matcher(reg, unr, m, attacks=["blur"], max_fpr=0.1, twin_min_correlation=0.9, seed=0)
    with pytest.raises(ValueError, match="two registered"):
        calibrate_matcher(reg[:1], unr, m, attacks=["crop"], max_fpr=0.1, twin_min_correlation=0.9, seed=0)


def _manifest(tmp_path, works):
    (tmp_path / "img").mkdir(exist_ok=True)
    rows = ["item_id,file,split,phash"]
    for i, (w, split) in enumerate(zip(works, ["train", "train", "test", "val"])):
        w.save(tmp_path / "img" / f"{i}.png")
        rows.append(f"i{i},img/{i}.png,{split},{to_hex(phash(w))}")
    path = tmp_path / "manifest.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_training_check_reads_the_train_split_only(tmp_path):
    policy = load_policy()
    works = _works(4, 300)
    manifest = _manifest(tmp_path, works)
    training = load_training_hashes(manifest)
    assert training.ids == ["i0", "i1"]
    assert check_output(works[1], None, training, policy.copyright).held          # a training image: memorised
    assert not check_output(works[2], None, training, policy.copyright).held      # a test image is not
    assert load_training_hashes(manifest, split=None).ids == ["i0", "i1", "i2", "i3"]
    refs = load_training_references(manifest, root=tmp_path)
    assert refs.ids == ["i0", "i1"] and refs.image(1).size == works[1].size and "train split" in refs.source


@pytest.fixture()
def demo_world(tmp_path):
    """A stage-like ledger: a demonstration registry, a manifest, one released and one held image."""
    policy = load_policy()
    ledger = Ledger(tmp_path / "gov" / "ledger.jsonl", root=tmp_path)
    works = _works(4, 300)
    manifest = _manifest(tmp_path, works)
    record_artifact(ledger, manifest, "training_manifest", sources=["i0", "i1", "i2", "i3"])
    ckpt = tmp_path / "model.pt"
    ckpt.write_bytes(b"ckpt")
    record_artifact(ledger, ckpt, "checkpoint")
    reg = tmp_path / "gov" / "registry-demonstration.csv"
    write_registry(reg, [RegisteredWork("demo-i2", "Demonstration Rights Holder (fictitious)", "protected",
                                        phash(works[2]), "DEMONSTRATION ONLY")])
    record_artifact(ledger, reg, "rights_registry", attributes={"demonstration": True})
    registry = load_registry(reg, policy.copyright.registry_statuses)
    training = load_training_hashes(manifest)
    for name, img in (("out dir/a.png", procedural_work(9000, 64)), ("b.png", works[2])):
        # a long unbroken token (a pasted link) must wrap, not widen the page
        d = check_prompt("a misty mountain landscape after https://example.org/" + "scroll" * 40, policy)
        record_generation(ledger, img, tmp_path / "out" / name, held_dir=tmp_path / "held", checkpoint=ckpt,
                          prompt=d.prompt, decision=d, output_check=check_output(img, registry, training,
                                                                                 policy.copyright), seed=1)
    m = Matcher.from_policy(policy.copyright)
    record_matcher_calibration(ledger, calibrate_matcher(_works(4, 700), _works(4, 800), m, attacks=["crop", "flip"],
                                                         max_fpr=0.5, twin_min_correlation=0.9, seed=2))
    return tmp_path, policy, ledger, write_report(ledger, policy, tmp_path / "report")


def _commands(html: str) -> list[str]:
    return [unescape(c) for c in re.findall(r'<code class="cmd">(.*?)</code>', html, flags=re.S)]


def test_report_says_demonstration_and_its_commands_run_as_written(demo_world, tmp_path_factory):
    root, policy, ledger, paths = demo_world
    html = paths["html"].read_text(encoding="utf-8")
    assert "registry in this report is a fictitious demonstration" in html
    assert ">How copies are recognised</h2>" in html and "Against a registry of 1,000,000 works" in html
    cmds = _commands(html)
    assert [shlex.split(c)[0] for c in cmds] == ["governance", "sha256sum", "governance"]
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # "as written": from any folder, no placeholders
    outs = []
    for c in cmds:
        run = subprocess.run(c, shell=True, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, (c, run.stdout[-500:], run.stderr[-1000:])
        outs.append(run.stdout)
    assert outs[0].strip().endswith("OK")
    first = ledger.find("generation")[0].payload
    assert outs[1].split()[0] == first["sha256"]
    match = json.loads(outs[2])[0]
    assert match["registry"].endswith("registry-demonstration.csv") and match["training"].endswith("manifest.csv")
    assert match["training_split"] == "train" and not match["held"]


def test_report_fits_the_page_in_headless_chromium(demo_world, tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI but was not found")
        pytest.skip("chromium not installed")
    paths = demo_world[3]
    profile = tmp_path_factory.mktemp("chromium-profile")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--window-size=800,1000", "--virtual-time-budget=5000",
           "--dump-dom", paths["html"].resolve().as_uri()]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert 'data-fits="yes"' in run.stdout, re.findall(r'data-fits="[^"]*"', run.stdout)


def test_gate_memorisation_check_uses_the_train_split_and_verifies_on_pixels(tmp_path):
    from inkgen.governed import Gate

    policy = load_policy()
    works = _works(4, 300)
    manifest = _manifest(tmp_path, works)
    gate = Gate.open(tmp_path / "gov" / "ledger.jsonl", held_dir=tmp_path / "held", root=tmp_path, policy=policy,
                     training_manifest=manifest)
    assert gate.training.ids == ["i0", "i1"]
    assert not check_output(works[2], None, gate.training, policy.copyright).held   # test image: never trained on
    mirrored = ImageOps.mirror(works[1])                                            # a mirrored training image
    check = check_output(mirrored, None, gate.training, policy.copyright)
    assert check.held and check.matches[0].id == "i1" and check.matches[0].verified
    assert "keypoints agree" in check.reasons[0] and "memorisation" in check.reasons[0]
