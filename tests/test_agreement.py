"""Human annotations: Fleiss' kappa on simulated annotators of known agreement, majority labels, bad rows."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from inkgen.data.agreement import AnnotationError, fleiss_by_field, majority_labels, read_annotations
from inkgen.data.taxonomy import load_taxonomy

TAX = load_taxonomy()
TYPES = list(TAX.painting_types)
PRIMARY = list(TAX.primary)


def write_csv(path: Path, rows, header=("item_id", "annotator", "field", "value")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def simulate(n_items: int, n_annotators: int, p_correct: float, values: list[str], field: str, seed: int):
    """Each annotator gives the true label with probability p, otherwise a uniformly random one.

    With uniform true labels over k categories, Fleiss' kappa of such annotators is p**2: the observed
    pairwise agreement is p**2 (1 - 1/k) + 1/k and the chance agreement 1/k.
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(values), n_items)
    rows = []
    for i in range(n_items):
        for a in range(n_annotators):
            label = truth[i] if rng.random() < p_correct else rng.integers(0, len(values))
            rows.append((f"item-{i:04d}", f"annotator-{a}", field, values[label]))
    return rows


def test_perfect_agreement_gives_kappa_one(tmp_path):
    rows = simulate(60, 3, 1.0, TYPES, "painting_type", 0) + simulate(60, 3, 1.0, PRIMARY, "primary", 1)
    kappa = fleiss_by_field(read_annotations(write_csv(tmp_path / "a.csv", rows)))
    assert list(kappa["field"]) == ["painting_type", "primary"]
    assert np.allclose(kappa["kappa"], 1.0)
    assert list(kappa["n_items"]) == [60, 60] and list(kappa["n_annotators"]) == [3, 3]


def test_random_labels_give_kappa_near_zero(tmp_path):
    rows = simulate(600, 4, 0.0, PRIMARY, "primary", 2)
    kappa = fleiss_by_field(read_annotations(write_csv(tmp_path / "a.csv", rows)))
    assert abs(kappa.loc[0, "kappa"]) < 0.03


def test_partial_agreement_matches_theory(tmp_path):
    rows = simulate(800, 4, 0.8, PRIMARY, "primary", 3)
    kappa = fleiss_by_field(read_annotations(write_csv(tmp_path / "a.csv", rows)))
    assert kappa.loc[0, "kappa"] == pytest.approx(0.8 ** 2, abs=0.04)


def test_items_with_an_uncommon_number_of_raters_are_excluded_and_counted(tmp_path):
    rows = simulate(20, 3, 1.0, TYPES, "painting_type", 4)
    rows += [("extra-1", f"annotator-{a}", "painting_type", "gongbi") for a in (0, 1)]
    rows += [("solo-1", "annotator-0", "painting_type", "xieyi")]  # one annotator: no agreement to measure
    kappa = fleiss_by_field(read_annotations(write_csv(tmp_path / "a.csv", rows)))
    assert kappa.loc[0, "n_items"] == 20 and kappa.loc[0, "raters_per_item"] == 3
    assert kappa.loc[0, "n_items_excluded"] == 1


def test_single_annotator_gives_no_kappa(tmp_path):
    rows = [("a", "ann", "primary", "figure"), ("b", "ann", "primary", "landscape")]
    assert fleiss_by_field(read_annotations(write_csv(tmp_path / "a.csv", rows))).empty


def test_majority_label_per_item_and_field_with_taxonomy_order_breaking_ties(tmp_path):
    rows = [("a", "x", "primary", "figure"), ("a", "y", "primary", "figure"),
            ("a", "z", "primary", "landscape"),
            ("b", "x", "painting_type", "gongbi"), ("b", "y", "painting_type", "xieyi")]
    labels = majority_labels(read_annotations(write_csv(tmp_path / "a.csv", rows)))
    assert labels["a"] == {"primary": "figure"}
    first = min(("gongbi", "xieyi"), key=TYPES.index)
    assert labels["b"] == {"painting_type": first}
    # the tie is settled the same way whatever the row order
    reversed_labels = majority_labels(read_annotations(write_csv(tmp_path / "b.csv", rows[::-1])))
    assert reversed_labels == labels


@pytest.mark.parametrize("bad_row, message", [
    (("b", "ann", "colour", "red"), "line 3: unknown field 'colour'"),
    (("b", "ann", "primary", "seascape"), "line 3: 'seascape' is not a primary"),
    (("b", "", "primary", "figure"), "line 3: empty annotator"),
    (("a", "ann", "primary", "landscape"),
     "line 3: annotator 'ann' already labelled primary of 'a' on line 2"),
])
def test_bad_rows_are_errors_naming_the_line(tmp_path, bad_row, message):
    path = write_csv(tmp_path / "a.csv", [("a", "ann", "primary", "figure"), bad_row])
    with pytest.raises(AnnotationError, match=message):
        read_annotations(path)


def test_missing_columns_are_named(tmp_path):
    path = write_csv(tmp_path / "a.csv", [("a", "figure")], header=("item_id", "value"))
    with pytest.raises(AnnotationError, match=r"missing column\(s\) \['annotator', 'field'\]"):
        read_annotations(path)
