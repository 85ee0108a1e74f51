"""Structured captions (paper section 2.1, Figure 2): truth, title keywords, label precedence, determinism."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkgen.data.captions import CaptionError, build_caption, resolve_labels, title_keywords
from inkgen.data.records import CuratedItem, Record
from inkgen.data.taxonomy import TAXONOMY_FILE, load_taxonomy

TAX = load_taxonomy()


def item(item_id="procedural-000001", truth=None, predicted=None, title=None, source="procedural"):
    rec = Record(item_id=item_id, source=source, file=f"images/{item_id}.png", sha256="0" * 64, width=32,
                 height=32, license="CC0-1.0", title=title, truth=truth)
    return CuratedItem(record=rec, raw_sha256="1" * 64, resize_branch="center_crop",
                       predicted=predicted or {}, confidence=0.9)


PLUM_TRUTH = {"painting_type": "gongbi", "primary": "flowers_plants", "secondary": "branch_ornament",
              "elements": ["plum_branch", "bird", "rock"], "techniques": ["fine_brush", "heavy_colour"],
              "period": "qing", "seed": 7, "format": "hanging_scroll"}
CLASSIFIER = {"primary": "landscape", "primary_confidence": 0.8, "painting_type": "xieyi",
              "painting_type_confidence": 0.7}


def test_procedural_caption_states_the_three_dimensions_from_truth():
    cap = build_caption(item(truth=PLUM_TRUTH, predicted=CLASSIFIER), seed=2026)
    assert (cap.painting_type, cap.primary, cap.secondary, cap.period) == ("gongbi", "flowers_plants",
                                                                          "branch_ornament", "qing")
    assert cap.elements == ("plum_branch", "bird", "rock")
    assert cap.themes == ("plum_blossom", "flowers_birds", "pines_rocks")  # element themes, in order
    assert cap.techniques == ("fine_brush", "heavy_colour")
    assert cap.label_origin == "truth"  # the classifier's landscape/xieyi guess is ignored
    assert cap.text.startswith("This is a ")
    assert TAX.painting_types["gongbi"].label in cap.text
    for key in cap.elements:
        assert TAX.elements[key].label in cap.text
    for key in cap.techniques:
        assert TAX.techniques[key].label in cap.text
    # every adjective used is one the taxonomy pairs with that term
    lexicons = {"category": TAX.painting_types, "content": TAX.themes, "technique": TAX.techniques}
    for slot, adjectives in cap.adjectives.items():
        dimension, term = slot.split(".")
        assert adjectives and set(adjectives) <= set(lexicons[dimension][term].adjectives)
        assert ", ".join(adjectives) in cap.text


def test_adjectives_are_deterministic_per_seed_and_item():
    first = build_caption(item(truth=PLUM_TRUTH), seed=1)
    assert build_caption(item(truth=PLUM_TRUTH), seed=1) == first
    texts = {build_caption(item(truth=PLUM_TRUTH), seed=s).text for s in range(30)}
    assert len(texts) > 3  # the seed does choose among the adjectives
    others = {build_caption(item(f"procedural-{i:06d}", truth=PLUM_TRUTH), seed=1).text for i in range(30)}
    assert len(others) > 3


def test_museum_item_uses_classifier_labels_and_title_keywords():
    cap = build_caption(item("met-1", predicted=CLASSIFIER, title="Pine Trees and Cranes by a Waterfall",
                             source="met"), seed=0)
    assert (cap.painting_type, cap.primary, cap.secondary) == ("xieyi", "landscape", None)
    assert cap.label_origin == "classifier"
    assert cap.elements == ("pine", "tree", "crane", "waterfall")
    assert cap.field_origins["elements"] == "title"
    assert cap.techniques == TAX.painting_types["xieyi"].techniques
    assert cap.field_origins["techniques"] == "taxonomy"
    assert TAX.techniques[cap.techniques[0]].label in cap.text


def test_untitled_museum_item_falls_back_on_the_category_theme():
    cap = build_caption(item("met-2", predicted={"primary": "figure", "painting_type": "baimiao"},
                             title="Album leaf", source="met"), seed=0)
    assert cap.elements == ()
    assert cap.themes == (TAX.primary["figure"].theme,)
    assert TAX.themes[cap.themes[0]].label in cap.text


def test_title_keywords_match_whole_words_in_singular_or_plural():
    assert title_keywords("Plum Blossoms", TAX) == ((), ("plum_blossom",))
    assert title_keywords("Birds and Flowers of the Four Seasons", TAX)[0] == ("bird", "flower")
    assert title_keywords("Rockefeller bequest", TAX) == ((), ())


def test_human_labels_win_over_the_classifier():
    cap = build_caption(item("met-3", predicted=CLASSIFIER, source="met"), seed=0,
                        human={"secondary": "myth_legend", "painting_type": "gongbi"})
    assert (cap.painting_type, cap.primary, cap.secondary) == ("gongbi", "figure", "myth_legend")
    assert cap.label_origin == "human"
    assert TAX.secondary["myth_legend"].label in cap.text


def test_partial_metadata_csv_labels_are_completed_by_the_classifier():
    truth = {"origin": "metadata_csv", "painting_type": "gongbi"}
    labels, origins = resolve_labels(item("folder-1", truth=truth, predicted=CLASSIFIER, source="folder"))
    assert labels["painting_type"] == "gongbi" and origins["painting_type"] == "metadata_csv"
    assert labels["primary"] == "landscape" and origins["primary"] == "classifier"
    cap = build_caption(item("folder-1", truth=truth, predicted=CLASSIFIER, source="folder"), seed=0)
    assert cap.label_origin == "classifier"  # the least trusted source among the stated labels


def test_a_secondary_contradicting_the_resolved_primary_is_dropped():
    human = {"primary": "figure"}
    truth = {"origin": "metadata_csv", "painting_type": "gongbi", "secondary": "seasonal_landscape"}
    labels, _ = resolve_labels(item("folder-2", truth=truth, source="folder"), human)
    assert labels["primary"] == "figure" and labels["secondary"] is None


@pytest.mark.parametrize("truth, message", [
    ({**PLUM_TRUTH, "painting_type": "oil"}, "unknown painting type 'oil'"),
    ({**PLUM_TRUTH, "elements": ["dragon"]}, "unknown element 'dragon'"),
    ({**PLUM_TRUTH, "primary": "landscape"}, "belongs to 'flowers_plants'"),
    ({"origin": "scraped", "painting_type": "gongbi"}, "unknown origin 'scraped'"),
])
def test_bad_labels_are_errors_naming_the_item(truth, message):
    with pytest.raises(CaptionError, match=message) as err:
        build_caption(item("procedural-000042", truth=truth), seed=0)
    assert "procedural-000042" in str(err.value)


def test_item_without_any_painting_type_cannot_be_captioned():
    with pytest.raises(CaptionError, match="met-9: no source gives a painting type"):
        build_caption(item("met-9", predicted={"primary": "figure"}, source="met"), seed=0)


def test_vocabulary_comes_from_the_taxonomy_file(tmp_path: Path):
    text = TAXONOMY_FILE.read_text(encoding="utf-8").replace("[delicate, meticulous]", "[hair-fine]")
    custom = tmp_path / "taxonomy.yaml"
    custom.write_text(text, encoding="utf-8")
    tax = load_taxonomy(custom)
    cap = build_caption(item(truth=PLUM_TRUTH), seed=0, taxonomy=tax)
    assert "hair-fine fine-brush (gongbi)" in cap.text


def test_text_names_the_main_elements_and_techniques_within_the_limits():
    truth = {**PLUM_TRUTH, "primary": "landscape", "secondary": "seasonal_landscape",
             "painting_type": "xieyi",
             "elements": ["bird", "mountain", "moon", "pine", "seal", "snow", "water"],
             "techniques": ["dotting", "dry_brush", "light_ink", "coarse_brush", "wet_brush"]}
    cap = build_caption(item(truth=truth), seed=3, max_elements=3, max_techniques=2)
    assert cap.elements == tuple(truth["elements"]) and cap.techniques == tuple(truth["techniques"])
    # the landscape's own themes first: mountains and rivers (primary), seasonal scenery (secondary)
    named = [e for e in cap.elements if TAX.elements[e].label in cap.text]
    assert named == ["mountain", "moon", "snow"]
    assert TAX.elements["bird"].label not in cap.text
    # the painting type's defining technique first, then the truth's order
    named_techniques = [k.split(".")[1] for k in cap.adjectives if k.startswith("technique.")]
    assert named_techniques == ["coarse_brush", "dotting"]
    assert TAX.techniques["wet_brush"].label not in cap.text


def test_an_adjective_that_repeats_the_label_is_left_out():
    truth = {**PLUM_TRUTH, "techniques": ["light_ink"], "elements": ["crane"]}
    texts = {build_caption(item(truth=truth), seed=s).text for s in range(10)}
    assert not any("light light ink" in t or "auspicious auspicious" in t for t in texts)
    assert all("light ink" in t for t in texts)
