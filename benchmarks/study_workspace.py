"""What the probes read from a workspace where the default study ran: its layout, the test split and every
test item as a held-out prompt (the study's stratified order, ``inkgen.heldout.held_out_prompts``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from inkgen.config import Params
from inkgen.data.dataset import Split, load_split
from inkgen.heldout import held_out_prompts
from inkgen.layout import Layout


def every_test_item(params: Params, root: Path) -> tuple[Layout, Split, pd.DataFrame]:
    """The workspace's layout, its test split and all of the split's items, in the study's held-out order."""
    layout = Layout(params, root)
    test = load_split(layout.manifest, "test", root)
    return layout, test, held_out_prompts(test, len(test.rows), params.generate.seed)
