"""Text -> painting (inkgen.generate) and the ``inkgen generate`` CLI, on a tiny trained checkpoint.

The checkpoint: a tiny random BERT (12 wide) saved to tmp, a tiny VQGAN (16 px) and prior trained for a
couple of steps on noisy colour-block images (as in test_train), and a tiny random CLIP for refinement."""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from inkgen.cli import main as cli_main  # noqa: E402
from inkgen.generate import GenerateError, Generator  # noqa: E402
from inkgen.models.clip import build_clip, clip_guidance_loss, freeze, save_clip  # noqa: E402
from inkgen.models.text_encoder import TextEncoder  # noqa: E402

from tiny_models import HASH, TINY_CLIP, train_tiny_generator  # noqa: E402
WORDS = ["a", "red", "green", "blue", "black", "painting", "of", "plum", "blossom", "bird", "flower", "and",
         "ink", "the"]
COLOURS = ["red", "green", "blue", "black"]
PROMPT = "a red flower and bird painting"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_bert(d, hidden: int, max_positions: int = 16):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    d.mkdir(parents=True, exist_ok=True)
    vocab = d / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab_file=str(vocab))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(WORDS) + 5, hidden_size=hidden, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=2 * hidden, max_position_embeddings=max_positions)
    BertModel(cfg).save_pretrained(d)
    tok.save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(prior checkpoint, vqgan-only checkpoint, bert dir, clip path, text encoder)."""
    root = tmp_path_factory.mktemp("gen")
    bert = make_bert(root / "bert", hidden=12)
    enc = TextEncoder(bert, freeze=True, max_tokens=12)
    g = torch.Generator().manual_seed(0)
    n = 8
    x = torch.rand(n, 3, 16, 16, generator=g) * 0.4 - 0.2
    x[:, :, :8] += torch.tensor([1.0, -1.0, 0.5]).view(1, 3, 1, 1) * 0.6
    x = x.clamp(-1, 1)
    captions = [f"a {COLOURS[i % 4]} painting" for i in range(n)]
    vq, pr = train_tiny_generator(root, enc, x, captions)
    clip_path = save_clip(build_clip(TINY_CLIP, seed=0), root / "clip.pt")
    return dict(prior=pr.checkpoint, vqgan=vq.checkpoint, bert=bert, clip=clip_path, enc=enc, root=root)


@pytest.fixture(scope="module")
def gen(setup):
    return Generator.from_checkpoint(setup["prior"], text_encoder=setup["enc"], params_hash=HASH)


def pixels(images):
    return np.stack([np.asarray(im) for im in images])


def test_images_have_the_right_size_and_order(gen, setup):
    ims = gen.generate([PROMPT, "a blue bird"], seed=0, count=2)
    assert len(ims) == 4
    assert all(isinstance(im, Image.Image) and im.mode == "RGB" and im.size == (16, 16) for im in ims)
    # loading by path (the BERT directory) gives the same generator
    g2 = Generator.from_checkpoint(setup["prior"], text_encoder_path=setup["bert"])
    assert (pixels(g2.generate([PROMPT], seed=3)) == pixels(gen.generate([PROMPT], seed=3))).all()


def test_same_seed_same_pixels_other_seed_other_pixels(gen):
    a = pixels(gen.generate([PROMPT], seed=1, count=2))
    b = pixels(gen.generate([PROMPT], seed=1, count=2))
    c = pixels(gen.generate([PROMPT], seed=2, count=2))
    assert (a == b).all()
    assert not (a == c).all()
    assert not (a[0] == a[1]).all()  # the copies of one prompt differ
    greedy = pixels(gen.generate([PROMPT], seed=5, temperature=0.0))
    assert (greedy == pixels(gen.generate([PROMPT], seed=6, temperature=0.0))).all()  # greedy ignores the seed
    top1 = pixels(gen.generate([PROMPT], seed=7, top_k=1))
    assert (top1 == greedy).all()


def test_clip_refinement_changes_image_and_lowers_eq13(gen, setup):
    clip = freeze(build_clip(TINY_CLIP, seed=0))
    base = gen.generate_tensors([PROMPT], seed=0)
    refined = gen.generate_tensors([PROMPT], seed=0, clip_refine_steps=5, clip=setup["clip"], clip_lr=0.1)
    assert not torch.equal(base, refined)
    with torch.no_grad():
        before = float(clip_guidance_loss(clip, base, [PROMPT]))
        after = float(clip_guidance_loss(clip, refined, [PROMPT]))
    assert after < before
    again = gen.generate_tensors([PROMPT], seed=0, clip_refine_steps=5, clip=clip, clip_lr=0.1)
    assert torch.equal(refined, again)  # deterministic, and an InkClip works as well as a path
    with pytest.raises(GenerateError, match="needs a local CLIP"):
        gen.generate([PROMPT], clip_refine_steps=2)


def test_input_errors(gen):
    with pytest.raises(GenerateError, match="empty or whitespace"):
        gen.generate(["   "])
    with pytest.raises(GenerateError, match="empty or whitespace"):
        gen.generate([PROMPT, ""])
    with pytest.raises(GenerateError, match="single string"):
        gen.generate(PROMPT)
    with pytest.raises(GenerateError, match="max_tokens"):
        gen.generate(["a red flower and a blue bird and a green plum blossom painting"])
    with pytest.raises(GenerateError, match="count"):
        gen.generate([PROMPT], count=0)
    with pytest.raises(GenerateError, match="temperature"):
        gen.generate([PROMPT], temperature=-1.0)


def test_the_forked_generator_paints_what_the_in_process_one_paints(setup):
    """`inkgen generate`'s child process (inkgen.forked_generator): the same pixels for the same call."""
    from inkgen.forked_generator import ForkedGenerator, InProcessGenerator

    painted = []
    for painter in (ForkedGenerator(), InProcessGenerator()):
        try:
            painter.load(setup["prior"], threads=1, text_encoder_path=setup["bert"])
            painted.append(pixels(painter.generate([PROMPT, "a blue bird"], seed=4, count=2, top_k=3)))
        finally:
            painter.close()
    assert painted[0].shape == (4, 16, 16, 3) and (painted[0] == painted[1]).all()


def test_the_forked_generator_raises_the_childs_error_in_the_parent(setup, tmp_path):
    from inkgen.forked_generator import ForkedGenerator

    painter = ForkedGenerator()
    try:
        with pytest.raises(GenerateError, match="no checkpoint loaded"):
            painter.generate([PROMPT])
        painter.load(tmp_path / "nope.pt", threads=1, text_encoder_path=setup["bert"])
        for _ in range(2):  # and again on the next call, not a stale answer
            with pytest.raises(GenerateError, match="nope.pt.*does not exist"):
                painter.generate([PROMPT])
    finally:
        painter.close()
    assert not painter._process.is_alive()


def test_checkpoint_errors(setup, tmp_path):
    enc = setup["enc"]
    with pytest.raises(GenerateError, match="does not exist") as info:
        Generator.from_checkpoint(tmp_path / "nope.pt", text_encoder=enc)
    assert "nope.pt" in str(info.value)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(setup["prior"].read_bytes()[:300])
    with pytest.raises(GenerateError, match="corrupt") as info:
        Generator.from_checkpoint(bad, text_encoder=enc)
    assert str(bad) in str(info.value)
    with pytest.raises(GenerateError, match="without the text -> codes prior") as info:
        Generator.from_checkpoint(setup["vqgan"], text_encoder=enc)
    assert str(setup["vqgan"]) in str(info.value)
    with pytest.raises(GenerateError, match="params hash"):
        Generator.from_checkpoint(setup["prior"], text_encoder=enc, params_hash="f" * 64)
    wide = make_bert(tmp_path / "wide", hidden=16)
    with pytest.raises(GenerateError, match="12-d text features.*16-d"):
        Generator.from_checkpoint(setup["prior"], text_encoder_path=wide)
    with pytest.raises(GenerateError, match="text encoder"):
        Generator.from_checkpoint(setup["prior"], text_encoder_path=tmp_path / "no-bert")


def test_cli_writes_pngs(setup, tmp_path, capsys, monkeypatch):
    # Outside any project the governance ledger is the one named, rooted at the working directory, and the
    # checkpoint an image links to must lie under that root (tests/test_governed.py tests the gate itself).
    monkeypatch.chdir(tmp_path)
    shutil.copy(setup["prior"], tmp_path / "prior-last.pt")
    base = ["--checkpoint", str(tmp_path / "prior-last.pt"), "--text-encoder", str(setup["bert"]),
            "--ledger", str(tmp_path / "ledger.jsonl")]
    out = tmp_path / "x.png"
    assert cli_main(["generate", PROMPT, *base, "--out", str(out), "--seed", "4"]) == 0
    assert Image.open(out).size == (16, 16) and str(out) in capsys.readouterr().out
    assert cli_main(["generate", PROMPT, *base, "--out", str(out), "--count", "2", "--top-k", "4",
                     "--temperature", "0.8", "--clip", str(setup["clip"]), "--clip-steps", "2"]) == 0
    printed = capsys.readouterr().out
    for i in range(2):
        p = tmp_path / f"x-{i}.png"
        assert p.is_file() and str(p) in printed and Image.open(p).mode == "RGB"


@pytest.mark.parametrize("args, message", [
    (["   "], "empty or whitespace"),
    ([PROMPT, "--count", "0"], "count"),
    ([PROMPT, "--clip-steps", "3"], "needs --clip"),
    ([PROMPT, "--checkpoint", "/no/such/ckpt.pt"], "does not exist"),
    ([PROMPT, "--guidance-scale", "2"], "needs a prior trained with condition dropout"),  # this one was not
    ([PROMPT, "--guidance-scale", "-1"], "guidance_scale=-1.0 must be a number in [0, 100]"),
])
def test_cli_errors_exit_2_without_traceback(setup, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    shutil.copy(setup["prior"], tmp_path / "prior-last.pt")  # under the ledger's root, as the ledger requires
    argv = ["generate", args[0], "--checkpoint", str(tmp_path / "prior-last.pt"), "--text-encoder", str(setup["bert"]),
            "--out", str(tmp_path / "y.png"), "--ledger", str(tmp_path / "ledger.jsonl"), *args[1:]]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.startswith("error: ")
    assert not (tmp_path / "y.png").exists()


# ------------------------------------------------------------------------------------ cold start (issue 11)
def test_cold_path_paints_the_same_pixels_as_the_transformers_path(setup, tmp_path, monkeypatch):
    """`inkgen generate` runs the BERT without transformers (inkgen.models.bert_lite) on one torch thread; the
    same prompt and seed must give the same pixels as the transformers BERT on the default threads."""
    assert (setup["bert"] / "model.safetensors").is_file() and (setup["bert"] / "tokenizer.json").is_file()
    hf = TextEncoder(setup["bert"], freeze=True, max_tokens=12, lite=False)
    lite = TextEncoder(setup["bert"], freeze=True, max_tokens=12, lite=True)
    assert lite.lite and not hf.lite
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        ref = Generator.from_checkpoint(setup["prior"], text_encoder=hf).generate(
            [PROMPT, "a blue bird and the plum blossom"], seed=5, count=2, temperature=0.9, top_k=6)
    finally:
        torch.set_num_threads(before)
    new = Generator.from_checkpoint(setup["prior"], text_encoder=lite).generate(
        [PROMPT, "a blue bird and the plum blossom"], seed=5, count=2, temperature=0.9, top_k=6)
    assert (pixels(ref) == pixels(new)).all()
    # and through the command line (a fresh BERT loaded by path, lite, --threads 1 by default)
    monkeypatch.chdir(tmp_path)
    shutil.copy(setup["prior"], tmp_path / "prior-last.pt")
    out = tmp_path / "c.png"
    assert cli_main(["generate", PROMPT, "--checkpoint", str(tmp_path / "prior-last.pt"), "--text-encoder",
                     str(setup["bert"]), "--ledger", str(tmp_path / "ledger.jsonl"), "--out", str(out),
                     "--seed", "5", "--temperature", "0.9", "--top-k", "6"]) == 0
    assert (np.asarray(Image.open(out).convert("RGB")) == pixels(ref)[0]).all()


def test_cold_generate_imports_neither_transformers_nor_open_clip(setup, tmp_path):
    """A cold `inkgen generate` (a fresh interpreter) loads only what one image needs: no transformers
    (the BERT runs through inkgen.models.bert_lite), no open_clip (only with --clip), no pypinyin (an
    ASCII prompt, the guardrail lexicon read from its cache); scipy only because the letters hold
    (sacred.letters_hold) reads every prompt the rules would allow with scikit-learn's hashing (pHash needs
    none: governance.phash's DCT); and torch only in the forked generator process (inkgen.forked_generator),
    not in the one that runs the gate (which needs it only for a prompt naming a sacred figure: the dignity
    classifier)."""
    import subprocess
    import sys

    from governance import lexicon, lexicon_cache

    # the cache a first `inkgen generate` leaves behind (the conftest's GOVERNANCE_CACHE_DIR)
    lexicon_cache.cached_lexicon(tuple(lexicon.DATA / n for n in ("motifs.yaml", "mantras.yaml", "multilingual.yaml")),
                                 lexicon.compile_lexicon)
    shutil.copy(setup["prior"], tmp_path / "prior-last.pt")
    code = ("import sys\nfrom inkgen.cli import main\n"
            f"rc = main(['generate', {PROMPT!r}, '--checkpoint', 'prior-last.pt', '--text-encoder', "
            f"{str(setup['bert'])!r}, '--ledger', 'ledger.jsonl', '--out', 'cold.png'])\n"
            "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & {'transformers', 'open_clip', 'pypinyin', 'scipy', 'torch'}))\n"
            "sys.exit(rc)\n")
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cold.png").is_file()
    assert "LOADED ['scipy']" in proc.stdout, proc.stdout
