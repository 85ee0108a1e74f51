"""The independent judge (paper eq. 13's bias, and why a second CLIP scores the evaluation: see
:mod:`inkgen.stages.clip`): the CLIP that judges must not be the one that guided training, by path or by
bytes. A light module (no torch), so that the clip stage can refuse a judge before any work."""

from __future__ import annotations

from pathlib import Path

from inkgen.config import Params
from inkgen.data.records import sha256_file
from inkgen.layout import Layout


class JudgeError(ValueError):
    """The judge CLIP is the guide (same file or same bytes); the message names the key."""


def resolve(root: Path, path: str) -> Path:
    """A path from params: absolute as given, else under the project ``root``."""
    return Path(path) if Path(path).is_absolute() else root / path


def check_judge_is_not_guide(params: Params, root: Path, judge_file: Path | None = None) -> None:
    """Refuse a judge that is the guide: ``judge.pretrained`` (or ``judge_file``, a trained judge's
    checkpoint) naming the guide's file, or holding the same bytes as ``clip.pretrained`` or the guide's
    checkpoint ``<paths.models>/clip.pt``."""
    layout = Layout(params, root)
    key = "judge.pretrained" if judge_file is None else f"{params.paths.models}/{layout.clip('judge').name}"
    judge = judge_file if judge_file is not None else (resolve(root, params.judge.pretrained)
                                                       if params.judge.pretrained else None)
    if judge is None or not judge.is_file():
        return
    guides = [resolve(root, params.clip.pretrained)] if params.clip.pretrained else []
    guides.append(layout.clip("guide"))
    for guide in guides:
        if not guide.is_file():
            continue
        if guide.resolve() == judge.resolve():
            raise JudgeError(f"{key}: {str(judge)!r} is the guide's file; the CLIP that judges the evaluation "
                             "must not be the one that guided training")
        if sha256_file(guide) == sha256_file(judge):
            raise JudgeError(f"{key}: {str(judge)!r} has the same bytes as the guide ({guide.name}); the CLIP "
                             "that judges the evaluation must not be the one that guided training")
