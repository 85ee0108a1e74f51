"""Classifier-free guidance: condition dropout in phase 2 (``prior_train.uncond_prob``) and guided sampling
(``generate.guidance_scale``, :mod:`inkgen.models.sampling`), on tiny models the tests train."""

from __future__ import annotations

import pytest
import torch

from inkgen.generate import GenerateError, Generator
from inkgen.models.sampling import generate_codes
from inkgen.models.text_encoder import TextEncoder
from inkgen.training import PhaseData, PriorRun, TrainError, prior_config, train_prior
from inkgen.training.features import FineTunedTextFeatures, TextFeatures, drop_captions, empty_caption_features
from tiny_models import HASH, PRIOR_SIZES, train_tiny_generator, write_tiny_bert

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CAPTIONS = ["a red painting of plum blossom", "a blue mountain river", "a black ink bird", "a green plum"] * 2


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("guidance")
    enc = TextEncoder(write_tiny_bert(root / "bert", hidden=12), freeze=True, max_tokens=16)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(len(CAPTIONS), 3, 16, 16, generator=g) * 2 - 1).clamp(-1, 1)
    guided = train_tiny_generator(root / "guided", enc, x, CAPTIONS, prior_epochs=2, uncond_prob=0.5)
    plain = train_tiny_generator(root / "plain", enc, x, CAPTIONS, prior_epochs=1)
    return dict(enc=enc, x=x, guided=guided, plain=plain)


def test_the_empty_caption_is_cls_and_sep_alone(trained):
    empty = empty_caption_features(trained["enc"])
    assert tuple(empty.tokens.shape) == (1, 2, 12) and empty.mask.tolist() == [[1, 1]]
    assert torch.allclose(empty.pooled, empty.tokens.mean(dim=1))


def test_dropped_rows_become_the_empty_caption_and_the_others_stay(trained):
    from inkgen.training import encode_captions

    text = encode_captions(trained["enc"], CAPTIONS[:4])
    empty = empty_caption_features(trained["enc"])
    batch = text.batch(torch.arange(4))
    drop = torch.tensor([False, True, False, True])
    tokens, mask, pooled = drop_captions(batch, empty, drop)
    for r in (0, 2):
        assert torch.equal(tokens[r], batch[0][r]) and torch.equal(mask[r], batch[1][r])
    for r in (1, 3):
        assert torch.equal(tokens[r, :2], empty.tokens[0]) and not tokens[r, 2:].any()
        assert mask[r].tolist() == [1, 1] + [0] * (mask.shape[1] - 2)
        assert torch.equal(pooled[r], empty.pooled[0])
    assert torch.equal(batch[0][1], text.batch(torch.arange(4))[0][1])  # the input batch is not changed


def test_scale_zero_paints_the_empty_caption_and_scale_one_is_plain_sampling(trained):
    """s = 0 leaves only the unconditional logits: every row then samples what the empty caption samples
    with the same noise; s = 1 is the plain sampler, bit for bit."""
    enc, model = trained["enc"], trained["guided"][1].model
    tokens, mask, pooled = (t.float() if t.is_floating_point() else t for t in enc.encode(CAPTIONS[:4]))
    empty = tuple(t.float() if t.is_floating_point() else t for t in enc.empty_caption())
    kw = dict(temperature=1.0, top_k=4, seed=3)
    at_zero = generate_codes(model, tokens, mask, pooled, guidance_scale=0.0, empty=empty, **kw)
    e_tokens, e_mask, e_pooled = (t.expand(4, *t.shape[1:]) for t in empty)
    unconditional = generate_codes(model, e_tokens, e_mask, e_pooled, **kw)
    assert all(torch.equal(a, b) for a, b in zip(at_zero, unconditional))
    plain = generate_codes(model, tokens, mask, pooled, **kw)
    at_one = generate_codes(model, tokens, mask, pooled, guidance_scale=1.0, empty=empty, **kw)
    assert all(torch.equal(a, b) for a, b in zip(plain, at_one))
    guided = generate_codes(model, tokens, mask, pooled, guidance_scale=3.0, empty=empty, **kw)
    assert not all(torch.equal(a, b) for a, b in zip(plain, guided))


def test_guided_rows_do_not_depend_on_the_chunk_size(trained):
    enc, model = trained["enc"], trained["guided"][1].model
    tokens, mask, pooled = (t.float() if t.is_floating_point() else t for t in enc.encode(CAPTIONS[:5]))
    empty = tuple(t.float() if t.is_floating_point() else t for t in enc.empty_caption())
    kw = dict(seed=1, top_k=4, guidance_scale=2.5, empty=empty)
    by_two = generate_codes(model, tokens, mask, pooled, batch=2, **kw)
    at_once = generate_codes(model, tokens, mask, pooled, batch=5, **kw)
    assert all(torch.equal(a, b) for a, b in zip(by_two, at_once))


def test_the_checkpoint_says_whether_the_prior_can_be_guided(trained):
    guided = Generator.from_checkpoint(trained["guided"][1].checkpoint, text_encoder=trained["enc"], params_hash=HASH)
    plain = Generator.from_checkpoint(trained["plain"][1].checkpoint, text_encoder=trained["enc"], params_hash=HASH)
    assert guided.guidable and not plain.guidable
    assert guided.generate_tensors(["a red plum"], guidance_scale=2.0).shape == (1, 3, 16, 16)
    with pytest.raises(GenerateError, match="condition dropout.*uncond_prob"):
        plain.generate_tensors(["a red plum"], guidance_scale=2.0)
    for bad in (-1.0, 101.0, True, "2", float("nan")):
        with pytest.raises(GenerateError, match="guidance_scale"):
            guided.generate_tensors(["a red plum"], guidance_scale=bad)


def _prior_run(**kw) -> PriorRun:
    base = dict(variant="no_clip", seed=0, device="cpu", threads=1, checkpoint_every=0, batch_size=4,
                lr_schedule="constant", convergence_window=1, convergence_min_rel_improvement=0.01, epochs=1,
                lr=1e-3, snapshots=False, uncond_prob=0.2)
    return PriorRun(**{**base, **kw})


def test_condition_dropout_without_the_empty_caption_or_with_a_fine_tuned_bert_is_refused(trained, tmp_path):
    from inkgen.training import encode_captions

    vqgan, enc, x = trained["guided"][0].model, trained["enc"], trained["x"]
    text = encode_captions(enc, CAPTIONS)
    config = prior_config(vqgan, 12, "no_clip", **PRIOR_SIZES)
    with pytest.raises(TrainError, match="uncond_prob=0.2 needs PhaseData.empty_text"):
        train_prior(_prior_run(), vqgan, config, PhaseData(x, text), params_hash=HASH, progress=False)
    wrong = TextFeatures(torch.zeros(1, 2, 8), torch.ones(1, 2, dtype=torch.long), torch.zeros(1, 8))
    with pytest.raises(TrainError, match="12-d features in one row"):
        train_prior(_prior_run(), vqgan, config, PhaseData(x, text, empty_text=wrong), params_hash=HASH,
                    progress=False)
    tunable = TextEncoder(enc.path, freeze=False, max_tokens=16)
    with pytest.raises(TrainError, match="text_encoder.finetune"):
        train_prior(_prior_run(), vqgan, config,
                    PhaseData(x, FineTunedTextFeatures(tunable, CAPTIONS), empty_text=empty_caption_features(enc)),
                    params_hash=HASH, finetune_lr=1e-4, progress=False)


def test_the_prior_stage_refuses_guidance_without_dropout_before_training(tmp_path):
    """An empty folder: the stage must fail on the params alone, before it reads any data or trains."""
    import dataclasses

    from inkgen import config
    from inkgen.stages import prior

    params = config.load(config.find_params())
    params = dataclasses.replace(params, prior_train=dataclasses.replace(params.prior_train, uncond_prob=0.0),
                                 generate=dataclasses.replace(params.generate, guidance_scale=2.5))
    with pytest.raises(TrainError, match="generate.guidance_scale: 2.5 needs a prior trained with condition dropout"):
        prior.run(params, tmp_path, "full", params.seeds[0])
