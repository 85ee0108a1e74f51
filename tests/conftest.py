"""Shared fixtures: the repository root and a validated copy of its params."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml

import inkgen  # noqa: F401  (applies the CPU torchvision fix before any test imports torchvision)

ROOT = Path(__file__).resolve().parents[1]


# `make test` runs two xdist workers, one test file each at a time (--dist loadfile keeps a module's fixtures
# in one worker). The smoke `dvc repro` module is the critical path (about half of the suite's CPU-minutes):
# it goes first (the Makefile's --no-loadscope-reorder keeps this order; xdist's default would start it after
# the files with more tests), so one worker runs it while the other takes every other file. Its stages run on one torch
# thread (profiles.smoke), so the two workers never contend for the two cores (with two threads each, the
# smoke module slowed by half when it shared them).
CRITICAL_PATH = ("test_pipeline_smoke.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in CRITICAL_PATH)  # stable: the order within stays


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture()
def raw_params() -> dict:
    """params.yaml as a plain dict, fresh for each test to mutate."""
    return yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread for a module of tiny models: they gain nothing from more threads, and suffer
    badly from thread contention on a shared CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@contextlib.contextmanager
def _environ_set(name: str, value: str):
    """Set an environment variable for the session, then restore what was there."""
    import os

    old = os.environ.get(name)
    os.environ[name] = value
    yield
    if old is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = old


@pytest.fixture(autouse=True, scope="session")
def governance_keys_home(tmp_path_factory):
    """Writer keys and the C2PA development chain go to a temporary governance home, not ~/.config."""
    home = tmp_path_factory.mktemp("governance-home")
    with _environ_set("INKGEN_GOVERNANCE_HOME", str(home)):
        yield home


@pytest.fixture(autouse=True, scope="session")
def governance_cache_dir(tmp_path_factory):
    """The compiled-lexicon cache and keypoint store (governance.cache) in a temporary folder, not ~/.cache."""
    cache = tmp_path_factory.mktemp("governance-cache")
    with _environ_set("GOVERNANCE_CACHE_DIR", str(cache)):
        yield cache
