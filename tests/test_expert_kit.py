"""The expert evaluation kit: blinded package, sheet validation, agreement statistics, key comparison."""

import csv

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from inkgen.expert_kit.analysis import TOTAL, compare_origins, item_scores, kendalls_w, krippendorff_alpha, summarize
from inkgen.expert_kit.config import ExpertKitError, KitConfig
from inkgen.expert_kit.package import Work, build_package
from inkgen.expert_kit.sheets import read_key, read_sheets

WEIGHTS = {"painting_types_techniques": 0.4, "main_elements": 0.3, "element_relationship": 0.1,
           "composition": 0.2}


def config(**kw):
    base = dict(dimensions=WEIGHTS, scale_min=1, scale_max=5, seed=7, display_size=32, confidence=0.95,
                n_resamples=200)
    return KitConfig(**{**base, **kw})


def works(n, origin, size, rng):
    return [Work(f"{origin}-{i}", rng.integers(0, 255, (size, size, 3), dtype=np.uint8), f"prompt {origin} {i}",
                 "full" if origin == "gen" else "") for i in range(n)]


@pytest.fixture()
def package(tmp_path):
    rng = np.random.default_rng(0)
    pkg = build_package(tmp_path / "package", tmp_path / "secret", works(6, "gen", 16, rng),
                        works(6, "auth", 24, rng), config())
    return pkg


def long_ratings(scores: np.ndarray, ids, names=tuple(WEIGHTS)) -> pd.DataFrame:
    """(raters, items, dims) scores -> the long frame read_sheets returns."""
    rows = [{"rater": f"r{r}", "item_id": ids[i], "dimension": names[d], "score": int(scores[r, i, d])}
            for r in range(scores.shape[0]) for i in range(scores.shape[1]) for d in range(scores.shape[2])]
    return pd.DataFrame(rows)


def fill(template, path, scores_by_item, mutate=None):
    with open(template, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for d in WEIGHTS:
            r[d] = str(scores_by_item[r["item_id"]])
    if mutate:
        mutate(rows)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_config_validation():
    with pytest.raises(ExpertKitError, match="sum to"):
        config(dimensions={**WEIGHTS, "composition": 0.3})
    with pytest.raises(ExpertKitError, match="positive"):
        config(dimensions={"a": 1.2, "b": -0.2})


def test_package_is_blinded_and_key_kept_apart(package, tmp_path):
    images = sorted((package.package_dir / "images").glob("*.png"))
    assert len(images) == 12
    assert {Image.open(p).size for p in images} == {(32, 32)}  # sizes do not give the origin away
    names = " ".join(p.name for p in images)
    assert "gen" not in names and "auth" not in names
    assert not any(p.name == "key.csv" for p in package.package_dir.rglob("*"))
    sheet = pd.read_csv(package.sheet, dtype=str, keep_default_na=False)
    assert list(sheet.columns) == ["item_id", "description", *WEIGHTS, "notes"]
    assert (sheet[list(WEIGHTS)] == "").all().all()
    key = read_key(package.key, sheet["item_id"].tolist())
    assert sorted(key["origin"].value_counts().tolist()) == [6, 6]
    origins = key.set_index("item_id").loc[sheet["item_id"], "origin"].tolist()
    assert origins != sorted(origins) and origins != sorted(origins, reverse=True)  # mixed, not blocked
    readme = (package.package_dir / "README.txt").read_text()
    assert "main_elements (0.3)" in readme and "Whether elements exist" in readme
    with pytest.raises(ExpertKitError, match="inside the package"):
        build_package(tmp_path / "p2", tmp_path / "p2" / "key", works(1, "gen", 8, np.random.default_rng(1)),
                      works(1, "auth", 8, np.random.default_rng(1)), config())
    with pytest.raises(ExpertKitError, match="not empty"):
        build_package(package.package_dir, tmp_path / "k3", works(1, "gen", 8, np.random.default_rng(1)),
                      works(1, "auth", 8, np.random.default_rng(1)), config())


def test_same_seed_same_package(tmp_path):
    rng = lambda: np.random.default_rng(3)  # noqa: E731
    a = build_package(tmp_path / "a", tmp_path / "ka", works(3, "gen", 8, rng()), works(3, "auth", 8, rng()), config())
    b = build_package(tmp_path / "b", tmp_path / "kb", works(3, "gen", 8, rng()), works(3, "auth", 8, rng()), config())
    assert a.key.read_text() == b.key.read_text()
    c = build_package(tmp_path / "c", tmp_path / "kc", works(3, "gen", 8, rng()), works(3, "auth", 8, rng()),
                      config(seed=8))
    assert c.key.read_text() != a.key.read_text()


def test_sheets_round_trip_and_errors_name_file_line_column(package, tmp_path):
    ids = pd.read_csv(package.sheet)["item_id"].tolist()
    truth = {i: 1 + k % 5 for k, i in enumerate(ids)}
    good = [fill(package.sheet, tmp_path / f"rater_{n}.csv", truth) for n in ("a", "b")]
    ratings = read_sheets(good, package.sheet, config())
    assert len(ratings) == 2 * 12 * 4 and set(ratings["rater"]) == {"rater_a", "rater_b"}

    def bad(rows):
        rows[0]["item_id"] = "W999999x"
        rows[1]["composition"] = ""
        rows[2]["main_elements"] = "6"
        rows[3]["main_elements"] = "3.5"

    broken = fill(package.sheet, tmp_path / "rater_c.csv", truth, bad)
    with pytest.raises(ExpertKitError) as err:
        read_sheets([good[0], broken], package.sheet, config())
    msg = str(err.value)
    assert "rater_c.csv: line 2, column 'item_id': unknown id 'W999999x'" in msg
    assert f"rater_c.csv: line 3 ({ids[1]}), column 'composition': missing score" in msg
    assert "line 4" in msg and "'6' is not an integer in 1..5" in msg
    assert "'3.5' is not an integer" in msg
    assert "1 work(s) of the package not rated" in msg  # the row whose id was mangled
    with pytest.raises(ExpertKitError, match="at least two raters"):
        read_sheets(good[:1], package.sheet, config())


def test_weighted_total_matches_table2_by_hand():
    scores = np.array([[[4, 5, 4, 4]], [[4, 5, 3, 4]], [[5, 4, 4, 4]]])  # 3 raters, 1 work, 4 dimensions
    per = item_scores(long_ratings(scores, ["W1"]), config()).iloc[0]
    means = scores[:, 0, :].mean(0)
    assert per[TOTAL] == pytest.approx(float(means @ np.array(list(WEIGHTS.values()))))
    # the paper's own Table 2: 4.2, 4.8, 3.6, 4.1 -> 4.3
    assert float(np.array([4.2, 4.8, 3.6, 4.1]) @ np.array(list(WEIGHTS.values()))) == pytest.approx(4.30)


def test_krippendorff_alpha_hand_case_and_identical_raters():
    # 2 raters, 4 units, binary values: coincidences o11=2, o12=o21=1, o22=4; n1=3, n2=5, n=8.
    # alpha = 1 - (n-1) (o12+o21) / (2 n1 n2) = 1 - 7*2/30 = 8/15 (with two values ordinal = nominal)
    scores = np.array([[1, 1, 2, 2], [1, 2, 2, 2]])[:, :, None]
    ratings = long_ratings(scores, [f"W{i}" for i in range(4)], names=("d",))
    cfg = config(dimensions={"d": 1.0}, scale_max=2)
    assert krippendorff_alpha(ratings, cfg).mean == pytest.approx(8 / 15)
    same = np.repeat(np.random.default_rng(0).integers(1, 6, (1, 10, 4)), 3, axis=0)
    assert krippendorff_alpha(long_ratings(same, [f"W{i}" for i in range(10)]), config()).mean == pytest.approx(1.0)


def test_krippendorff_alpha_is_ordinal():
    """A 3-value case where the ordinal and interval metrics differ (Krippendorff 2011's definitions):
    A = 1 2 3, B = 1 3 3 -> o11 = 2, o23 = o32 = 1, o33 = 2; n = (2, 1, 3), N = 6.
    ordinal delta^2: (1,2) 2.25, (2,3) 4, (1,3) 12.25 -> D_o = 8/6, D_e = 180/30 = 6 -> alpha = 7/9
    (the interval metric would give 1 - (1/3) / (58/30) = 0.828)."""
    scores = np.array([[1, 2, 3], [1, 3, 3]])[:, :, None]
    ratings = long_ratings(scores, ["W0", "W1", "W2"], names=("d",))
    assert krippendorff_alpha(ratings, config(dimensions={"d": 1.0}, scale_max=3)).mean == pytest.approx(7 / 9)


def test_alpha_high_for_agreeing_raters_and_near_zero_for_random_ones():
    rng = np.random.default_rng(1)
    n_raters, n_items = 6, 40
    ids = [f"W{i}" for i in range(n_items)]
    truth = rng.integers(1, 6, (1, n_items, 4))
    noisy = np.clip(truth + rng.choice([-1, 0, 0, 0, 0, 0, 1], (n_raters, n_items, 4)), 1, 5)
    random_ = rng.integers(1, 6, (n_raters, n_items, 4))
    high = krippendorff_alpha(long_ratings(noisy, ids), config())
    low = krippendorff_alpha(long_ratings(random_, ids), config())
    assert high.mean > 0.8 and high.low > 0.7
    assert abs(low.mean) < 0.1 and low.low < 0 < low.high


def test_alpha_bootstraps_works_not_work_dimension_units():
    """Raters agree within a work across its four dimensions but works differ: resampling (work, dimension)
    pairs as if independent would make the interval about half as wide as resampling works."""
    rng = np.random.default_rng(3)
    n_raters, n_items = 4, 12
    ids = [f"W{i}" for i in range(n_items)]
    per_work = rng.integers(1, 6, (n_raters, n_items, 1))  # each rater gives a work one score on all dims
    scores = np.repeat(per_work, 4, axis=2)
    ratings = long_ratings(scores, ids)
    est = krippendorff_alpha(ratings, config(n_resamples=300))
    assert est.n == n_items  # N is works
    from inkgen.expert_kit.analysis import _alpha, reliability_matrix
    from inkgen.metrics.stats import bootstrap_ci_indices
    matrix = reliability_matrix(ratings)
    units = bootstrap_ci_indices(lambda idx: _alpha(matrix[:, idx], config()), (matrix.shape[1],),
                                 n_resamples=300, seed=7, method="percentile")
    assert (est.high - est.low) > 1.5 * (units.high - units.low)


def test_readme_makes_no_claim_about_artists(package):
    text = (package.package_dir / "README.txt").read_text(encoding="utf-8")
    assert "artist" not in text.lower()
    told = config(authentic_source="rendered by a procedural painting program, not by human painters")
    rng = np.random.default_rng(0)
    pkg = build_package(package.package_dir.parent / "p2", package.package_dir.parent / "k2",
                        works(3, "gen", 16, rng), works(3, "auth", 16, rng), told)
    assert "procedural painting program" in (pkg.package_dir / "README.txt").read_text(encoding="utf-8")


def test_kendalls_w_by_hand_and_extremes():
    # ranks R1: 1 2 3 4, R2: 1 2 4 3, R3: 2 1 3 4 -> rank sums 4 5 10 11, S = 37,
    # W = 12 S / (m^2 (n^3 - n)) = 444 / 540 (no ties)
    scores = np.array([[1, 2, 3, 4], [1, 2, 4, 3], [2, 1, 3, 4]])[:, :, None]
    ratings = long_ratings(scores, [f"W{i}" for i in range(4)], names=("d",))
    assert kendalls_w(ratings, "d") == pytest.approx(444 / 540)
    perfect = np.array([[1, 3, 5, 2, 4]] * 4)[:, :, None]
    assert kendalls_w(long_ratings(perfect, [f"W{i}" for i in range(5)], names=("d",)), "d") == pytest.approx(1.0)
    rng = np.random.default_rng(2)
    random_ = rng.integers(1, 6, (8, 60, 1))
    assert kendalls_w(long_ratings(random_, [f"W{i}" for i in range(60)], names=("d",)), "d") < 0.2


def test_summary_and_generated_vs_authentic(package, tmp_path):
    ids = pd.read_csv(package.sheet)["item_id"].tolist()
    key = read_key(package.key, ids)
    origin = key.set_index("item_id")["origin"]
    rng = np.random.default_rng(4)
    sheets = []
    for r in range(4):  # authentic works rated ~4.5, generated ~2.5, raters agree up to small noise
        truth = {i: int(np.clip((5 if origin[i] == "authentic" else 2) + rng.choice([0, 0, 0, -1, 1]), 1, 5))
                 for i in ids}
        sheets.append(fill(package.sheet, tmp_path / f"expert{r}.csv", truth))
    cfg = config()
    ratings = read_sheets(sheets, package.sheet, cfg)
    summary = summarize(ratings, key, cfg)
    assert summary.n_raters == 4 and summary.n_items == {"generated": 6, "authentic": 6}
    assert set(summary.means["generated"]) == {*WEIGHTS, TOTAL}
    # reported separately: generated ~2, authentic ~5, never one pooled ~3.5
    assert summary.means["generated"][TOTAL].high < 3 < 4 < summary.means["authentic"][TOTAL].low
    assert summary.alpha.mean > 0.6 and all(0 < w <= 1 for w in summary.kendalls_w.values())
    table = summary.table(cfg)
    assert len(table) == 5 and {"generated (N=6 works)", "authentic (N=6 works)"} <= set(table.columns)
    with pytest.raises(ExpertKitError, match="lacks"):
        summarize(ratings, key.iloc[1:], cfg)
    comparison = {c.column: c for c in compare_origins(ratings, key, cfg)}
    total = comparison[TOTAL]
    assert total.authentic.mean > total.generated.mean and total.authentic.low > total.generated.high
    assert total.p_value < 0.01
    with pytest.raises(ExpertKitError, match="lacks"):
        compare_origins(ratings, key.iloc[1:], cfg)
