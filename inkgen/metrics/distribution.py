"""Distribution-level image quality (paper section 3, Table 1 "IS" and "FID", Figures 9-10): how close the
generated images are, as a set, to the real ones.

- Fréchet distance (Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to a local
  Nash equilibrium"): ``||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^{1/2})`` between Gaussians fitted
  to features of the two sets, computed by torchmetrics' ``FrechetInceptionDistance`` fed with features
  (:func:`frechet_distance`).
- The Inception Score's formula (Salimans et al. 2016, "Improved techniques for training GANs"):
  ``exp(E_x KL(p(y|x) || p(y)))``, computed by torchmetrics' ``InceptionScore`` fed with logits
  (:func:`inception_type_score`).

Names follow the features, never the formula alone:

- ``fid`` / ``is``: only with Inception-v3 weights read from a local file (:class:`InceptionExtractor`,
  torchmetrics' ``NoTrainInceptionV3`` -- the module ``FrechetInceptionDistance`` builds -- with
  ``feature_extractor_weights_path``; nothing can be downloaded here). Pool features (2048) for FID,
  ``logits_unbiased`` (1008 classes) for IS, as torch-fidelity defines them.
- ``frechet_clip``: the Fréchet distance between L2-normalised image features of the project's CLIP
  image tower (as in Kynkäänniemi et al. 2023, "The role of ImageNet classes in Fréchet Inception
  Distance", which uses CLIP features).
- ``classifier_score``: the IS formula over the curation classifier's softmax (paper eq. 1) on one head;
  it lies in [1, number of classes] (4 primary categories or 3 painting types), so it is not comparable
  in scale with the paper's IS over 1,008 ImageNet classes.

Set-level values get intervals by bootstrapping the images (:func:`inkgen.metrics.stats.bootstrap_ci_indices`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

import inkgen  # noqa: F401  (torchmetrics' image modules import torchvision: the CPU fix comes first)
from inkgen.metrics.stats import Estimate, bootstrap_ci_indices
from torchmetrics.image.fid import FrechetInceptionDistance, NoTrainInceptionV3
from torchmetrics.image.inception import InceptionScore


class _Features(nn.Module):
    """Identity "feature extractor": lets the torchmetrics metrics do the maths on precomputed features."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = int(num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _as_features(x: np.ndarray | torch.Tensor, what: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    if t.ndim != 2 or len(t) < 2:
        raise ValueError(f"{what}: need (N >= 2, D) features, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{what}: features hold non-finite values")
    return t


def frechet_distance(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D), N, M >= 2."""
    r, f = _as_features(real, "real features"), _as_features(fake, "generated features")
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"feature widths differ: real {r.shape[1]}, generated {f.shape[1]}")
    metric = FrechetInceptionDistance(feature=_Features(r.shape[1]), reset_real_features=True)
    metric.update(r, real=True)
    metric.update(f, real=False)
    return float(metric.compute())


def frechet_distance_lowrank(real: np.ndarray, fake: np.ndarray) -> float:
    """The same Fréchet distance as :func:`frechet_distance`, fast when N, M << D (bootstrap resamples).

    ``Tr (S_r S_g)^{1/2}`` is the sum of the square roots of the eigenvalues of ``S_r S_g``. With centred
    feature matrices ``X`` (N, D) and ``Y`` (M, D), ``S_r S_g = X^T X Y^T Y / ((N-1)(M-1))`` has the same
    non-zero eigenvalues as ``(Y X^T)(Y X^T)^T / ((N-1)(M-1))``, i.e. the squared singular values of
    ``Y X^T / sqrt((N-1)(M-1))`` -- an (M, N) SVD instead of a (D, D) non-symmetric eigenproblem (at D =
    2048 torchmetrics' ``eigvals`` takes seconds per call). Tests check it against torchmetrics and
    ``scipy.linalg.sqrtm``.
    """
    x, y = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    n, m = len(x), len(y)
    mu_x, mu_y = x.mean(0), y.mean(0)
    xc, yc = x - mu_x, y - mu_y
    trace_x = float((xc * xc).sum()) / (n - 1)  # Tr S_r
    trace_y = float((yc * yc).sum()) / (m - 1)  # Tr S_g
    singular = np.linalg.svd(yc @ xc.T / np.sqrt((n - 1) * (m - 1)), compute_uv=False)  # (M, N) -> min(M, N)
    return float(((mu_x - mu_y) ** 2).sum() + trace_x + trace_y - 2.0 * singular.sum())


def inception_type_score(logits: np.ndarray | torch.Tensor, splits: int = 1) -> float:
    """``exp(E KL(p(y|x) || p(y)))`` over the softmax of (N, C) logits (log-probabilities work too: the
    softmax of log p is p), averaged over ``splits`` groups as Salimans et al. did. The split assignment
    uses a fixed seed and leaves the global torch RNG untouched."""
    x = _as_features(logits, "logits").float()
    if not 1 <= splits <= len(x):
        raise ValueError(f"splits must lie in 1..{len(x)} (the number of images), got {splits}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        metric = InceptionScore(feature=_Features(x.shape[1]), splits=int(splits))
    metric.update(x)
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        torch.manual_seed(0)  # InceptionScore permutes the rows before splitting
        warnings.filterwarnings("ignore", message=".*degrees of freedom.*")  # its std over 1 split
        mean, _ = metric.compute()
    return float(mean)


def to_uint8(images: torch.Tensor, value_range: tuple[float, float] = (-1.0, 1.0)) -> torch.Tensor:
    """(N, 3, H, W) float images in ``value_range`` -> uint8 (N, 3, H, W), as the Inception network reads."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be (N, 3, H, W), got shape {tuple(images.shape)}")
    lo, hi = value_range
    x = (images.detach().float().cpu() - lo) / (hi - lo)
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


class InceptionExtractor:
    """Inception-v3 pool features and ``logits_unbiased`` from a local weights file (torch-fidelity's
    ``pt_inception-2015-12-05`` state dict, or any state dict of that architecture).

    Built as torchmetrics' ``NoTrainInceptionV3`` with ``feature_extractor_weights_path`` -- the module
    ``FrechetInceptionDistance(feature=2048, feature_extractor_weights_path=...)`` uses -- asking for both
    outputs so that one forward pass serves FID and IS.
    """

    def __init__(self, weights_path: str | Path):
        path = Path(weights_path)
        if not path.is_file():
            raise FileNotFoundError(f"Inception-v3 weights {str(path)!r} do not exist; FID/IS need a local "
                                    "file (nothing can be downloaded here)")
        self.path = path
        self.net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048", "logits_unbiased"],
                                      feature_extractor_weights_path=str(path))

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int, value_range: tuple[float, float] = (-1.0, 1.0)
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Images -> (pool features (N, 2048), logits_unbiased (N, 1008))."""
        pools, logits = [], []
        for i in range(0, len(images), batch_size):
            # the tuple-returning forward; NoTrainInceptionV3.forward keeps only the first output
            pool, logit = self.net._torch_fidelity_forward(to_uint8(images[i:i + batch_size], value_range))
            pools.append(pool.double().numpy())
            logits.append(logit.double().numpy())
        return np.concatenate(pools), np.concatenate(logits)


@torch.no_grad()
def clip_image_features(clip, images: torch.Tensor, batch_size: int,
                        value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """(N, D) L2-normalised image features of an ``InkClip`` (eval mode; the model's mode is restored)."""
    was = clip.training
    clip.eval()
    try:
        feats = [clip.encode_image(images[i:i + batch_size], normalize=True, value_range=value_range)
                 for i in range(0, len(images), batch_size)]
    finally:
        clip.train(was)
    return torch.cat(feats).double().numpy()


def classifier_log_probs(classifier, images: torch.Tensor, head: str, batch_size: int,
                         value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """(N, C) log-probabilities of one head of the curation classifier (paper eq. 1)."""
    from inkgen.models.classifier import predict_proba  # torchvision's models only where the classifier predicts

    if head not in classifier.classes:
        raise ValueError(f"classifier has no head {head!r}; heads: {sorted(classifier.classes)}")
    arrays = list(to_uint8(images, value_range).permute(0, 2, 3, 1).numpy())  # (N,3,H,W) -> N x (H,W,3)
    probs = predict_proba(classifier, arrays, batch_size=batch_size)[head]
    return np.log(np.clip(probs, 1e-30, None))


def frechet_estimate(real: np.ndarray, fake: np.ndarray, *, confidence: float, n_resamples: int, seed: int
                     ) -> Estimate:
    """:func:`frechet_distance` (torchmetrics) of the full sets, with the bootstrap interval of
    :func:`inkgen.metrics.stats.bootstrap_ci_indices` over both sets (resamples through the equal, faster
    :func:`frechet_distance_lowrank`)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    est = bootstrap_ci_indices(lambda i, j: frechet_distance_lowrank(real[i], fake[j]), (len(real), len(fake)),
                               confidence=confidence, n_resamples=n_resamples, seed=seed)
    point = frechet_distance(real, fake)
    shift = point - est.mean  # the two computations agree to rounding; keep the library's value
    # a distance cannot be negative: the normal interval's lower bound is clipped at 0
    return Estimate(point, max(est.low + shift, 0.0), est.high + shift, est.n, est.method, est.confidence)


def score_estimate(logits: np.ndarray, *, splits: int, confidence: float, n_resamples: int, seed: int
                   ) -> Estimate:
    """:func:`inception_type_score` of the full set with the bootstrap interval of
    :func:`inkgen.metrics.stats.bootstrap_ci_indices` over images."""
    return bootstrap_ci_indices(lambda i: inception_type_score(logits[i], splits), (len(logits),),
                                confidence=confidence, n_resamples=n_resamples, seed=seed)


def distribution_metrics(real: torch.Tensor, generated: torch.Tensor, *, clip, classifier, classifier_head: str,
                         inception_weights: str | Path, is_splits: int, batch_size: int, confidence: float,
                         n_resamples: int, seed: int) -> dict[str, Estimate]:
    """``frechet_clip`` and ``classifier_score`` always (``clip``/``classifier`` may be None to skip
    one); ``fid`` and ``is`` as well when ``inception_weights`` names a local file ("" = none)."""
    out: dict[str, Estimate] = {}
    kw = dict(confidence=confidence, n_resamples=n_resamples, seed=seed)
    if clip is not None:
        out["frechet_clip"] = frechet_estimate(clip_image_features(clip, real, batch_size),
                                               clip_image_features(clip, generated, batch_size), **kw)
    if classifier is not None:
        out["classifier_score"] = score_estimate(
            classifier_log_probs(classifier, generated, classifier_head, batch_size), splits=is_splits, **kw)
    if inception_weights:
        inception = InceptionExtractor(inception_weights)
        pool_r, _ = inception(real, batch_size)
        pool_g, logits_g = inception(generated, batch_size)
        out["fid"] = frechet_estimate(pool_r, pool_g, **kw)
        out["is"] = score_estimate(logits_g, splits=is_splits, **kw)
    return out
