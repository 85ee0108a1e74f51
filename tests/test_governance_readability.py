"""The guardrail fails closed on prompts it cannot read (governance.readability, policy prompt.unreadable)."""

from __future__ import annotations

import pytest

from governance.decisions import check_prompt
from governance.policy import PolicyError, load_policy
from governance.readability import is_pinyin, readability


@pytest.fixture(scope="module")
def policy():
    return load_policy()


@pytest.mark.parametrize("text", [
    "a misty landscape with a fisherman's boat under pines",
    "Ni Zan style riverbank, Zhou Fang's court ladies, Guanyinqiao market",   # pinyin names
    "画一只猫在窗台上睡觉",                                                   # Chinese
    "富士山と桜の水墨画",                                                     # Japanese
    "소나무와 학이 있는 수묵화",                                              # Korean
])
def test_readable_prompts_have_no_unreadable_letters(text):
    assert readability(text).share == 0.0


@pytest.mark.parametrize("text", [
    "Piirrä koiralle hattu ja laita se istumaan kylpyammeeseen",              # Finnish
    "Aintpay ymay atcay upsideway ownday inway away oxbay",                   # Pig Latin
    "วาดรูปแมวนอนหงายท้องบนโซฟา",                                            # Thai
    "Ζωγράφισε έναν ψαρά που κοιμάται στη βάρκα του",                         # Greek
])
def test_prompts_in_languages_no_rule_reads_are_mostly_unreadable(text):
    assert readability(text).share > 0.5


def test_the_share_is_by_letters_and_names_each_word_with_its_source_span():
    text = "a cat, Piirrä koiralle"
    r = readability(text)
    assert [w for w, _, _ in r.words] == ["Piirrä", "koiralle"]
    assert all(text[s:e] == w for w, s, e in r.words)
    assert r.letters == 1 + 3 + 6 + 8 and r.unreadable_letters == 14


def test_pinyin_is_split_into_syllables():
    assert is_pinyin("guanyin") and is_pinyin("zhuangzi") and is_pinyin("nvwa")
    assert not is_pinyin("koiralle") and not is_pinyin("upsideway")


def test_an_unreadable_prompt_is_held_with_the_words_named(policy):
    d = check_prompt("Piirrä koiralle hattu ja laita se istumaan kylpyammeeseen", policy)
    assert d.action == "hold" and not d.motifs
    assert "cannot read 82%" in d.reasons[0] and '"Piirrä"' in d.reasons[0]
    fired = [f for f in d.findings["fired"] if f["rule"] == "unreadable"]
    assert [f["text"] for f in fired][:2] == ["Piirrä", "koiralle"]
    assert d.findings["readability"]["unreadable_share"] == pytest.approx(0.82, abs=0.01)


def test_a_mostly_readable_prompt_is_judged_by_the_rules_alone(policy):
    d = check_prompt("a cat asleep on a sofa, in the style of a Song album leaf (kissa sohvalla)", policy)
    assert d.action == "allow"
    assert 0 < d.findings["readability"]["unreadable_share"] < 0.5


def test_refusals_stay_refusals_and_the_policy_can_switch_the_hold_off(policy):
    assert check_prompt("an upside-down Buddha among plum blossoms", policy).action == "refuse"
    off = load_policy(overrides={"prompt": {"unreadable": "allow"}})
    assert check_prompt("Piirrä koiralle hattu ja laita se istumaan kylpyammeeseen", off).action == "allow"
    stricter = load_policy(overrides={"prompt": {"unreadable_share": 0.1}})
    assert check_prompt("a cat, Piirrä koiralle", stricter).action == "hold"


@pytest.mark.parametrize("override, message", [
    ({"prompt": {"unreadable": "refuse"}}, "prompt.unreadable"),
    ({"prompt": {"unreadable_share": 0.0}}, "prompt.unreadable_share"),
    ({"prompt": {"unreadable_share": 1.5}}, "prompt.unreadable_share"),
    ({"prompt": {"unreadable_share": "half"}}, "prompt.unreadable_share"),
])
def test_bad_policy_values_are_named(override, message):
    with pytest.raises(PolicyError, match=message):
        load_policy(overrides=override)


def test_every_word_of_a_long_prompt_is_counted():
    r = readability("Piirrä koiralle hattu ja laita se istumaan kylpyammeeseen. " * 300)
    assert r.share > 0.5 and len(r.words) == 5 * 300
