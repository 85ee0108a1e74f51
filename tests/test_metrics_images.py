"""Image metrics with tiny models: PSNR, CLIP cosine / CLIPScore, Fréchet distance, IS-formula score,
cost metrics and one variant's Table 1 row."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.special import rel_entr

from inkgen.metrics.alignment import clip_cosine, clip_score
from inkgen.metrics.cost import (convergence_rounds, count_macs, parameter_count, time_inference)
from inkgen.metrics.distribution import (classifier_log_probs, frechet_distance, frechet_distance_lowrank,
                                         inception_type_score)
from inkgen.metrics.reconstruction import psnr_per_image
from inkgen.metrics.eval_config import EvalConfig
from inkgen.metrics.table1 import evaluate_variant
from inkgen.models.classifier import build_classifier
from inkgen.models.clip import build_clip
from tiny_models import TINY_CLIP

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CONFIG = dict(confidence=0.95, n_resamples=200, seed=0, ci_method="BCa", clip_score_w=2.5,
              classifier_head="primary", is_splits=1, inception_weights="", batch_size=8, timing_warmup=1,
              timing_runs=3, set_resamples=20)
PROMPTS = ["a landscape painting of mountains and pines", "a flower and bird painting of plum blossom",
           "a figure painting of a scholar", "an ink painting of bamboo and rocks"]


@pytest.fixture(scope="module")
def clip():
    return build_clip(TINY_CLIP, seed=0).eval()


@pytest.fixture(scope="module")
def images():
    g = torch.Generator().manual_seed(0)
    return torch.rand(8, 3, 16, 16, generator=g) * 2 - 1


def test_psnr_by_hand():
    real = torch.zeros(3, 3, 8, 8)
    recon = real + torch.tensor([0.02, 0.2, -0.02]).view(3, 1, 1, 1)
    # range 2 ([-1, 1]), MSE = e^2: PSNR = 10 log10(4 / e^2)
    expected = [10 * math.log10(4 / 0.02**2), 10 * math.log10(4 / 0.2**2), 10 * math.log10(4 / 0.02**2)]
    assert psnr_per_image(real, recon) == pytest.approx(expected)
    assert expected[0] == pytest.approx(40.0)
    with pytest.raises(ValueError, match=r"\[0\]"):
        psnr_per_image(real, torch.cat([real[:1], recon[1:]]))
    with pytest.raises(ValueError, match="shape"):
        psnr_per_image(real, recon[:2])


def test_clip_cosine_and_clipscore(clip, images):
    x = images[:4]
    cos = clip_cosine(clip, x, PROMPTS, batch_size=3)
    with torch.no_grad():
        v_k = torch.nn.functional.normalize(clip.encode_image(x, normalize=False), dim=-1)
        v_t = torch.nn.functional.normalize(clip.encode_text(PROMPTS, normalize=False), dim=-1)
    assert cos == pytest.approx((v_k * v_t).sum(1).numpy(), abs=1e-5)
    # image i against prompt i, not against another prompt
    assert cos != pytest.approx(clip_cosine(clip, x, PROMPTS[1:] + PROMPTS[:1], batch_size=4), abs=1e-4)
    assert clip_score(np.array([0.4, -0.2, 0.0]), 2.5) == pytest.approx([1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="one prompt per image"):
        clip_cosine(clip, x, PROMPTS[:3], batch_size=4)


def _frechet_scipy(a, b):
    """Oracle: the textbook formula with scipy.linalg.sqrtm."""
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_frechet_distance_matches_scipy_and_known_cases():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (200, 6))
    b = rng.normal(0, 1, (150, 6)) @ np.diag([1, 2, 1, 0.5, 1, 1]) + 0.3
    assert frechet_distance(a, b) == pytest.approx(_frechet_scipy(a, b), rel=1e-6)
    assert frechet_distance_lowrank(a, b) == pytest.approx(_frechet_scipy(a, b), rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([1.0, 2.0, 0, 0, 0, 0])
    assert frechet_distance(a, a + shift) == pytest.approx(5.0, rel=1e-6)  # same covariance: ||shift||^2
    # more dimensions than samples (CLIP / Inception features of a few images)
    c, d = rng.normal(0, 1, (20, 64)), rng.normal(0.2, 1.1, (24, 64))
    assert frechet_distance_lowrank(c, d) == pytest.approx(frechet_distance(c, d), rel=1e-5)
    with pytest.raises(ValueError, match="widths differ"):
        frechet_distance(a, b[:, :5])


def test_inception_type_score_by_hand():
    def oracle(p):
        marginal = p.mean(0, keepdims=True)
        return float(np.exp(rel_entr(p, marginal).sum(1).mean()))

    uniform = np.full((10, 4), 0.25)
    assert inception_type_score(np.log(uniform)) == pytest.approx(1.0)
    confident = np.eye(4)[np.arange(12) % 4] * 0.96 + 0.01  # each class equally often, ~certain (rows sum to 1)
    assert inception_type_score(np.log(confident)) == pytest.approx(oracle(confident), rel=1e-5)
    # exp(H(marginal) - H(p(y|x))) = 4 exp(-H(0.97, 0.01, 0.01, 0.01)) = 3.382
    assert inception_type_score(np.log(confident)) == pytest.approx(3.3824, abs=1e-3)
    p = np.random.default_rng(1).dirichlet(np.ones(4), 30)
    assert inception_type_score(np.log(p)) == pytest.approx(oracle(p), rel=1e-5)
    state = torch.random.get_rng_state()
    inception_type_score(np.log(p), splits=3)
    assert torch.equal(state, torch.random.get_rng_state())  # the global RNG is left alone


def test_classifier_log_probs(images):
    clf = build_classifier("resnet18", 16, seed=0).eval()
    lp = classifier_log_probs(clf, images, "primary", batch_size=4)
    assert lp.shape == (8, 4) and np.allclose(np.exp(lp).sum(1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="no head"):
        classifier_log_probs(clf, images, "period", batch_size=4)


def test_cost_metrics():
    lin = torch.nn.Linear(10, 20)
    assert parameter_count(lin) == 10 * 20 + 20
    assert count_macs(lin, torch.zeros(4, 10)) == 4 * 10 * 20
    conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
    assert count_macs(conv, torch.zeros(1, 3, 5, 5)) == 8 * 3 * 9 * 25
    timing = time_inference(lambda: lin(torch.zeros(4, 10)), warmup=2, runs=5, device="cpu")
    assert len(timing.ms) == 5 and (timing.ms > 0).all() and timing.device.startswith("cpu")
    est = timing.estimate(0.95, 200, 0)
    assert est.mean == pytest.approx(timing.median_ms) and est.n == 5


def test_convergence_rounds_reuse_the_training_rule():
    # the training rule's docstring example: converged after epoch 3
    res = convergence_rounds([[4, 2, 1, 0.99, 0.98], [4, 2, 1.5, 1.0, 0.999]], window=1,
                             min_rel_improvement=0.05, confidence=0.95)
    assert res.epochs == (3, 4) and res.estimate.mean == 3.5 and res.estimate.method == "t"
    open_ = convergence_rounds([[4, 2, 1]], window=1, min_rel_improvement=0.05, confidence=0.95)
    assert open_.epochs == (None,) and open_.estimate is None and "not converged" in open_.note


def test_eval_config_from_dict():
    assert EvalConfig.from_dict(CONFIG).clip_score_w == 2.5
    with pytest.raises(ValueError, match=r"missing keys \['seed'\]"):
        EvalConfig.from_dict({k: v for k, v in CONFIG.items() if k != "seed"})
    with pytest.raises(ValueError, match="unknown keys"):
        EvalConfig.from_dict({**CONFIG, "fid": True})
    with pytest.raises(ValueError, match="classifier_head"):
        EvalConfig.from_dict({**CONFIG, "classifier_head": "style"})


def test_evaluate_variant_row(clip, images):
    clf = build_classifier("resnet18", 16, seed=0).eval()
    real, generated = images, images.flip(0) * 0.8
    recon = (images + 0.05 * torch.randn(images.shape, generator=torch.Generator().manual_seed(1))).clamp(-1, 1)
    prompts = PROMPTS * 2
    res = evaluate_variant("full", EvalConfig.from_dict(CONFIG), real=real, clip=clip, classifier=clf,
                           reconstructions=recon, generated=generated, prompts=prompts)
    assert set(res.estimates) == {"psnr", "clip_cosine", "clip_score", "frechet_clip", "classifier_score"}
    assert "fid" not in res.estimates and "is" not in res.estimates  # no Inception weights given
    assert res.estimates["psnr"].mean == pytest.approx(psnr_per_image(real, recon).mean())
    assert all(e.n == 8 for e in res.estimates.values())
    fd = res.estimates["frechet_clip"]
    assert fd.low <= fd.mean <= fd.high and fd.mean > 0
    assert 1.0 <= res.estimates["classifier_score"].mean <= 4.0
    measured = res.measured()
    assert isinstance(measured["psnr"], np.ndarray) and len(measured["psnr"]) == 8
    assert res.row()["psnr"].endswith("(N=8)")
    with pytest.raises(ValueError, match="prompts"):
        evaluate_variant("full", EvalConfig.from_dict(CONFIG), real=real, clip=clip, generated=generated)
