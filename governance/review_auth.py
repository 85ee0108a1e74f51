"""Who may decide: a consultant's decision is signed by a key in the consultants' keyring.

Paper section 6.2 makes a cultural consultant the one who releases a religious motif. A name typed on a
command line proves nothing (the red team decided as ``x`` plus a right-to-left override, rationale
``.``), so a ``review_decision`` payload also carries ``consultant_key`` (Ed25519 public key) and
``consultant_sig``: the consultant's signature over the decision, bound to this ledger (its genesis
hash) and to the held image's SHA-256, so it cannot be replayed onto another ledger or another image.
``governance review decide`` signs it with ``--key`` and refuses a key or name the keyring does not
list; :mod:`governance.verify` re-checks every decision with :func:`decision_problems`.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.signing import Keyring, name_problem, public_hex, sign, verify_signature

PURPOSE = "inkgen-review-decision/1"
MIN_RATIONALE = 10  # characters: "." is not a reason


def statement(payload: dict[str, Any], genesis: str, image_sha256: str | None) -> dict[str, Any]:
    """What the consultant's signature covers."""
    return {"ledger": genesis, "image_sha256": image_sha256,
            **{k: payload.get(k) for k in ("provenance_id", "consultant", "decision", "rationale", "decided_at")}}


def sign_decision(key: Ed25519PrivateKey, payload: dict[str, Any], genesis: str, image_sha256: str) -> dict[str, str]:
    return {"consultant_key": public_hex(key.public_key()),
            "consultant_sig": sign(key, PURPOSE, statement(payload, genesis, image_sha256))}


def decision_problems(payload: dict[str, Any], genesis: str, image_sha256: str | None,
                      keyring: Keyring | None) -> list[tuple[str, str]]:
    """(problem, detail) for each reason a recorded decision does not count."""
    out = []
    name = payload.get("consultant")
    why = name_problem(name)
    if why:
        out.append(("bad_consultant_name", f"consultant name {name!r} {why}"))
    key, sig = payload.get("consultant_key"), payload.get("consultant_sig")
    if not isinstance(key, str) or not isinstance(sig, str):
        return out + [("unsigned_decision", "the decision carries no consultant signature")]
    if not verify_signature(key, sig, PURPOSE, statement(payload, genesis, image_sha256)):
        out.append(("forged_decision", "the consultant's signature does not match this decision, this image and "
                                       "this ledger"))
    if keyring is None:
        return out + [("unlisted_consultant", "no consultants' keyring could be read to check the key")]
    listed = keyring.by_key(key)
    if listed is None:
        out.append(("unlisted_consultant", f"key {key[:12]}… is not in the consultants' keyring {keyring.source}"))
    elif listed.name != name:
        out.append(("unlisted_consultant", f"key {key[:12]}… belongs to {listed.name!r} in the keyring, "
                                           f"not {name!r}"))
    return out
