"""Great Expectations manifest suite: a valid manifest passes; each corruption fails naming its items."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from inkgen.config import AnnotateParams, SplitParams
from inkgen.data.validate import MANIFEST_COLUMNS, ValidationFailed, validate_manifest

PARAMS = AnnotateParams(human_annotations="", seed=0, min_image_size=16, caption_max_elements=4,
                        caption_max_techniques=3,
                        split=SplitParams(train=0.8, val=0.1, test=0.1, tolerance=0.03, seed=0,
                                          near_duplicate_distance=6))


def valid_manifest(n: int = 50) -> pd.DataFrame:
    rows = []
    for i in range(n):
        split = "train" if i % 10 < 8 else ("val" if i % 10 == 8 else "test")
        rows.append({
            "item_id": f"procedural-{i:06d}", "file": f"data/curated/images/procedural-{i:06d}.png",
            "sha256": f"{i:064x}", "width": 32, "height": 32, "source": "procedural", "license": "CC0-1.0",
            "split": split, "painting_type": "gongbi", "primary": "flowers_plants",
            "secondary": "branch_ornament", "period": "qing" if i % 3 else None,
            "themes": "plum_blossom|flowers_birds", "techniques": "fine_brush|heavy_colour",
            "elements": "plum_branch|bird" if i % 5 else None,
            "caption": "This is a delicate fine-brush (gongbi) flowers and plants painting of a plum branch. "
                       "It shows fragrant plum blossom. It is painted with exquisite fine brush.",
            "label_origin": "truth", "phash": f"{i:016x}", "near_dup_group": f"procedural-{i:06d}",
        })
    return pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))


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


def test_near_duplicates_straddling_splits_fail_naming_both():
    df = valid_manifest()
    df.loc[8, "near_dup_group"] = "procedural-000001"  # item 8 is in val, item 1 in train
    exc = failure(df)
    assert "near-duplicate group in one split" in str(exc)
    assert failed_items(exc, "near_dup_group_splits") == {"procedural-000001", "procedural-000008"}


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
