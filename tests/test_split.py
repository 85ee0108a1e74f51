"""The 8:1:1 split: ratios, stratification, order independence, near-duplicates kept together."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from inkgen.config import SplitParams
from inkgen.data.split import assign_splits, hash_array, near_duplicate_groups, phash

PARAMS = SplitParams(train=0.8, val=0.1, test=0.1, tolerance=0.03, seed=2026, near_duplicate_distance=6)


def random_hashes(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2)


def corpus(n: int, n_strata: int, seed: int = 0):
    ids = [f"item-{i:05d}" for i in range(n)]
    strata = [f"stratum-{i % n_strata}" for i in range(n)]
    return ids, strata, random_hashes(n, seed)


def test_ratios_are_8_1_1_overall_and_in_every_stratum():
    ids, strata, hashes = corpus(1200, 12)
    out = assign_splits(ids, strata, hashes, PARAMS)
    share = out["split"].value_counts(normalize=True)
    assert share["train"] == pytest.approx(0.8, abs=0.005)
    assert share["val"] == pytest.approx(0.1, abs=0.005) and share["test"] == pytest.approx(0.1, abs=0.005)
    out["stratum"] = strata
    per_stratum = out.groupby("stratum")["split"].value_counts().unstack()
    assert (per_stratum["train"] == 80).all() and (per_stratum["val"] == 10).all()


def test_many_small_strata_do_not_all_round_towards_the_same_split():
    ids, strata, hashes = corpus(48, 12)  # 4 items per stratum: 3.2 / 0.4 / 0.4 each
    counts = assign_splits(ids, strata, hashes, PARAMS)["split"].value_counts()
    assert counts["train"] in (38, 39) and abs(counts["val"] - counts["test"]) <= 1


def test_same_items_in_any_order_get_the_same_split():
    ids, strata, hashes = corpus(300, 5)
    first = assign_splits(ids, strata, hashes, PARAMS).set_index("item_id")
    perm = np.random.default_rng(1).permutation(len(ids))
    second = assign_splits([ids[i] for i in perm], [strata[i] for i in perm], hashes[perm], PARAMS)
    assert list(second["item_id"]) == [ids[i] for i in perm]  # returned in input order
    assert second.set_index("item_id").loc[ids].equals(first)


def test_the_seed_changes_the_split():
    ids, strata, hashes = corpus(300, 5)
    a = assign_splits(ids, strata, hashes, PARAMS)["split"]
    b = assign_splits(ids, strata, hashes, SplitParams(**{**PARAMS.__dict__, "seed": 1}))["split"]
    assert (a != b).any()


def flip(h: int, bits) -> int:
    for b in bits:
        h ^= 1 << int(b)
    return h


def test_near_duplicate_groups_match_brute_force_including_chains():
    rng = np.random.default_rng(5)
    bases = [int(x) for x in random_hashes(8, 6)]
    # variants of a few bases, 0-5 bits apart: chains link variants more than 6 bits apart too
    hashes = [flip(bases[i % 8], rng.choice(64, rng.integers(0, 6), replace=False)) for i in range(120)]
    arr = hash_array(hashes)
    labels = near_duplicate_groups(arr, 6, block=7)  # a small block exercises the block boundaries
    parent = list(range(len(hashes)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(hashes)), 2):
        if bin(hashes[i] ^ hashes[j]).count("1") <= 6:
            parent[max(find(i), find(j))] = min(find(i), find(j))
    assert [find(i) for i in range(len(hashes))] == list(labels)
    assert len(set(labels)) < 120  # the fixture does contain near-duplicates


def test_a_near_duplicate_group_goes_to_one_split():
    ids, strata, hashes = corpus(200, 4)
    hashes = hashes.copy()
    for g in range(20):  # 20 groups of 5 near-copies, 3 bits apart in a chain
        for k in range(1, 5):
            hashes[g * 5 + k] = np.uint64(flip(int(hashes[g * 5 + k - 1]), [k, k + 20, k + 40]))
    out = assign_splits(ids, strata, hashes, PARAMS)
    groups = out.groupby("near_dup_group")
    assert groups["split"].nunique().max() == 1
    assert groups.size().max() == 5 and (groups.size() == 5).sum() == 20
    assert out.loc[3, "near_dup_group"] == "item-00000"  # a group is named by its smallest item id


def test_phash_of_a_retouched_copy_is_near_and_of_another_image_far(tmp_path):
    rng = np.random.default_rng(0)
    pixels = (rng.random((8, 8, 3)) * 255).astype(np.uint8)
    img = Image.fromarray(pixels).resize((64, 64), Image.BILINEAR)
    img.save(tmp_path / "a.png")
    ImageEnhance.Brightness(img).enhance(1.05).save(tmp_path / "b.png")
    other = Image.fromarray((rng.random((8, 8, 3)) * 255).astype(np.uint8)).resize((64, 64), Image.BILINEAR)
    other.save(tmp_path / "c.png")
    a, b, c = (phash(tmp_path / f) for f in ("a.png", "b.png", "c.png"))
    assert bin(a ^ b).count("1") <= PARAMS.near_duplicate_distance < bin(a ^ c).count("1")


def test_duplicate_item_ids_are_refused():
    with pytest.raises(ValueError, match="duplicate item ids"):
        assign_splits(["a", "a"], ["s", "s"], random_hashes(2, 0), PARAMS)


# --------------------------------------------------------------------------- withheld secondary categories
def test_withheld_categories_and_their_near_duplicates_leave_every_training_split():
    from inkgen.data.split import WITHHELD, split_with_withheld

    ids, strata, hashes = corpus(400, 4)
    secondary = ["insects_fish" if i % 10 == 0 else "seasonal_flowers" for i in range(400)]
    hashes[1] = hashes[0] ^ np.uint64(1)  # item 1 (not withheld) is a near-copy of withheld item 0
    out = split_with_withheld(ids, strata, secondary, hashes, PARAMS, ["insects_fish"])
    assert list(out["item_id"]) == ids
    held = out[out["split"] == WITHHELD]
    assert set(held["item_id"]) == {ids[i] for i in range(0, 400, 10)} | {ids[1]}
    rest = out[out["split"] != WITHHELD]["split"].value_counts(normalize=True)
    assert rest["train"] == pytest.approx(0.8, abs=0.01) and rest["test"] == pytest.approx(0.1, abs=0.01)
    none = split_with_withheld(ids, strata, secondary, hashes, PARAMS, [])
    assert (none["split"] != WITHHELD).all()


def test_a_withheld_category_without_items_or_one_that_empties_a_split_is_refused():
    from inkgen.data.split import split_with_withheld

    ids, strata, hashes = corpus(40, 2)
    with pytest.raises(ValueError, match=r"annotate.withheld_secondary: no item of secondary category 'myth_legend'"):
        split_with_withheld(ids, strata, ["insects_fish"] * 40, hashes, PARAMS, ["myth_legend"])
    with pytest.raises(ValueError, match="annotate.withheld_secondary.*train split would be empty"):
        split_with_withheld(ids, strata, ["insects_fish"] * 40, hashes, PARAMS, ["insects_fish"])
    few = ["insects_fish"] * 38 + ["seasonal_flowers"] * 2
    with pytest.raises(ValueError, match="annotate.withheld_secondary.*too few for the"):
        split_with_withheld(ids, strata, few, hashes, PARAMS, ["insects_fish"])


@pytest.mark.parametrize("withheld, message", [
    (["no_such_category"], "annotate.withheld_secondary: \\['no_such_category'\\] are not secondary"),
    (["insects_fish", "insects_fish"], "repeats"),
    (["auspicious_beasts", "insects_fish", "literati_symbols"], "every secondary category of 'birds_animals'"),
])
def test_withheld_params_are_checked_before_any_work(withheld, message):
    import yaml

    from inkgen import config

    raw = yaml.safe_load(open(config.find_params(__file__), encoding="utf-8"))
    raw["annotate"]["withheld_secondary"] = withheld
    with pytest.raises(config.ParamsError, match=message):
        config.parse(raw)
