"""The ledger head anchored outside the ledger: what a truncation or a consistent rewrite cannot forge.

A hash chain, its signatures and the signed ``.head`` sidecar all live beside the ledger; whoever holds
the writer key (or rewrites everything, genesis included, with a key of their own) can make them agree
again. So the head is also kept **outside** the file, where rewriting it leaves a trace:

- the governance stage writes its final head to ``<paths.metrics>/governance_anchor.json`` (``seq``,
  ``hash``, ``genesis``, ``writers``), which is committed with the study's results;
  a later ``git diff`` / ``dvc metrics diff`` shows any change, and ``governance verify`` run in the
  project root checks the stage ledger against it;
- for any ledger, ``governance anchor LEDGER`` prints that anchor (commit it, mail it, print it), and
  ``governance verify LEDGER --trusted-head H`` checks it, where ``H`` is ``HASH``, ``SEQ:HASH`` or a JSON
  file holding ``seq``/``hash`` (or ``ledger_seq``/``ledger_head``).

An append-only ledger only grows, so the check is: the entry at the anchored seq still has the anchored
hash (and the genesis is the anchored one). Entries after the anchor are allowed; when the anchor lists
its writers, entries after it signed by another key are named.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.ledger import Entry, LedgerError, check_chain_file

_SPEC = re.compile(r"^(?:(\d+):)?([0-9a-f]{64})$")


@dataclass(frozen=True)
class Anchor:
    hash: str
    seq: int | None = None
    genesis: str | None = None
    writers: tuple[str, ...] = ()
    source: str = "command line"

    def describe(self) -> str:
        return (f"seq {self.seq} " if self.seq is not None else "") + f"{self.hash[:12]}… ({self.source})"


def anchor_of(ledger: str | os.PathLike[str]) -> dict[str, Any]:
    """The anchor of a ledger file as it is now (what ``governance anchor`` prints)."""
    entries, _ = check_chain_file(ledger)
    if not entries:
        raise LedgerError(f"{ledger}: no readable entry to anchor")
    return {"ledger": str(ledger), "seq": entries[-1].seq, "hash": entries[-1].hash, "genesis": entries[0].hash,
            "writers": sorted({e.signer for e in entries}), "time": entries[-1].time}


def parse_anchor(value: str) -> Anchor:
    """``HASH``, ``SEQ:HASH``, or a JSON file (an anchor, or the stage's metrics with ``ledger_*`` keys)."""
    m = _SPEC.match(value.strip().lower())
    if m:
        return Anchor(m.group(2), int(m.group(1)) if m.group(1) else None)
    path = Path(value)
    if not path.is_file():
        raise LedgerError(f"--trusted-head {value!r}: neither HASH, SEQ:HASH nor a JSON file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LedgerError(f"{path}: not a JSON anchor ({exc})") from None
    get = (lambda k: data.get(k, data.get(f"ledger_{k}"))) if isinstance(data, dict) else (lambda k: None)
    digest, seq = get("hash") if get("hash") is not None else get("head"), get("seq")
    if not isinstance(digest, str) or not _SPEC.match(digest) or (seq is not None and not isinstance(seq, int)):
        raise LedgerError(f"{path}: no anchor in it (expected seq and hash, or ledger_seq and ledger_head)")
    writers = get("writers") or []
    writers = writers.split(",") if isinstance(writers, str) else writers
    return Anchor(digest, seq, get("genesis") if isinstance(get("genesis"), str) else None,
                  tuple(w for w in writers if isinstance(w, str)), str(path))


def check_anchor(entries: list[Entry], anchor: Anchor) -> list[tuple[str, str, str]]:
    """(item, problem, detail) for each way ``entries`` contradict ``anchor``."""
    item = f"trusted head {anchor.describe()}"
    out: list[tuple[str, str, str]] = []
    if anchor.genesis and (not entries or entries[0].hash != anchor.genesis):
        out.append((item, "rewritten", "the ledger's genesis entry is not the anchored one: the whole ledger was "
                                       "replaced or rewritten from its first entry"))
    by_seq = {e.seq: e for e in entries}
    if anchor.seq is not None:
        if anchor.seq not in by_seq:
            last = max(by_seq, default=-1)
            out.append((item, "truncated", f"the anchored entry seq {anchor.seq} is gone; the ledger ends at seq "
                                           f"{last}: entries were cut from the end"))
            return out
        if by_seq[anchor.seq].hash != anchor.hash:
            out.append((item, "rewritten", f"entry seq {anchor.seq} is {by_seq[anchor.seq].hash[:12]}…, not the "
                                           "anchored hash: the ledger was rewritten up to or before that entry"))
            return out
        start = anchor.seq
    else:
        hit = next((e for e in entries if e.hash == anchor.hash), None)
        if hit is None:
            out.append((item, "rewritten_or_truncated", "no entry of the ledger has the anchored hash"))
            return out
        start = hit.seq
    if anchor.writers:
        for e in entries:
            if e.seq > start and e.signer not in anchor.writers:
                out.append((f"ledger seq {e.seq} ({e.kind})", "unanchored_writer",
                            f"appended after the trusted head by key {e.signer[:12]}…, which the anchor does not list"))
    return out
