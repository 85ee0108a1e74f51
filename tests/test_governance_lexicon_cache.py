"""The compiled-lexicon cache (governance.lexicon_cache), the lazy script libraries of governance.normalize and
the scipy-free pHash (governance.phash): the same decisions and hashes as the slow paths, a cache refused and
rebuilt whenever a lexicon file changes or the file is tampered with (issue 11, cold `inkgen generate`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import imagehash
import numpy as np
import pytest
import yaml
from PIL import Image

from governance import lexicon
from governance import lexicon_cache as lc
from governance.decisions import check_prompt
from governance.guardrail_eval import EVAL_DIR, read_category
from governance.phash import phash
from governance.policy import load_policy

SRC = Path(__file__).resolve().parents[1]
FILES = ("motifs.yaml", "mantras.yaml", "multilingual.yaml")


@pytest.fixture(scope="module")
def compiled():
    return lexicon.compile_lexicon()


@pytest.fixture()
def lexdir(tmp_path, monkeypatch):
    """A copy of the lexicon files and an empty cache folder (GOVERNANCE_CACHE_DIR) for one test."""
    d = tmp_path / "lexicon"
    d.mkdir()
    for name in FILES:
        shutil.copy(lexicon.DATA / name, d / name)
    monkeypatch.setenv("GOVERNANCE_CACHE_DIR", str(tmp_path / "cache"))
    return d


def _paths(d: Path) -> tuple[Path, ...]:
    return tuple(d / n for n in FILES)


class Spy:
    """compile_lexicon, counting its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, *paths):
        self.calls += 1
        return lexicon.compile_lexicon(*paths)


def test_round_trip_is_exact(compiled):
    tree = lc.encode_lexicon(compiled)
    back = lc.decode_lexicon(json.loads(json.dumps(tree)))
    assert lc.encode_lexicon(back) == tree
    assert back.motifs == compiled.motifs and back.postures == compiled.postures and back.image == compiled.image
    assert [m.phonetic[0].pattern for m in back.mantras if m.phonetic] == \
        [m.phonetic[0].pattern for m in compiled.mantras if m.phonetic]


def test_the_cache_key_covers_every_module_the_compiler_loads():
    """Every governance module that loading the compiler imports is keyed (MODULES), except those that
    cannot change what the cache holds: a module left out would let a stale lexicon be served after it changed."""
    code = ("import json, sys\nimport governance.lexicon\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('governance.'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=SRC, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = {m.split(".", 1)[1] + ".py" for m in json.loads(proc.stdout)}
    # the cache folder; decodings, misspellings, respellings, masked names and keyboard readings searched per prompt
    not_compiled_in = {"cache.py", "encodings.py", "ciphers.py", "misspellings.py", "mantra_respellings.py",
                       "masked_names.py", "keyboard_layouts.py"}
    assert loaded - not_compiled_in == set(lc.MODULES)


def test_second_load_comes_from_the_cache_without_compiling(lexdir, compiled):
    spy = Spy()
    first = lc.cached_lexicon(_paths(lexdir), spy)
    assert spy.calls == 1
    files = list((lexdir.parent / "cache").glob("lexicon-*.json"))
    assert len(files) == 1
    second = lc.cached_lexicon(_paths(lexdir), spy)
    assert spy.calls == 1  # read, not compiled
    assert lc.encode_lexicon(second) == lc.encode_lexicon(first) == lc.encode_lexicon(compiled)


def test_a_changed_lexicon_file_is_never_served_from_the_old_cache(lexdir):
    spy = Spy()
    lc.cached_lexicon(_paths(lexdir), spy)
    motifs = lexdir / "motifs.yaml"
    motifs.write_text(motifs.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")  # any byte counts
    changed = lc.cached_lexicon(_paths(lexdir), spy)
    assert spy.calls == 2
    assert len(list((lexdir.parent / "cache").glob("lexicon-*.json"))) == 2  # one per key
    assert lc.encode_lexicon(changed) == lc.encode_lexicon(lexicon.compile_lexicon(*_paths(lexdir)))


def test_a_term_added_to_a_lexicon_file_is_found_after_the_cache_was_built(lexdir):
    spy = Spy()
    before = lc.cached_lexicon(_paths(lexdir), spy)
    mantras = lexdir / "mantras.yaml"
    doc = yaml.safe_load(mantras.read_text(encoding="utf-8"))
    doc["symbols"] = list(doc.get("symbols") or []) + ["\u2638"]
    mantras.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    after = lc.cached_lexicon(_paths(lexdir), spy)
    assert spy.calls == 2
    assert "\u2638" in after.symbols and "\u2638" not in before.symbols


@pytest.mark.parametrize("damage", ["edit", "truncate", "foreign_tag", "key"])
def test_a_tampered_cache_file_is_refused_and_rebuilt(lexdir, damage):
    spy = Spy()
    good = lc.cached_lexicon(_paths(lexdir), spy)
    key = lc.lexicon_key(_paths(lexdir))
    path = lc.cache_path(key)
    doc = json.loads(path.read_text(encoding="utf-8"))
    if damage == "edit":  # a mantra's written forms emptied, the digest left as it was
        doc["lexicon"]["mantras"]["tuple"][0]["Mantra"][2]["Terms"][0] = []
        path.write_text(json.dumps(doc), encoding="utf-8")
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "foreign_tag":  # a tag this format never writes, with a digest that matches it
        doc["lexicon"]["symbols"] = {"pickle": ["cos\nsystem\n"]}
        doc["payload_sha256"] = hashlib.sha256(lc._payload_bytes(doc["lexicon"])).hexdigest()
        path.write_text(json.dumps(doc), encoding="utf-8")
    else:
        doc["key"] = "0" * 64
        path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(lc.CacheError):
        lc.read_cache(path, key)
    again = lc.cached_lexicon(_paths(lexdir), spy)
    assert spy.calls == 2  # compiled afresh
    assert lc.encode_lexicon(again) == lc.encode_lexicon(good)
    assert lc.encode_lexicon(lc.read_cache(path, key)) == lc.encode_lexicon(good)  # and rewritten whole


def test_cache_off(lexdir, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_CACHE_DIR", "off")
    spy = Spy()
    lc.cached_lexicon(_paths(lexdir), spy)
    lc.cached_lexicon(_paths(lexdir), spy)
    assert spy.calls == 2 and not (lexdir.parent / "cache").exists()


def test_same_decisions_from_the_cached_and_the_compiled_lexicon(lexdir, compiled, monkeypatch):
    """24 category files spread over the guardrail evaluation sets (a fixed number: the sets grow every round),
    first 12 prompts each, plus the benign and hostile lists' first 40: the full decision (action, reasons,
    spans) is identical."""
    import governance.decisions as decisions

    lc.cached_lexicon(_paths(lexdir), Spy())
    cached = lc.cached_lexicon(_paths(lexdir), lambda *p: pytest.fail("compiled instead of read"))
    policy = load_policy()
    prompts = []
    files = sorted(Path(EVAL_DIR).glob("*.yaml"))
    for f in files[::max(1, len(files) // 24)]:
        prompts += read_category(f)[1][:12]
    for name in ("prompts_benign.txt", "prompts_hostile.txt"):
        lines = (lexicon.DATA / name).read_text(encoding="utf-8").splitlines()
        prompts += [x for x in lines if x.strip() and not x.startswith("#")][:40]
    assert len(prompts) > 150
    out = {}
    for which, lex in (("compiled", compiled), ("cached", cached)):
        monkeypatch.setattr(decisions, "load_lexicon", lambda lex=lex: lex)
        out[which] = [check_prompt(p, policy).to_dict() for p in prompts]
    assert out["cached"] == out["compiled"]
    assert {d["action"] for d in out["compiled"]} >= {"allow", "refuse"}  # the subset exercises the rules


def test_phash_is_bit_identical_to_imagehash():
    """Random images of many sizes and modes, flat and mirror-symmetric ones (the near-tie fallback), and
    smooth gradients: the numpy DCT gives imagehash.phash's hash every time."""
    rng = np.random.default_rng(11)
    images = []
    for n in range(240):
        h, w = int(rng.integers(8, 160)), int(rng.integers(8, 160))
        kind = n % 4
        if kind == 0:
            a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        elif kind == 1:  # smooth: low frequencies dominate, as in paintings
            y, x = np.mgrid[0:h, 0:w]
            a = np.clip(128 + 100 * np.sin(x / rng.uniform(3, 30) + rng.uniform(0, 6)) * np.cos(y / rng.uniform(3, 30)),
                        0, 255).astype(np.uint8)
        elif kind == 2:
            a = rng.integers(0, 256, (h, w), dtype=np.uint8)
            a = np.concatenate([a, a[:, ::-1]], axis=1)  # exactly symmetric
        else:
            a = np.full((h, w, 3), int(rng.integers(0, 256)), dtype=np.uint8)
            a[: h // 2] = int(rng.integers(0, 256))
        images.append(Image.fromarray(a))
    images += [Image.new(m, (40, 30), c) for m, c in (("L", 0), ("L", 255), ("RGB", (9, 200, 30)), ("RGBA", (1, 2, 3, 4)))]
    for im in images:
        assert phash(im) == int(str(imagehash.phash(im)), 16)


def _fresh(code: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "GOVERNANCE_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def test_an_ascii_prompt_loads_neither_pypinyin_nor_scipy(tmp_path):
    """With the cache built, checking a Latin-script prompt and hashing an image import neither pypinyin
    (nor the Devanagari / Tibetan transliterators) nor scipy; a Chinese prompt loads pypinyin when it needs it, and
    scipy only when the letters classifier reads it: what the rules would hold (its refusal), and, under the
    shipped policy, what they would allow too (its hold, sacred.letters_hold; off here but in the last case)."""
    code = ("import sys\nfrom PIL import Image\nfrom governance.decisions import check_prompt\n"
            "from governance.policy import load_policy\nfrom governance.phash import phash\n"
            "p = load_policy(overrides={'sacred': {'letters_hold': False}})\n"
            "print('ACTION', check_prompt(sys.argv[1] if len(sys.argv) > 1 else "
            "'a heron by the river, light ink', p).action)\nphash(Image.new('RGB', (64, 64), (3, 90, 7)).rotate(20))\n"
            "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & "
            "{'pypinyin', 'scipy', 'indic_transliteration', 'pyewts'}))\n")
    cache = tmp_path / "cache"
    warm = _fresh(code, cache)  # builds the cache (compiling loads pypinyin)
    assert warm.returncode == 0, warm.stderr
    cold = _fresh(code, cache)
    assert cold.returncode == 0, cold.stderr
    assert "ACTION allow" in cold.stdout and "LOADED []" in cold.stdout, cold.stdout
    zh = _fresh(code.replace("'a heron by the river, light ink'", "'画一只白鹭'"), cache)
    assert zh.returncode == 0, zh.stderr
    assert "ACTION allow" in zh.stdout and "LOADED ['pypinyin']" in zh.stdout, zh.stdout
    # a prompt the rules hold is read once more by the letters classifier (scikit-learn's hashing: scipy)
    held = _fresh(code.replace("'a heron by the river, light ink'", "'画一尊观音菩萨像'"), cache)
    assert "ACTION hold" in held.stdout and "LOADED ['pypinyin', 'scipy']" in held.stdout, held.stdout
    shipped = _fresh(code.replace("overrides={'sacred': {'letters_hold': False}}", ""), cache)
    assert "ACTION allow" in shipped.stdout and "LOADED ['scipy']" in shipped.stdout, shipped.stdout


# ------------------------------------------------------------------ SIFT keypoints of references, kept on disk
def _painting(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:64, 0:64]
    a = np.clip(200 - 90 * (np.sin(x / rng.uniform(2, 9)) * np.cos(y / rng.uniform(2, 9)) > 0.3)[..., None]
                + rng.normal(0, 12, (64, 64, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(a).save(path)
    return path


def test_stored_keypoints_give_the_same_features_and_evidence(tmp_path, monkeypatch):
    import dataclasses

    from governance import keypoint_store
    from governance.copy_verify import evidence, features, query_features

    monkeypatch.setenv("GOVERNANCE_CACHE_DIR", str(tmp_path / "cache"))
    files = [_painting(tmp_path / f"ref{i}.png", i) for i in range(6)]
    query = query_features(Image.open(files[2]).rotate(7))
    plain = [features(Image.open(f)) for f in files]
    written = [features(Image.open(f), f) for f in files]
    assert len(list((tmp_path / "cache" / "sift").glob("*.npz"))) == 6
    calls = []
    monkeypatch.setattr("governance.copy_verify.sift", lambda grey: calls.append(1))  # read, never detected
    read = [features(Image.open(f), f) for f in files]
    assert not calls
    for a, b, c in zip(plain, written, read):
        for f in dataclasses.fields(a):
            x, y, z = (getattr(v, f.name) for v in (a, b, c))
            assert (x is None and y is None and z is None) or (np.array_equal(x, z) and x.dtype == z.dtype
                                                               and np.array_equal(x, y))
        assert evidence(query, a) == evidence(query, c)
    assert keypoint_store.entry_key(files[0]) != keypoint_store.entry_key(files[1])


@pytest.mark.parametrize("damage", ["edit", "truncate", "image_changed"])
def test_a_tampered_or_stale_keypoint_entry_is_detected_afresh(tmp_path, monkeypatch, damage):
    from governance import keypoint_store
    from governance.copy_verify import features, sift

    monkeypatch.setenv("GOVERNANCE_CACHE_DIR", str(tmp_path / "cache"))
    f = _painting(tmp_path / "ref.png", 3)
    good = features(Image.open(f), f)
    key = keypoint_store.entry_key(f)
    entry = tmp_path / "cache" / "sift" / f"{key[:32]}.npz"
    if damage == "edit":  # keypoints moved, the digest left as it was
        with np.load(entry) as z:
            data = {k: z[k] for k in z.files}
        data["points"] = data["points"] + 1
        np.savez(entry, **data)
    elif damage == "truncate":
        entry.write_bytes(entry.read_bytes()[:200])
    else:
        _painting(f, 4)  # the reference image itself replaced: a new key, never the old keypoints
    if damage != "image_changed":
        with pytest.raises(keypoint_store.StoreError):
            keypoint_store.read_entry(entry, key)
    calls = []
    monkeypatch.setattr("governance.copy_verify.sift", lambda grey: calls.append(1) or sift(grey))
    again = features(Image.open(f), f)
    assert calls == [1]
    expected = features(Image.open(f)) if damage == "image_changed" else good
    assert np.array_equal(again.points, expected.points) and np.array_equal(again.descriptors, expected.descriptors)


def test_the_compiled_lexicon_is_the_same_in_every_process():
    """The cache holds the compiled patterns: two processes with different hash seeds must compile the same
    bytes (a set's iteration order follows the seed; the phonetic patterns sort their alternatives)."""
    code = ("import hashlib, json\nfrom governance import lexicon, lexicon_cache as lc\n"
            "print(hashlib.sha256(json.dumps(lc.encode_lexicon(lexicon.compile_lexicon()), sort_keys=True)"
            ".encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert len(digests) == 1, digests
