"""Data-parallel training (inkgen.training.distributed, inkgen.launch): 2 processes launched by the library's
torchrun launcher, gloo on loopback, train the tiny models through the real phases (tests/ddp_worker.py).

Checked: they train; only rank 0 writes; the ranks hold identical weights; a run interrupted after step 3
resumes to the same weights as the uninterrupted one; and 2 ranks x batch 4 end where 1 rank x batch 8
ends, within float summation order (see test_two_ranks_take_the_steps_of_one_rank_with_twice_the_batch).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from inkgen import config
from inkgen.launch import LaunchError, load_result, params_to_raw, torchrun
from inkgen.models.cross_modal import TextToCodes
from inkgen.models.vqgan.model import VQGAN
from inkgen.training import PhaseData, distributed, prior_config, train_prior, train_vqgan
from inkgen.training.runs import vqgan_run

from ddp_worker import N_IMAGES, PRIOR, config as run_config, data, prior_run, vq_config
from tiny_models import HASH

TESTS = Path(__file__).resolve().parent
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def ddp(tmp_path_factory):
    """One launch of 2 processes doing every distributed run (a torchrun start costs several seconds)."""
    out = tmp_path_factory.mktemp("ddp")
    torchrun("ddp_worker", [out], 2, cwd=TESTS)
    ranks = [torch.load(out / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    writes = [json.loads((out / f"writes-rank{r}.json").read_text()) for r in (0, 1)]
    return out, ranks, writes


@pytest.fixture(scope="module")
def single():
    """The same runs in this one process, with the global batch of 8 in one piece."""
    x, captions, text = data(N_IMAGES)
    vq = train_vqgan(run_config(), vq_config(), PhaseData(x, text, captions), params_hash=HASH, progress=False)
    prior_cfg = prior_config(vq.model, text.dim, "full", **PRIOR)
    prior = train_prior(prior_run(), vq.model, prior_cfg, PhaseData(x, text), params_hash=HASH, progress=False)
    torch.manual_seed(run_config().seed)  # as train_prior builds its model
    return {"plain": vq, "prior": prior, "init_plain": VQGAN(vq_config(), seed=run_config().seed).state_dict(),
            "init_prior": TextToCodes(prior_cfg).state_dict()}


def _distance(a: dict, b: dict) -> float:
    keys = [k for k in a if a[k].is_floating_point() and "recent" not in k]  # learnt weights, not code buffers
    return float(torch.sqrt(sum(((a[k] - b[k]).double() ** 2).sum() for k in keys)))


def test_two_processes_train_and_hold_the_same_weights(ddp):
    _, (r0, r1), _ = ddp
    assert r0["world"] == 2
    for key in ("plain", "prior", "resumed", "gan"):
        assert all(torch.equal(r0[key][k], r1[key][k]) for k in r0[key]), key  # DDP kept the ranks in step
    assert r0["history"][-1]["step"] == 4 and r0["history"][-1]["val_loss"] < r0["history"][0]["val_loss"] * 1.5
    assert sum(r0["reinit"].values()) > 0  # dead codes were re-initialised, identically on both ranks


def test_only_rank_0_writes_checkpoints(ddp):
    out, _, (w0, w1) = ddp
    assert w1 == []
    assert w0.count("plain/vqgan-last.pt") == 5 and w0.count("plain/prior-last.pt") == 5  # 4 steps + the end
    assert sorted(p.name for p in (out / "plain").iterdir()) == ["prior-last.pt", "vqgan-last.pt"]


def test_an_interrupted_run_resumes_to_the_same_weights(ddp):
    _, (r0, _), _ = ddp
    assert (r0["cut_steps"], r0["cut_complete"]) == (3, False)
    assert all(torch.equal(r0["resumed"][k], r0["plain"][k]) for k in r0["plain"])


def test_two_ranks_take_the_steps_of_one_rank_with_twice_the_batch(ddp, single):
    """2 ranks x 4 vs 1 rank x 8, 4 Adam steps (lr 2e-3), GAN off, dead-code re-initialisation on.

    Tolerance: the ranks' gradients are averaged by DDP, so the step is the same up to float summation
    order (~1e-7 relative). Adam divides by sqrt(v), so a parameter whose gradient is pure rounding noise
    (e.g. an attention key bias: softmax ignores a constant shift, its exact gradient is 0) can move by up to
    lr per step in either direction; hence the bound is relative to how far training moved the weights:
    the difference must be under 1% of that distance (measured: 0.0013% for the VQGAN, 0.0003% for the prior),
    whereas ranks that did not synchronise would differ by a sizeable share of it.
    """
    _, (r0, _), _ = ddp
    for key, init in (("plain", "init_plain"), ("prior", "init_prior")):
        ref = single[key].model.state_dict()
        moved, diff = _distance(ref, single[init]), _distance(r0[key], ref)
        print(f"{key}: |w_ddp - w_1proc| = {diff:.3g}, |w_1proc - w_init| = {moved:.3g}, ratio {diff / moved:.2g}")
        assert moved > 0.01 and diff < 0.01 * moved, key
    assert r0["reinit"] == {k: int(q.n_reinit) for k, q in single["plain"].model.codebooks().items()}
    for a, b in zip(r0["history"], single["plain"].history):  # the logged epoch means are the global batch's
        assert a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-4 * (1 + abs(b[k])) for k in a)


def test_the_notebook_reads_a_distributed_run_back_from_its_checkpoint(ddp):
    out, (r0, _), _ = ddp
    res = load_result(out / "plain" / "vqgan-last.pt", HASH, {"images_per_second": 12.5})
    assert res.complete and res.steps == 4 and res.images_per_second == 12.5 and res.discriminator is not None
    assert all(torch.equal(res.model.state_dict()[k], r0["plain"][k]) for k in r0["plain"])
    assert [h["step"] for h in res.history] == [2, 4]


def test_a_failed_launch_says_so_with_its_output(tmp_path):
    with pytest.raises(LaunchError, match=r"(?s)failed \(exit status.*No module named"):
        torchrun("inkgen_no_such_module", [], 2, cwd=tmp_path)


def test_shards_split_the_global_batch_in_order():
    idx = torch.arange(10, 15)  # 5 samples over 2 ranks: padded with the batch's own first sample
    shards = [distributed.shard(idx, distributed.World(r, 2)) for r in (0, 1)]
    assert [s.tolist() for s in shards] == [[10, 11, 12], [13, 14, 10]]
    assert distributed.shard(torch.arange(1), distributed.World(2, 4)).tolist() == [0]
    assert torch.equal(distributed.shard(idx), idx)  # one process: the whole batch


def test_nproc_is_a_param_with_a_global_batch(raw_params):
    params = config.parse(raw_params)
    assert params.train.nproc == 1 and "nproc" not in vqgan_run(params, "full").to_dict()  # not a run config field
    assert config.parse(params_to_raw(params)) == params  # what the launcher hands the workers
    batch = raw_params["vqgan_train"]["batch_size"]
    assert batch % 3, "the test needs a global batch that 3 processes cannot share"
    raw_params["train"].update(nproc=3)
    with pytest.raises(config.ParamsError, match=rf"vqgan_train.batch_size: {batch} is the global batch .*nproc = 3"):
        config.parse(raw_params)
