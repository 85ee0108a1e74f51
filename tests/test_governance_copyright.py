"""Copyright cross-check: exact Hamming index, strict registry, screening, output check, calibration, policy."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from governance.calibration import (TRANSFORMS, CalibrationRow, calibrate, choose_threshold, folder_works,
                                    procedural_work)
from governance.copyright import check_output, load_training_hashes, screen_training_items
from governance.hash_index import HashIndex
from governance.phash import ImageHashError, hash_file, phash, to_hex
from governance.policy import PolicyError, load_policy
from governance.registry import RegisteredWork, RegistryError, load_registry, write_registry

STATUSES = ("protected", "licensed", "public_domain")


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def test_index_matches_brute_force_on_10k():
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**63, 10_000, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, 10_000, dtype=np.uint64)
    # Plant near neighbours of the queries so small radii have hits.
    queries = [int(h) for h in rng.choice(hashes, 5)] + [int(rng.integers(0, 2**63)) for _ in range(5)]
    hashes[:50] = [q ^ (1 << int(b)) ^ (1 << int(c)) for q in queries[:5] for b, c in rng.integers(0, 64, (10, 2))]
    index = HashIndex(hashes, [f"w{i}" for i in range(len(hashes))])
    for radius in (0, 2, 8, 20, 28):
        batch = index.query_many(queries, radius)
        for q, got in zip(queries, batch):
            brute = sorted((bin(int(h) ^ q).count("1"), i) for i, h in enumerate(hashes)
                           if bin(int(h) ^ q).count("1") <= radius)
            assert [(hit.distance, hit.index) for hit in index.query(q, radius)] == brute
            assert [(hit.distance, hit.index) for hit in got] == brute
    assert any(index.query(q, 2) for q in queries[:5])
    near = index.nearest(queries[7])
    assert near.distance == min(bin(int(h) ^ queries[7]).count("1") for h in hashes)
    with pytest.raises(ValueError, match="radius"):
        index.query(1, 65)


def _registry_csv(tmp_path, rows: list[str]):
    path = tmp_path / "registry.csv"
    path.write_text("id,holder,status,hash,title\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_registry_refuses_malformed_rows_naming_row_and_field(tmp_path):
    path = _registry_csv(tmp_path, ["r1,Estate A,protected,00000000000000ff,A",
                                    "r2,Estate B,copyrighted,00000000000000ff,B",
                                    "r3,,protected,zz,C",
                                    "r1,Estate D,licensed,0000000000000001,D",
                                    "r5,Estate E,protected"])
    with pytest.raises(RegistryError) as err:
        load_registry(path, STATUSES)
    text = str(err.value)
    assert "nothing loaded" in text
    assert "row 2 (id r2), field 'status': 'copyrighted'" in text
    assert "row 3 (id r3), field 'holder': empty" in text and "row 3 (id r3), field 'hash': 'zz'" in text
    assert "row 4 (id r1), field 'id': duplicate of row 1" in text
    assert "row 5: wrong number of fields" in text
    (tmp_path / "bad.csv").write_text("id,holder,hash\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"missing column\(s\) \['status'\]"):
        load_registry(tmp_path / "bad.csv", STATUSES)
    with pytest.raises(RegistryError, match="cannot open"):
        load_registry(tmp_path / "none.csv", STATUSES)


def _works(n: int, start: int = 0) -> list[Image.Image]:
    return [procedural_work(start + i, 96) for i in range(n)]


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reg")
    works = _works(6)
    rows = [RegisteredWork(f"reg-{i}", f"Holder {i}", STATUSES[i % 3], phash(w), f"work {i}") for i, w in enumerate(works)]
    path = folder / "registry.csv"
    write_registry(path, rows)
    return works, load_registry(path, STATUSES)


def test_screen_flags_protected_matches_and_keeps_the_rest(registered, policy, tmp_path):
    works, registry = registered
    copy_path = tmp_path / "copy.png"
    ImageOps.mirror(works[0]).save(copy_path)  # a mirrored copy of a protected work
    rows = [("copy", copy_path), ("licensed", works[1]), ("hash-only", to_hex(phash(works[3]))),
            ("fresh", procedural_work(999, 96))]
    result = screen_training_items(rows, registry, policy.copyright)
    assert [v.item_id for v in result.flagged] == ["copy", "hash-only"]
    assert result.flagged[0].matches[0].variant == "hflip" and "reg-0 (protected, Holder 0)" in result.flagged[0].reasons[0]
    kept = {v.item_id: v for v in result.kept}
    assert set(kept) == {"licensed", "fresh"}
    assert kept["licensed"].reasons and "licensed" in kept["licensed"].reasons[0]  # seen, allowed, said why
    assert kept["fresh"].reasons == ()
    with pytest.raises(ImageHashError, match="training item bad"):
        screen_training_items([("bad", "not-a-hash")], registry, policy.copyright)


def test_output_check_holds_registry_and_memorised_matches(registered, policy, tmp_path):
    works, registry = registered
    training_csv = tmp_path / "manifest.csv"
    training_csv.write_text("item_id,phash\n" + "".join(f"t{i},{to_hex(phash(w))}\n"
                                                          for i, w in enumerate(_works(3, 500))), encoding="utf-8")
    training = load_training_hashes(training_csv)
    held = check_output(works[1].resize((80, 60)), registry, training, policy.copyright)  # licensed: held
    assert held.held and held.matches[0].id == "reg-1" and "licensed" in held.reasons[0]
    memorised = check_output(ImageOps.mirror(_works(1, 501)[0]), registry, training, policy.copyright)
    assert memorised.held and "memorisation" in memorised.reasons[0] and memorised.matches[0].id == "t1"
    public = check_output(works[2], registry, None, policy.copyright)  # public domain: listed, not held
    assert not public.held and public.matches[0].status == "public_domain"
    assert not check_output(procedural_work(12345, 96), registry, training, policy.copyright).held
    training_csv.write_text("item_id,phash\nt0,xyz\n", encoding="utf-8")
    with pytest.raises(ImageHashError, match=r"row 1 \(id t0\), field 'phash'"):
        load_training_hashes(training_csv)


def test_unreadable_image_is_named(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with pytest.raises(ImageHashError, match="broken.png: cannot read"):
        hash_file(tmp_path / "broken.png", ("original",))
    with pytest.raises(ImageHashError, match="no such file"):
        hash_file(tmp_path / "none.png", ("original",))


def test_calibration_table_and_rule():
    result = calibrate(_works(8), _works(20, 10_000), transforms=list(TRANSFORMS), variants=("original", "hflip"),
                       max_threshold=64, max_fpr=0.05, seed=3)
    rows = result.rows
    assert [r.threshold for r in rows] == list(range(65))
    assert all(a.recall <= b.recall and a.fpr <= b.fpr and a.pair_fpr <= b.pair_fpr
               for a, b in zip(rows, rows[1:]))  # monotone in t
    assert all(r.pair_fpr <= r.fpr for r in rows)  # a pair match implies a query match
    assert rows[-1].expected_fpr(1000) == 1.0 and rows[0].expected_fpr(10) <= rows[0].expected_fpr(10_000)
    assert rows[0].recall_by_transform["mirror"] == 1.0  # mirrored copies are exact under the hflip variant
    assert rows[-1].recall == 1.0 and rows[-1].fpr == 1.0
    assert result.chosen is not None and result.row(result.chosen).fpr <= 0.05
    assert result.n_copies == 8 * len(TRANSFORMS)
    # The rule: best recall within the FPR budget, ties to the smaller threshold; none qualifies -> None.
    table = [CalibrationRow(0, 0.5, {}, 0.0), CalibrationRow(1, 0.8, {}, 0.01), CalibrationRow(2, 0.8, {}, 0.01),
             CalibrationRow(3, 0.9, {}, 0.2)]
    assert choose_threshold(table, 0.01) == 1 and choose_threshold(table, 0.5) == 3
    assert choose_threshold([CalibrationRow(0, 0.1, {}, 0.3)], 0.01) is None
    with pytest.raises(ValueError, match="unknown transform"):
        calibrate(_works(1), _works(1, 50), transforms=["blur"], variants=("original",), max_threshold=4,
                  max_fpr=0.01, seed=0)


def test_calibration_accepts_folders(tmp_path):
    for i, w in enumerate(_works(3)):
        w.save(tmp_path / f"w{i}.png")
    assert len(folder_works(tmp_path)) == 3
    with pytest.raises(ValueError, match="no images"):
        folder_works(tmp_path / "empty")


def test_policy_is_strict(tmp_path):
    with pytest.raises(PolicyError, match="copyright.threshold: unknown policy key"):
        load_policy(overrides={"copyright": {"threshold": 3}})
    with pytest.raises(PolicyError, match="registry_max_distance: 70 is not in 0..64"):
        load_policy(overrides={"copyright": {"registry_max_distance": 70}})
    with pytest.raises(PolicyError, match="periods.conflation: 'ignore' is not one of refuse, anchor"):
        load_policy(overrides={"periods": {"conflation": "ignore"}})
    with pytest.raises(PolicyError, match="'handstand' is not a posture"):
        load_policy(overrides={"sacred": {"deities": {"buddha": {"allowed_postures": ["handstand"],
                                                                  "allowed_facing": ["front"]}}}})
    with pytest.raises(PolicyError, match="'secret' is not in copyright.registry_statuses"):
        load_policy(overrides={"copyright": {"output_hold_statuses": ["secret"]}})
    text = (load_policy().source and open(load_policy().source, encoding="utf-8").read())
    (tmp_path / "p.yaml").write_text(text + "\nextra_section: 1\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="extra_section: unknown policy key"):
        load_policy(tmp_path / "p.yaml")
    assert load_policy(overrides={"periods": {"conflation": "refuse"}}).sha256 != load_policy().sha256
