"""Great Expectations manifest suite: a valid manifest passes; each corruption fails naming its items."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from inkgen.config import AnnotateParams, SplitParams
from inkgen.data.validate import (MANIFEST_COLUMNS, STRATUM_MIN_ITEMS, ValidationFailed, json_ready,
                                  near_duplicates_in_other_splits, validate_manifest)

PARAMS = AnnotateParams(human_annotations="", seed=0, min_image_size=16, caption_max_elements=4, withheld_secondary=(),
                        caption_max_techniques=3,
                        split=SplitParams(train=0.8, val=0.1, test=0.1, tolerance=0.03, seed=0,
                                          near_duplicate_distance=6))


def far_hashes(n: int, seed: int = 0) -> list[str]:
    """Random 64-bit hashes, any two far more than 6 bits apart (pairs sit ~32 bits apart)."""
    values = np.random.default_rng(seed).integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2)
    return [f"{int(v):016x}" for v in values]


def valid_manifest(n: int = 50, start: int = 0, splits: list[str] | None = None) -> pd.DataFrame:
    """``n`` fine-brush flower items split 8:1:1 in every block of 10 (or as ``splits`` says)."""
    rows = []
    hashes = far_hashes(start + n)
    for i in range(start, start + n):
        split = (splits[i - start] if splits
                 else "train" if i % 10 < 8 else "val" if i % 10 == 8 else "test")
        rows.append({
            "item_id": f"procedural-{i:06d}", "file": f"data/curated/images/procedural-{i:06d}.png",
            "sha256": f"{i:064x}", "width": 32, "height": 32, "source": "procedural", "license": "CC0-1.0",
            "split": split, "painting_type": "gongbi", "primary": "flowers_plants",
            "secondary": "branch_ornament", "period": "qing" if i % 3 else None,
            "themes": "plum_blossom|flowers_birds", "techniques": "fine_brush|heavy_colour",
            "elements": "plum_branch|bird" if i % 5 else None,
            "caption": "This is a delicate fine-brush (gongbi) flowers and plants painting of a plum branch. "
                       "It shows fragrant plum blossom. It is painted with exquisite fine brush.",
            "label_origin": "truth", "phash": hashes[i], "near_dup_group": f"procedural-{i:06d}",
        })
    return pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))


def as_sketches(df: pd.DataFrame) -> pd.DataFrame:
    """The same items as line sketches (baimiao): another stratum, with a caption that still validates."""
    df = df.copy()
    df["painting_type"], df["techniques"] = "baimiao", "outline"
    df["caption"] = "This is a plain sketch (baimiao) flowers and plants painting of a plum branch. " \
                    "It is painted with clean outline drawing (baimiao line)."
    return df


def failure(df: pd.DataFrame) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as err:
        validate_manifest(df, PARAMS)
    return err.value


def failed_items(exc: ValidationFailed, column: str) -> set[str]:
    """Every item id the results list as unexpected for expectations on ``column`` (not just the first 10)."""
    ids = set()
    for result in exc.report.results["results"]:
        if not result["success"] and result["expectation_config"]["kwargs"].get("column") == column:
            ids |= {row["item_id"] for row in result["result"].get("unexpected_index_list") or []}
    return ids


def test_valid_manifest_passes_and_results_are_saved_as_strict_json(tmp_path):
    report = validate_manifest(valid_manifest(), PARAMS, results_path=tmp_path / "validation.json")
    assert report.success and report.failures.empty
    assert len(report.table) > 25 and report.table["success"].all()

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    saved = json.loads((tmp_path / "validation.json").read_text(), parse_constant=refuse)
    assert saved["success"] is True and len(saved["results"]) == len(report.table)


def test_a_re_run_on_the_same_manifest_writes_the_same_bytes(tmp_path):
    """The file lives in the dataset folder, whose hash every training stage depends on: GX's run time,
    validation id and expectation uuids would re-train every model after a re-run of annotate."""
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    validate_manifest(valid_manifest(), PARAMS, results_path=first)
    validate_manifest(valid_manifest(), PARAMS, results_path=second)
    assert first.read_bytes() == second.read_bytes()
    saved = json.loads(first.read_text())
    assert "run_id" not in saved["meta"] and all("id" not in r["expectation_config"] for r in saved["results"])


@pytest.mark.parametrize("column, value, expectation", [
    ("painting_type", "oil", "expect_column_values_to_be_in_set"),
    ("period", "ming_ish", "expect_column_values_to_be_in_set"),
    ("techniques", "fine_brush|airbrush", "expect_column_values_to_match_regex"),
    ("license", "   ", "expect_column_values_to_match_regex"),
    ("license", None, "expect_column_values_to_not_be_null"),
    ("caption", None, "expect_column_values_to_not_be_null"),
    ("width", 8, "expect_column_values_to_be_between"),
])
def test_a_bad_value_fails_naming_the_expectation_and_the_item(column, value, expectation):
    df = valid_manifest()
    df[column] = df[column].astype(object)
    df.loc[7, column] = value
    exc = failure(df)
    assert expectation in str(exc) and "procedural-000007" in str(exc)
    assert "procedural-000007" in failed_items(exc, column)


def test_several_corruptions_are_each_reported_on_their_own_item():
    # one validation run for the remaining value checks (GX runs take ~0.5 s each); items 0-9 are distinct
    corruptions = {"primary": "seascape", "secondary": "folk_custom_x", "label_origin": "guess",
                   "elements": "plum_branch|", "height": 15, "painting_type": None, "split": "dev"}
    df = valid_manifest()
    for row, (column, value) in enumerate(corruptions.items()):
        df[column] = df[column].astype(object)
        df.loc[row, column] = value
    exc = failure(df)
    for row, column in enumerate(corruptions):
        assert f"procedural-{row:06d}" in failed_items(exc, column), column
    assert set(exc.report.failures["column"]) >= set(corruptions)


def test_duplicate_sha256_names_both_items():
    df = valid_manifest()
    df.loc[12, "sha256"] = df.loc[3, "sha256"]
    exc = failure(df)
    assert "expect_column_values_to_be_unique" in str(exc)
    assert failed_items(exc, "sha256") == {"procedural-000003", "procedural-000012"}


def test_skewed_split_fails_the_ratio_check():
    df = valid_manifest()
    df.loc[df["split"] == "test", "split"] = "train"  # 45:5:0
    exc = failure(df)
    assert "split 0.8:0.1:0.1 within 0.03" in str(exc)
    assert "split_share_deviation" in str(exc)
    assert "procedural-000009" in failed_items(exc, "split_share_deviation")  # a train item (share 0.9)


def test_a_near_dup_group_column_straddling_splits_fails_naming_both():
    df = valid_manifest()
    df.loc[8, "near_dup_group"] = "procedural-000001"  # item 8 is in val, item 1 in train
    exc = failure(df)
    assert "near_dup_group within one split" in str(exc)
    assert failed_items(exc, "near_dup_group_splits") == {"procedural-000001", "procedural-000008"}


def test_near_duplicate_phashes_across_splits_fail_even_with_a_consistent_group_column():
    # what a grouping bug in split.py would produce: every item its own group, so near_dup_group agrees
    # with the splits, yet a test item (9) is 1 bit from a train item (3) and a val item (18) 6 bits from
    # a train item (22); 7 bits (train 31 vs test 39) is not a near-duplicate at near_duplicate_distance 6.
    df = valid_manifest()
    for copy, original, bits in ((9, 3, 1), (18, 22, 6), (39, 31, 7)):
        df.loc[copy, "phash"] = f"{int(df.loc[original, 'phash'], 16) ^ ((1 << bits) - 1):016x}"
    df.loc[[1, 2], "phash"] = df.loc[0, "phash"]  # near-duplicates within one split (train) are fine
    exc = failure(df)
    assert "no near-duplicate (phash within 6 bits) in another split" in str(exc)
    assert failed_items(exc, "near_duplicates_in_other_splits") == {
        "procedural-000003", "procedural-000009", "procedural-000018", "procedural-000022"}
    assert set(exc.report.failures["column"]) == {"near_duplicates_in_other_splits"}


def test_near_duplicates_in_other_splits_matches_brute_force_across_blocks():
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**63, 12, dtype=np.uint64)
    # variants of 12 bases, 0-8 bits apart, in three splits; a few malformed hashes and a missing split
    values = [int(base[k % 12]) ^ sum(1 << int(b) for b in rng.choice(64, rng.integers(0, 9), replace=False))
              for k in range(90)]
    phash = pd.Series([f"{v:016x}" for v in values], dtype=object)
    split = pd.Series(rng.choice(["train", "val", "test"], 90), dtype=object)
    phash[[5, 40]] = [None, "xyz"]
    split[7] = None
    got = near_duplicates_in_other_splits(phash, split, 6, block=8)  # small blocks exercise the edges
    ok = [k for k in range(90) if k not in (5, 40, 7)]
    expected = {k: sum(1 for j in ok if split[j] != split[k] and bin(values[k] ^ values[j]).count("1") <= 6)
                for k in ok}
    assert got[ok].tolist() == [expected[k] for k in ok] and sum(expected.values()) > 0
    assert got[[5, 40, 7]].isna().all()


def test_near_duplicate_check_is_cheap_at_the_papers_scale():
    n = 15_000
    phash = pd.Series(far_hashes(n, seed=1))
    k = np.arange(n) % 10
    split = pd.Series(np.where(k < 8, "train", np.where(k == 8, "val", "test")))
    start = time.perf_counter()
    got = near_duplicates_in_other_splits(phash, split, 6)
    assert time.perf_counter() - start < 10  # ~1 s on 2 cores; the bound only catches a quadratic loop
    assert (got == 0).all()


def test_a_stratum_kept_out_of_val_and_test_fails_the_stratification_check():
    # overall 85:10:10 (within 0.03 of 8:1:1), but the 50 fine-brush items are all in train and the 50
    # sketches make up for it (30:10:10); a 5-item stratum all in train is below the checked size.
    assert STRATUM_MIN_ITEMS <= 50
    gongbi = valid_manifest(50, splits=["train"] * 50)
    sketches = as_sketches(valid_manifest(50, start=50, splits=["train"] * 30 + ["val"] * 10 + ["test"] * 10))
    small = valid_manifest(5, start=100, splits=["train"] * 5)
    small["primary"], small["secondary"] = "landscape", "seasonal_landscape"
    exc = failure(pd.concat([gongbi, sketches, small], ignore_index=True))
    assert "train share 0.8 within 0.1 in every stratum of >= 20 items" in str(exc)
    assert set(exc.report.failures["column"]) == {"stratum_train_share_deviation"}
    assert failed_items(exc, "stratum_train_share_deviation") == {f"procedural-{i:06d}" for i in range(100)}


def test_stratified_strata_pass_the_stratification_check():
    df = pd.concat([valid_manifest(50), as_sketches(valid_manifest(30, start=50))], ignore_index=True)
    assert validate_manifest(df, PARAMS).success


def test_json_ready_gives_strict_json():
    data = {"nan": float("nan"), "inf": np.float64("inf"), "na": pd.NA, 1: np.int64(3),
            "list": (np.bool_(True), np.array([0.5, np.nan])), "other": pd.Timestamp("2024-01-01")}
    assert json_ready(data) == {"nan": None, "inf": None, "na": None, "1": 3, "list": [True, [0.5, None]],
                                "other": "2024-01-01 00:00:00"}
    json.dumps(json_ready(data), allow_nan=False)
    assert not math.isnan(json_ready(0.25))


def test_a_caption_that_omits_the_technique_fails():
    df = valid_manifest()
    df.loc[4, "caption"] = "This is a delicate fine-brush (gongbi) painting."
    exc = failure(df)
    assert "procedural-000004" in failed_items(exc, "caption_names_type_and_technique")


def test_a_missing_column_is_named():
    exc = failure(valid_manifest().drop(columns=["license"]))
    assert "expect_table_columns_to_match_set" in str(exc) and "license" in str(exc)


def test_failure_table_is_returned_without_raising_on_request(tmp_path):
    df = valid_manifest()
    df.loc[2, "primary"] = "seascape"
    report = validate_manifest(df, PARAMS, results_path=tmp_path / "v.json", raise_on_failure=False)
    assert not report.success
    assert list(report.failures["column"]) == ["primary"]
    assert report.failures.loc[0, "items"] == "procedural-000002"
    assert json.loads((tmp_path / "v.json").read_text())["success"] is False
