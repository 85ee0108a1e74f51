"""The cultural consultant's review queue (paper section 6.2, *spiritual dignity*).

"Mandatory cultural consultant validation for any religious motif creation": every generated image whose
prompt carried a religious motif is held (see :mod:`governance.generation`) and a ``review_request`` is
entered in the ledger. The queue *is* the ledger — pending = requested and not yet decided — so there is
no second, mutable file that could disagree with it. A consultant's decision is entered as

    review_decision  {provenance_id, consultant, decided_at, decision: approve|reject, rationale,
                      consultant_key, consultant_sig, released_path | null, still_held_for: [...]}

signed by a consultant listed in the consultants' keyring (:mod:`governance.review_auth`; concurrent
decisions are serialised, the first stands), and only an approval of an image that nothing else holds (no copyright match) copies it to its release
path, which is then recorded as a ``released_image`` artifact derived from the held one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.credentials import sign_png
from governance.digest import sha256_file
from governance.generation import HOLD_REVIEW
from governance.ledger import Entry, Ledger, utc_now
from governance.provenance import record_artifact
from governance.review_auth import MIN_RATIONALE, sign_decision
from governance.schema import split_well_formed
from governance.signing import Keyring, load_keyring, name_problem, public_hex

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
    for e in split_well_formed(list(ledger.entries()))[0]:  # a malformed entry is verify's to name
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
           key: Ed25519PrivateKey, keyring: Keyring | None = None, decided_at: str | None = None) -> Entry:
    """Enter a consultant's signed decision on a held image; on approval release it if nothing else holds it.

    ``key`` is the consultant's private key; its public key must be in ``keyring`` (default: the shipped
    one) under ``consultant``. Decisions on one ledger are serialised by an exclusive lock on
    ``<ledger>.review.lock``: of concurrent decisions on one image the first stands, the others are refused
    with who decided what and when."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision {decision!r}: must be one of {', '.join(DECISIONS)}")
    problem = name_problem(consultant)
    if problem:
        raise ReviewError(f"consultant name {consultant!r} {problem}")
    if not rationale or len(rationale.strip()) < MIN_RATIONALE:
        raise ReviewError(f"{provenance_id}: a decision needs a rationale of at least {MIN_RATIONALE} characters "
                          "(why approve or reject)")
    keyring = keyring or load_keyring()
    listed = keyring.by_key(public_hex(key.public_key()))
    if listed is None or listed.name != consultant:
        raise ReviewError(f"{consultant!r} with key {public_hex(key.public_key())[:12]}… is not a consultant in the "
                          f"keyring {keyring.source}" + (f" (that key belongs to {listed.name!r})" if listed else "")
                          + "; only listed consultants decide")
    lock_path = ledger.path.with_name(ledger.path.name + ".review.lock")
    with open(lock_path, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _decide_locked(ledger, provenance_id, consultant, decision, rationale.strip(), key,
                                  decided_at or utc_now())
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _decide_locked(ledger: Ledger, provenance_id: str, consultant: str, decision: str, rationale: str,
                   key: Ed25519PrivateKey, decided_at: str) -> Entry:
    item = next((i for i in review_items(ledger) if i.provenance_id == provenance_id), None)
    if item is None:
        raise ReviewError(f"{provenance_id}: no review request with this provenance id in {ledger.path}")
    if not item.pending:
        raise ReviewError(f"{provenance_id}: already decided ({item.decision['decision']} by "
                          f"{item.decision['consultant']} at {item.decision['decided_at']}); decisions are final")
    gen = ledger.find("generation", provenance_id=provenance_id)[-1]
    still_held = [h for h in item.held_for if h != HOLD_REVIEW]
    payload = {"provenance_id": provenance_id, "consultant": consultant, "decided_at": decided_at,
               "decision": decision, "rationale": rationale}
    payload.update(sign_decision(key, payload, ledger.genesis_hash, gen.payload["sha256"]))
    released_path = None
    if decision == "approve" and not still_held:
        released_path = _release(ledger, gen, payload)
    return ledger.append("review_decision", {**payload, "released_path": released_path,
                                             "still_held_for": still_held})


def _release(ledger: Ledger, gen: Entry, decision: dict[str, Any]) -> str:
    """Copy the held image to its release path (with a C2PA manifest stating the decision when the held
    image carries one) and enter it as a ``released_image`` derived from the held one."""
    pid = gen.payload["provenance_id"]
    source = ledger.root / gen.payload["path"]
    target = ledger.root / gen.payload["release_path"]
    if target.exists():
        raise ReviewError(f"{pid}: release path {target} already exists; not overwritten")
    if not source.is_file() or sha256_file(source) != gen.payload["sha256"]:
        raise ReviewError(f"{pid}: the held image {source} is missing or changed since it was "
                          "recorded; not released (run `governance verify`)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".releasing")
    shutil.copyfile(source, tmp)  # the PNG keeps its provenance chunks
    credential = None
    if gen.payload.get("credential"):
        statement = {**gen.payload["credential"]["statement"], "status": "released",
                     "review": {k: decision[k] for k in ("consultant", "decision", "decided_at", "consultant_key")}}
        sign_png(tmp, statement, parent=source, title=target.name)
        credential = {"statement": statement}
    os.replace(tmp, target)
    released = record_artifact(ledger, target, "released_image", derived_from=[gen.payload["sha256"]],
                               attributes={"provenance_id": pid, "credential": credential})
    return released.payload["path"]
