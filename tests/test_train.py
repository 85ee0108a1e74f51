"""Training loop (inkgen.training): eq. 14 phase, prior phase, determinism, resume, convergence, errors.

Tiny shapes only: 16 px images, 8 channels, codebooks of 16 (+8 global), a tiny CLIP and random text
features (no BERT is loaded)."""

from __future__ import annotations


import pytest
import torch

from inkgen.models.clip import build_clip, freeze
from inkgen.models.cross_modal import TextToCodes
from inkgen.models.vqgan.model import VQGAN
from inkgen.models.vqgan.config import VQGANConfig
from inkgen.models.vqgan.losses import VQGANLoss
from inkgen.training.checkpoint import branch_path
from inkgen.training import (CheckpointError, PhaseData, PriorRun, TextFeatures, TrainError, VQGANRun, checkpoint_path,
                          clip_text_features, convergence_epoch, effective_lambda, epoch_order, file_sha256,
                          generator_objective, load_trained, prior_config, resolve_device, smoothed,
                          train_prior, train_vqgan)

from tiny_models import HASH, PRIOR_SIZES, TINY, TINY_CLIP  # noqa: E402
from inkgen import variants
COLOURS = ["red", "green", "blue", "black"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


RUN = dict(variant="full", seed=0, device="cpu", threads=1, checkpoint_every=2)


def cfg(**kw) -> VQGANRun:
    base = dict(RUN, epochs=2, batch_size=4, lr=2e-3, beta=1.0, eta=0.5, lambda_clip=0.5, disc_start=2, clip_start=0,
                lr_schedule="constant", convergence_window=1, convergence_min_rel_improvement=0.01)
    return VQGANRun(**{**base, **kw})


def pcfg(**kw) -> PriorRun:
    base = dict(RUN, epochs=2, batch_size=4, lr=3e-3, lr_schedule="constant", convergence_window=1,
                convergence_min_rel_improvement=0.01, snapshots=False)
    return PriorRun(**{**base, **kw})


def data(n: int = 8, seed: int = 0):
    """Noisy colour-block images in [-1, 1], captions, and random 'BERT' features."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, 16, 16, generator=g) * 0.4 - 0.2
    x[:, :, :8] += torch.tensor([[1.0], [-1.0], [0.5]]).view(1, 3, 1, 1) * 0.6
    captions = [f"a {COLOURS[i % 4]} painting" for i in range(n)]
    tokens = torch.randn(n, 5, 12, generator=g)
    mask = torch.ones(n, 5, dtype=torch.long)
    mask[::2, 3:] = 0
    pooled = (tokens * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    return x.clamp(-1, 1), captions, TextFeatures(tokens, mask, pooled)


@pytest.fixture(scope="module")
def clip():
    return freeze(build_clip(TINY_CLIP, seed=0))


def run_vqgan(config, tmp=None, clip=None, **kw):
    x, captions, text = data()
    return train_vqgan(config, VQGANConfig.with_flags(variants.variant(config.variant).vqgan, **TINY),
                       PhaseData(x, text, captions), params_hash=HASH, clip=clip, checkpoint_dir=tmp, progress=False,
                       **kw)


def same_state(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# ------------------------------------------------------------------------------------------ config
def test_config_round_trip_and_refusals():
    c = cfg()
    assert VQGANRun.from_dict(c.to_dict()) == c and PriorRun.from_dict(pcfg().to_dict()) == pcfg()
    with pytest.raises(TrainError, match="unknown keys"):
        VQGANRun.from_dict({**c.to_dict(), "bogus": 1})
    d = c.to_dict()
    del d["lr"]
    with pytest.raises(TrainError, match="missing keys"):
        VQGANRun.from_dict(d)
    with pytest.raises(TypeError):
        VQGANRun()  # no defaults: every value comes from params
    for bad in (dict(variant="nope"), dict(device="tpu"), dict(batch_size=0), dict(lr=-1.0), dict(eta=float("nan"))):
        with pytest.raises(TrainError):
            cfg(**bad)


def test_lambda_and_device():
    assert effective_lambda(cfg(variant="no_clip")) == 0.0
    assert effective_lambda(cfg(variant="vqgan")) == 0.0
    assert effective_lambda(cfg(variant="vqgan_clip")) == 0.5
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(TrainError, match="cuda"):
            resolve_device("cuda")


def test_epoch_order_is_a_seeded_permutation():
    a = epoch_order(0, 1, 10)
    assert sorted(a.tolist()) == list(range(10))
    assert torch.equal(a, epoch_order(0, 1, 10)) and not torch.equal(a, epoch_order(0, 2, 10))


# ------------------------------------------------------------------------------------- convergence
def test_convergence_rule():
    assert convergence_epoch([4, 2, 1, 0.99, 0.98], window=1, min_rel_improvement=0.05) == 3
    assert convergence_epoch([4, 2, 1, 0.5], window=1, min_rel_improvement=0.05) is None  # still improving
    assert convergence_epoch([4, 5], window=1, min_rel_improvement=0.0) == 1  # got worse
    assert convergence_epoch([3.0], window=1, min_rel_improvement=0.1) is None  # nothing to compare
    # a plateau that training later leaves is not convergence ("never again improves", params.yaml)
    assert convergence_epoch([4, 2, 2, 1, 0.99, 0.98], window=1, min_rel_improvement=0.05) == 4
    # nor is one noisy epoch, smoothed or not
    noisy = [10, 8, 8.2, 6, 5, 4.9, 4.9, 4.9]
    assert convergence_epoch(noisy, window=1, min_rel_improvement=0.01) == 6
    assert smoothed(noisy, 2) == [9.0, 8.1, 7.1, 5.5, 4.95, 4.9, 4.9]
    assert convergence_epoch(noisy, window=2, min_rel_improvement=0.02) == 6
    with pytest.raises(ValueError):
        convergence_epoch([1, 2], window=0, min_rel_improvement=0.1)
    with pytest.raises(ValueError, match="epoch 2"):
        convergence_epoch([1, float("nan")], window=1, min_rel_improvement=0.1)


# ---------------------------------------------------------------------------------------- phase 1
def test_vqgan_loss_decreases_and_reports(clip):
    seen = []
    r = run_vqgan(cfg(epochs=6, disc_start=1000), clip=clip, on_epoch=seen.append)
    rec = [h["rec"] for h in r.history]
    assert r.complete and r.steps == 12 and len(seen) == 6
    assert rec[-1] < rec[0] * 0.9
    assert r.history[-1]["val_loss"] < r.history[0]["val_loss"]
    last = seen[-1]
    for key in ("loss", "rec", "vq", "clip", "val_psnr", "val_detail_usage", "val_global_usage",
                "images_per_second"):
        assert key in last
    assert 0 < last["val_detail_usage"] <= 1 and last["clip"] > 0 and r.images_per_second > 0


def test_clip_gradient_reaches_generator_only_with_lambda(clip):
    x, captions, text = data(4)
    vcfg = VQGANConfig.with_flags(variants.variant("full").vqgan, **TINY)
    ct = clip_text_features(clip, captions)

    def enc_grads(lam, with_clip=True):
        model = VQGAN(vcfg, seed=0)
        loss_fn = VQGANLoss(vcfg, beta=1.0, eta=0.5, lam=lam, disc_start=100)
        loss, log, _ = generator_objective(model, loss_fn, x, 0, pooled=text.pooled,
                                           clip=clip if with_clip else None, clip_text=ct if with_clip else None)
        loss.backward()
        return torch.cat([p.grad.flatten() for p in model.encoder.parameters() if p.grad is not None]), log

    g_clip, log = enc_grads(1.0)
    g_none, log0 = enc_grads(0.0)
    g_absent, _ = enc_grads(0.0, with_clip=False)
    assert log["clip"] > 0 and log0["clip"] == 0.0
    assert not torch.allclose(g_clip, g_none)          # L_CLIP back-propagates into the encoder
    assert torch.equal(g_none, g_absent)               # lambda = 0: CLIP plays no part at all
    assert all(p.grad is None for p in clip.parameters())  # the guide itself is not trained


def test_no_clip_variant_trains_without_clip():
    r = run_vqgan(cfg(variant="no_clip", epochs=1))
    assert r.complete and r.history[0]["clip"] == 0.0
    r = run_vqgan(cfg(variant="vqgan", epochs=1))  # single codebook, no text style norm
    assert "val_global_usage" not in r.history[0]


def test_vqgan_checkpoint_is_byte_identical(tmp_path, clip):
    a = run_vqgan(cfg(), tmp_path / "a", clip=clip)
    b = run_vqgan(cfg(), tmp_path / "b", clip=clip)
    assert a.checkpoint.name == "vqgan-last.pt"
    assert file_sha256(a.checkpoint) == file_sha256(b.checkpoint)
    c = run_vqgan(cfg(seed=1), tmp_path / "c", clip=clip)
    assert file_sha256(a.checkpoint) != file_sha256(c.checkpoint)


@pytest.mark.parametrize("stop", [3, 4])  # mid-epoch, and exactly at an epoch's end (2 steps/epoch)
def test_vqgan_resume_equals_uninterrupted(tmp_path, clip, stop):
    config = cfg(epochs=3, disc_start=1, checkpoint_every=2)
    full = run_vqgan(config, tmp_path / "full", clip=clip)
    part = run_vqgan(config, tmp_path / "run", clip=clip, stop_after_steps=stop)
    assert not part.complete and part.steps == stop
    ck = torch.load(checkpoint_path(tmp_path / "run", "vqgan"), weights_only=True)
    assert ck["step"] == 2 * (stop // 2) and ck["params_hash"] == HASH
    assert ck["train_config"] == config.to_dict() and "vqgan_config" in ck
    resumed = run_vqgan(config, tmp_path / "run", clip=clip, resume=True)
    assert resumed.complete and resumed.steps == full.steps
    assert same_state(resumed.model, full.model) and same_state(resumed.discriminator, full.discriminator)
    assert resumed.history == full.history
    assert file_sha256(resumed.checkpoint) == file_sha256(full.checkpoint)


@pytest.mark.parametrize("clip_start", [0, 3, 99])  # at the start, mid-run (mid-epoch), past the end
def test_a_guided_run_branched_from_its_twin_equals_one_from_scratch(tmp_path, clip, clip_start):
    """full = no_clip until clip_start: the stage runs that stretch once (vqgan-branch.pt) and continues it."""
    guided = cfg(epochs=3, disc_start=1, clip_start=clip_start)
    scratch = run_vqgan(guided, tmp_path / "scratch", clip=clip)
    twin = run_vqgan(cfg(epochs=3, disc_start=1, clip_start=clip_start, variant="no_clip"), tmp_path / "twin",
                     branch_at=clip_start)
    branched = run_vqgan(guided, tmp_path / "full", clip=clip, resume=True,
                         branch_from=branch_path(tmp_path / "twin"))
    assert same_state(branched.model, scratch.model) and same_state(branched.discriminator, scratch.discriminator)
    assert branched.history == scratch.history and branched.steps == scratch.steps
    assert file_sha256(branched.checkpoint) == file_sha256(scratch.checkpoint)
    if clip_start == 0:
        assert not same_state(twin.model, scratch.model)


def test_a_branch_of_another_run_is_refused(tmp_path, clip):
    run_vqgan(cfg(epochs=2, clip_start=2, variant="no_clip"), tmp_path / "twin", branch_at=2)
    with pytest.raises(CheckpointError, match="train_config") as info:  # another seed: another run
        run_vqgan(cfg(epochs=2, clip_start=2, seed=1), tmp_path / "a", clip=clip, branch_from=branch_path(tmp_path / "twin"))
    assert "vqgan-branch.pt" in str(info.value)
    with pytest.raises(CheckpointError, match="not at clip_start"):  # the twin's last state is no branch point
        run_vqgan(cfg(epochs=2, clip_start=2), tmp_path / "b", clip=clip,
                  branch_from=checkpoint_path(tmp_path / "twin", "vqgan"))
    with pytest.raises(CheckpointError, match="does not exist"):
        run_vqgan(cfg(epochs=2, clip_start=2), tmp_path / "c", clip=clip, branch_from=tmp_path / "nowhere.pt")


def test_corrupt_or_foreign_checkpoint_is_refused(tmp_path, clip):
    config = cfg(epochs=1)
    r = run_vqgan(config, tmp_path, clip=clip)
    path = r.checkpoint
    x, captions, text = data()
    vcfg = VQGANConfig.with_flags(variants.variant("full").vqgan, **TINY)
    with pytest.raises(CheckpointError, match="params hash") as info:
        train_vqgan(config, vcfg, PhaseData(x, text, captions), params_hash="f" * 64, clip=clip,
                    checkpoint_dir=tmp_path, resume=True, progress=False)
    assert str(path) in str(info.value)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="corrupt") as info:
        run_vqgan(config, tmp_path, clip=clip, resume=True)
    assert str(path) in str(info.value)
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupt"):
        run_vqgan(config, tmp_path, clip=clip, resume=True)


def test_phase1_input_errors(clip):
    x, captions, text = data()
    vcfg = VQGANConfig.with_flags(variants.variant("full").vqgan, **TINY)
    with pytest.raises(TrainError, match="pooled text"):
        train_vqgan(cfg(), vcfg, PhaseData(x, captions=captions), params_hash=HASH, clip=clip, progress=False)
    with pytest.raises(TrainError, match="needs a CLIP"):
        train_vqgan(cfg(), vcfg, PhaseData(x, text, captions), params_hash=HASH, progress=False)
    with pytest.raises(TrainError, match=r"\(N, 3, 16, 16\)"):
        train_vqgan(cfg(), vcfg, PhaseData(x[:, :, :8], text, captions), params_hash=HASH, clip=clip, progress=False)
    short = TextFeatures(text.tokens[:3], text.mask[:3], text.pooled[:3])
    with pytest.raises(TrainError, match="do not fit"):
        train_vqgan(cfg(), vcfg, PhaseData(x, short, captions), params_hash=HASH, clip=clip, progress=False)


# ---------------------------------------------------------------------------------------- phase 2
@pytest.fixture(scope="module")
def trained_vqgan():
    return run_vqgan(cfg(variant="no_clip", epochs=1)).model


def run_prior(config, vqgan, tmp=None, **kw):
    x, _, text = data()
    cm = prior_config(vqgan, text.dim, config.variant, **PRIOR_SIZES)
    return train_prior(config, vqgan, cm, PhaseData(x, text), params_hash=HASH, checkpoint_dir=tmp, progress=False,
                       **kw)


def test_prior_trains_and_loss_decreases(trained_vqgan, tmp_path):
    r = run_prior(pcfg(variant="no_clip", epochs=5, lr=1e-2), trained_vqgan, tmp_path)
    losses = [h["loss"] for h in r.history]
    assert r.complete and losses[-1] < losses[0] and "val_loss" in r.history[-1]
    assert [tuple(c.shape) for c in r.codes] == [(8, 2, 2), (8, 4, 4)]
    vq, prior, ck = load_trained(r.checkpoint, params_hash=HASH)
    assert isinstance(prior, TextToCodes) and same_state(prior, r.model) and same_state(vq, trained_vqgan)
    assert ck["cross_modal_config"]["use_alignment"] is True


def test_prior_variant_decides_alignment(trained_vqgan):
    _, _, text = data()
    assert prior_config(trained_vqgan, 12, "no_transformer", **PRIOR_SIZES).use_alignment is False
    r = run_prior(pcfg(variant="no_transformer", epochs=1), trained_vqgan)
    assert r.complete and not r.model.config.use_alignment
    x = data()[0]
    wrong = prior_config(trained_vqgan, 12, "full", **PRIOR_SIZES)
    with pytest.raises(TrainError, match="use_alignment"):
        train_prior(pcfg(variant="no_transformer"), trained_vqgan, wrong, PhaseData(x, text), params_hash=HASH,
                    progress=False)
    with pytest.raises(TrainError, match="decided by"):
        prior_config(trained_vqgan, 12, "full", streams=())


def test_prior_deterministic_and_resumable(trained_vqgan, tmp_path):
    config = pcfg(variant="no_clip", epochs=3, checkpoint_every=3)  # 2 steps per epoch
    a = run_prior(config, trained_vqgan, tmp_path / "a")
    b = run_prior(config, trained_vqgan, tmp_path / "b")
    assert file_sha256(a.checkpoint) == file_sha256(b.checkpoint)
    part = run_prior(config, trained_vqgan, tmp_path / "c", stop_after_steps=2)  # killed before any checkpoint
    assert not part.complete and part.checkpoint is None
    part = run_prior(config, trained_vqgan, tmp_path / "c", stop_after_steps=5, resume=True)
    assert torch.load(part.checkpoint, weights_only=True)["step"] == 3
    resumed = run_prior(config, trained_vqgan, tmp_path / "c", resume=True)
    assert same_state(resumed.model, a.model) and resumed.history == a.history
    assert file_sha256(resumed.checkpoint) == file_sha256(a.checkpoint)
    other = VQGAN(trained_vqgan.config, seed=5)
    with pytest.raises(CheckpointError, match="other weights"):
        run_prior(config, other, tmp_path / "c", resume=True)


def test_text_encoder_finetunes_with_the_prior_and_is_restored(trained_vqgan, tmp_path):
    """text_encoder.finetune: the BERT's weights change with the prior's, are saved in the checkpoint,
    and come back on resume and in generation."""
    from inkgen.generate import Generator
    from inkgen.models.text_encoder import TextEncoder
    from inkgen.training import FineTunedTextFeatures
    from tiny_models import write_tiny_bert

    bert_dir = write_tiny_bert(tmp_path / "bert", hidden=12)  # the tiny VQGAN expects 12-d text
    x, captions, _ = data()
    config = pcfg(variant="no_clip", epochs=2, checkpoint_every=2)

    def run(folder, **kw):
        enc = TextEncoder(bert_dir, freeze=False, max_tokens=16)
        text = FineTunedTextFeatures(enc, captions)
        cm = prior_config(trained_vqgan, text.dim, "no_clip", **PRIOR_SIZES)
        return enc, train_prior(config, trained_vqgan, cm, PhaseData(x, text), params_hash=HASH,
                                checkpoint_dir=folder, progress=False, finetune_lr=1e-3, **kw)

    before = TextEncoder(bert_dir, freeze=True)
    enc, result = run(tmp_path / "a")
    assert not same_state(enc.bert, before.bert), "fine-tuning left the BERT unchanged"
    ck = torch.load(result.checkpoint, weights_only=True)
    assert all(torch.equal(ck["text_encoder_state"][k], v) for k, v in enc.bert.state_dict().items())
    run(tmp_path / "b", stop_after_steps=3)
    enc_b, resumed = run(tmp_path / "b", resume=True)
    assert same_state(enc_b.bert, enc.bert) and same_state(resumed.model, result.model)
    gen = Generator.from_checkpoint(result.checkpoint, text_encoder_path=bert_dir)
    assert same_state(gen.text_encoder.bert, enc.bert)
    with pytest.raises(TrainError, match="finetune_lr"):
        train_prior(config, trained_vqgan, prior_config(trained_vqgan, 12, "no_clip", **PRIOR_SIZES),
                    PhaseData(x, FineTunedTextFeatures(TextEncoder(bert_dir, freeze=False), captions)),
                    params_hash=HASH, progress=False)
    with pytest.raises(TrainError, match="freeze=False"):
        FineTunedTextFeatures(before, captions)


def test_prior_snapshots_hold_each_epochs_weights(trained_vqgan, tmp_path):
    from inkgen.training import load_snapshot, snapshot_path

    r = run_prior(pcfg(variant="no_clip", epochs=2, snapshots=True), trained_vqgan, tmp_path)
    first, last = snapshot_path(tmp_path, 1), snapshot_path(tmp_path, 2)
    assert first.is_file() and last.is_file() and not snapshot_path(tmp_path, 3).exists()
    assert same_state(load_snapshot(last, r.model, params_hash=HASH), r.model)
    assert not same_state(load_snapshot(first, r.model, params_hash=HASH), r.model)
    with pytest.raises(CheckpointError, match="prior-snapshot"):
        load_snapshot(r.checkpoint, r.model)


def test_clip_term_joins_at_clip_start_and_the_cosine_schedule_decays_to_zero(clip):
    from inkgen.training.config import lr_factor

    assert lr_factor("constant", 7, 10) == 1.0
    assert lr_factor("cosine", 0, 10) == 1.0 and lr_factor("cosine", 5, 10) == pytest.approx(0.5)
    assert lr_factor("cosine", 10, 10) == pytest.approx(0.0)
    seen = []
    r = run_vqgan(cfg(epochs=2, clip_start=2, disc_start=1000, lr_schedule="cosine"), clip=clip,
                  on_epoch=seen.append)
    assert r.complete
    # 2 epochs of 2 steps: no L_CLIP in epoch 1 (steps 0-1), L_CLIP in every step of epoch 2
    assert seen[0]["clip"] == 0.0 and seen[1]["clip"] > 0.0
    with pytest.raises(TrainError, match="lr_schedule: 'linear' is not one of"):
        cfg(lr_schedule="linear")
