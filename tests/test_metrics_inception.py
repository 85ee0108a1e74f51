"""FID and IS only from a local Inception-v3 file: the file is really read, and the numbers are
torchmetrics' FID on the same images. No weights can be downloaded here, so the test writes state dicts
of randomly initialised torch-fidelity Inception networks."""

from unittest import mock

import numpy as np
import pytest
import torch

import inkgen  # noqa: F401
import torch_fidelity.feature_extractor_inceptionv3 as fe
from inkgen.metrics.distribution import InceptionExtractor, distribution_metrics, to_uint8
from torchmetrics.image.fid import FrechetInceptionDistance

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def write_random_inception(path, seed):
    """State dict of a randomly initialised FeatureExtractorInceptionV3, built without its download."""
    torch.manual_seed(seed)
    with mock.patch.object(fe, "load_state_dict_from_url", lambda *a, **k: {}), \
            mock.patch.object(fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd: None):
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    torch.save(net.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    d = tmp_path_factory.mktemp("inception")
    return write_random_inception(d / "a.pt", 0), write_random_inception(d / "b.pt", 1)


@pytest.fixture(scope="module")
def images():
    g = torch.Generator().manual_seed(0)
    real = torch.rand(5, 3, 16, 16, generator=g) * 2 - 1
    return real, (real * 0.5 + 0.3).clamp(-1, 1)


def test_weights_file_is_read(weights, images):
    real, _ = images
    pool_a, logits_a = InceptionExtractor(weights[0])(real, batch_size=5)
    pool_b, logits_b = InceptionExtractor(weights[1])(real, batch_size=5)
    assert pool_a.shape == (5, 2048) and logits_a.shape == (5, 1008)
    assert not np.allclose(pool_a, pool_b) and not np.allclose(logits_a, logits_b)
    again, _ = InceptionExtractor(weights[0])(real, batch_size=2)
    assert np.allclose(pool_a, again, rtol=1e-4, atol=1e-5)
    with pytest.raises(FileNotFoundError, match="nothing can be downloaded"):
        InceptionExtractor(weights[0].parent / "missing.pt")


def test_fid_and_is_named_only_with_weights_and_equal_torchmetrics(weights, images):
    real, fake = images
    out = distribution_metrics(real, fake, clip=None, classifier=None, classifier_head="primary",
                               inception_weights=str(weights[0]), is_splits=1, batch_size=5, confidence=0.95,
                               n_resamples=50, seed=0)
    assert set(out) == {"fid", "is"}
    reference = FrechetInceptionDistance(feature=2048, feature_extractor_weights_path=str(weights[0]))
    reference.update(to_uint8(real), real=True)
    reference.update(to_uint8(fake), real=False)
    assert out["fid"].mean == pytest.approx(float(reference.compute()), rel=1e-3)
    assert out["fid"].low <= out["fid"].mean <= out["fid"].high
    assert 1.0 <= out["is"].mean <= 5.0  # at most the number of images with one split
    none = distribution_metrics(real, fake, clip=None, classifier=None, classifier_head="primary",
                                inception_weights="", is_splits=1, batch_size=5, confidence=0.95,
                                n_resamples=50, seed=0)
    assert none == {}
