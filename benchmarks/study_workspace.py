"""What the probes read from a workspace where the default study ran: its parameters and layout, a split and
every item of it as a held-out prompt (the study's stratified order, ``inkgen.heldout.held_out_prompts``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch

from inkgen.config import Params, load
from inkgen.data.dataset import Split, load_split
from inkgen.heldout import held_out_prompts
from inkgen.layout import Layout


def add_workspace_arguments(ap: argparse.ArgumentParser) -> None:
    """The options every probe takes: the workspace, the training seed, the torch threads."""
    ap.add_argument("--root", default=".", help="a workspace where the default study ran")
    ap.add_argument("--seed", type=int, default=None, help="training seed (default: the first of seeds)")
    ap.add_argument("--threads", type=int, default=2)


def open_workspace(args: argparse.Namespace) -> tuple[Path, Params, int]:
    """The workspace's root and parameters and the training seed the options name; sets torch's threads."""
    torch.set_num_threads(args.threads)
    root = Path(args.root).resolve()
    params = load(root / "params.yaml")
    return root, params, args.seed if args.seed is not None else params.seeds[0]


def every_item(params: Params, root: Path, split: str = "test") -> tuple[Layout, Split, pd.DataFrame]:
    """The workspace's layout, one of its splits and all of the split's items, in the study's held-out order."""
    layout = Layout(params, root)
    data = load_split(layout.manifest, split, root)
    return layout, data, held_out_prompts(data, len(data.rows), params.generate.seed)


def every_test_item(params: Params, root: Path) -> tuple[Layout, Split, pd.DataFrame]:
    """:func:`every_item` of the test split."""
    return every_item(params, root, "test")
