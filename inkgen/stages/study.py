"""Stage study (notebook 09_study): the page to read first, read from the stages' metrics files only
(:mod:`inkgen.metrics.study`); writes ``<paths.metrics>/study.json`` and ``headline.json``."""

from __future__ import annotations

from pathlib import Path

from inkgen.config import Params, project_root
from inkgen.metrics.study import Study, load_study, write_summary


def run(params: Params, root: str | Path | None = None) -> Study:
    """The study's summary from every stage's metrics; writes ``study.json`` and ``headline.json``."""
    root = Path(root) if root is not None else project_root()
    study = load_study(root, params.paths.metrics, params.seeds)
    write_summary(study, root, params.paths.metrics)
    return study
