"""The cultural consultant's review queue (paper section 6.2, *spiritual dignity*).

"Mandatory cultural consultant validation for any religious motif creation": every generated image whose
prompt carried a religious motif is held (see :mod:`governance.generation`) and a ``review_request`` is
entered in the ledger. The queue *is* the ledger — pending = requested and not yet decided — so there is
no second, mutable file that could disagree with it. A consultant's decision is entered as

    review_decision  {provenance_id, consultant, decided_at, decision: approve|reject, rationale,
                      released_path | null, still_held_for: [...]}

and only an approval of an image that nothing else holds (no copyright match) copies it to its release
path, which is then recorded as a ``released_image`` artifact derived from the held one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

from governance.digest import sha256_file
from governance.generation import HOLD_REVIEW
from governance.ledger import Entry, Ledger, utc_now
from governance.provenance import record_artifact

DECISIONS = ("approve", "reject")


class ReviewError(ValueError):
    """A decision that cannot be entered (unknown id, already decided, no rationale ...)."""


@dataclass(frozen=True)
class ReviewItem:
    provenance_id: str
    path: str
    prompt: str
    motifs: tuple[str, ...]
    requested_at: str
    held_for: tuple[str, ...]
    decision: dict[str, Any] | None  # the review_decision payload once decided

    @property
    def pending(self) -> bool:
        return self.decision is None

    def to_dict(self) -> dict[str, Any]:
        return {"provenance_id": self.provenance_id, "path": self.path, "prompt": self.prompt,
                "motifs": list(self.motifs), "requested_at": self.requested_at, "held_for": list(self.held_for),
                "state": "pending" if self.pending else self.decision["decision"], "decision": self.decision}


def review_items(ledger: Ledger) -> list[ReviewItem]:
    """Every review request in ledger order, with its decision if one was entered."""
    generations: dict[str, Entry] = {}
    requests: list[Entry] = []
    decisions: dict[str, dict[str, Any]] = {}
    for e in ledger.entries():
        if e.kind == "generation":
            generations[e.payload["provenance_id"]] = e
        elif e.kind == "review_request":
            requests.append(e)
        elif e.kind == "review_decision":
            decisions.setdefault(e.payload["provenance_id"], e.payload)
    items = []
    for r in requests:
        pid = r.payload["provenance_id"]
        gen = generations.get(pid)
        items.append(ReviewItem(pid, r.payload["path"], gen.payload["prompt"] if gen else "",
                                tuple(r.payload["motifs"]), r.time,
                                tuple(gen.payload["held_for"]) if gen else (), decisions.get(pid)))
    return items


def pending(ledger: Ledger) -> list[ReviewItem]:
    return [i for i in review_items(ledger) if i.pending]


def decide(ledger: Ledger, provenance_id: str, *, consultant: str, decision: str, rationale: str,
           decided_at: str | None = None) -> Entry:
    """Enter a consultant's decision on a held image; on approval release it if nothing else holds it."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision {decision!r}: must be one of {', '.join(DECISIONS)}")
    if not consultant or not consultant.strip():
        raise ReviewError("a decision must name the consultant who made it")
    if not rationale or not rationale.strip():
        raise ReviewError(f"{provenance_id}: a decision needs a rationale (why approve or reject)")
    item = next((i for i in review_items(ledger) if i.provenance_id == provenance_id), None)
    if item is None:
        raise ReviewError(f"{provenance_id}: no review request with this provenance id")
    if not item.pending:
        raise ReviewError(f"{provenance_id}: already decided ({item.decision['decision']} by "
                          f"{item.decision['consultant']} at {item.decision['decided_at']}); decisions are final")
    still_held = [h for h in item.held_for if h != HOLD_REVIEW]
    released_path = None
    if decision == "approve" and not still_held:
        gen = ledger.find("generation", provenance_id=provenance_id)[-1]
        source = ledger.root / gen.payload["path"]
        target = ledger.root / gen.payload["release_path"]
        if target.exists():
            raise ReviewError(f"{provenance_id}: release path {target} already exists; not overwritten")
        if not source.is_file() or sha256_file(source) != gen.payload["sha256"]:
            raise ReviewError(f"{provenance_id}: the held image {source} is missing or changed since it was "
                              "recorded; not released (run `governance verify`)")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)  # byte copy: the PNG keeps its provenance chunks and digest
        released = record_artifact(ledger, target, "released_image", derived_from=[gen.payload["sha256"]],
                                   attributes={"provenance_id": provenance_id})
        released_path = released.payload["path"]
    return ledger.append("review_decision", {
        "provenance_id": provenance_id, "consultant": consultant.strip(), "decided_at": decided_at or utc_now(),
        "decision": decision, "rationale": rationale.strip(), "released_path": released_path,
        "still_held_for": still_held})

