"""One check for prompts, shared by everything that reads text (BERT encoder, CLIP, generation).

A prompt list must be a real list of non-blank strings; the error names the first bad prompt and why, in
the caller's own error type.
"""

from __future__ import annotations

from typing import Sequence


def check_prompts(texts: Sequence[str], error: type[Exception] = ValueError) -> list[str]:
    """``texts`` as a list, or ``error`` naming the first prompt that is not a non-blank string."""
    if isinstance(texts, str):
        raise error("expected a list of prompts, got a single string; wrap it in [ ]")
    texts = list(texts)
    if not texts:
        raise error("got an empty list of prompts")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise error(f"prompt {i} is a {type(t).__name__}, not a string: {t!r}")
        if not t.strip():
            raise error(f"prompt {i} is empty or whitespace only: {t!r}")
    return texts
