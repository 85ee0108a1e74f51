"""``governance verify``: re-check a ledger and every artifact it records (paper section 6.2).

A provenance claim is only worth something if anyone can re-check it. Verification

1. checks the hash chain and the head sidecar (:func:`governance.ledger.check_chain_file`): an edited,
   deleted, inserted or re-ordered entry, or entries cut from the end, is named by line;
2. re-hashes, for every path, the artifact the ledger recorded last (an ``artifact`` or a ``generation``
   entry): a missing file, a changed file, or — for a folder — each changed, missing or added file is
   named. When a changed file now holds exactly the bytes recorded for *another* path, it says so: that
   is how swapped (re-ordered) artifacts show up;
3. reads the provenance chunks of every generated PNG: its id must be its entry's, and the ledger head it
   carries must be an entry written before it (otherwise the chain it was made under is gone);
4. checks that every review decision answers a review request, is the first for its image, and is signed
   by a consultant listed in the consultants' keyring (:mod:`governance.signing`) under the name given;
5. checks every entry's Ed25519 signature and its writer (:mod:`governance.ledger`), and, when a head
   anchored outside the file is given (:mod:`governance.anchor`), that the ledger still holds it;
6. reads the C2PA credential of every generated image that carries one (:mod:`governance.credentials`):
   intact, and stating this entry's provenance id and checkpoint digest.

An entry whose payload lacks a field or has one of the wrong type is named (``malformed``) and left out of
the other checks; nothing in a ledger's content makes verification crash. Nothing is modified. The result lists problems in plain words; the CLI exits non-zero if there is any.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.anchor import Anchor, check_anchor
from governance.digest import sha256_file, sha256_json
from governance.ledger import FORMAT, Entry, LedgerError, check_chain_file
from governance.pngmeta import ImageMetadataError, read_provenance
from governance.provenance import tree_listing
from governance.review_auth import decision_problems
from governance.schema import split_well_formed
from governance.signing import Keyring, SigningError, load_keyring

LEDGER_NAME = "ledger.jsonl"


@dataclass(frozen=True)
class Problem:
    item: str      # what: "ledger line 7 (stage)", "data/curated/a.png", "gen-…"
    problem: str   # changed | missing | added | swapped | edited | deleted_or_inserted | reordered | ...
    detail: str

    def describe(self) -> str:
        return f"{self.item}: {self.problem.replace('_', ' ')} — {self.detail}"


@dataclass
class VerificationResult:
    ledger: str
    root: str
    entries: int = 0
    artifacts_checked: int = 0
    files_checked: int = 0
    images_checked: int = 0
    head: str | None = None
    head_seq: int | None = None
    anchored: str | None = None      # the trusted head checked, when one was given
    writers: list[str] = field(default_factory=list)
    credentials: dict[str, int] = field(default_factory=dict)  # C2PA state -> images
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "ledger": self.ledger, "root": self.root, "entries": self.entries,
                "artifacts_checked": self.artifacts_checked, "files_checked": self.files_checked,
                "images_checked": self.images_checked, "head": self.head, "head_seq": self.head_seq,
                "anchored": self.anchored, "writers": self.writers, "credentials": self.credentials,
                "seconds": round(self.seconds, 3),
                "problems": [{"item": p.item, "problem": p.problem, "detail": p.detail} for p in self.problems]}


def find_ledger(path: str | os.PathLike[str]) -> Path:
    """A ledger file, the ``ledger.jsonl`` inside a folder, or the only ``*/ledger.jsonl`` below it."""
    path = Path(path)
    if path.is_dir():
        # The folder holding the ledger, or a project folder with exactly one ledger one level down.
        below = sorted(path.glob(f"*/{LEDGER_NAME}"))
        path = path / LEDGER_NAME if (path / LEDGER_NAME).is_file() or len(below) != 1 else below[0]
    if not path.is_file():
        raise LedgerError(f"{path}: no ledger file here (give the ledger file or the folder holding {LEDGER_NAME})")
    return path


def verify(path: str | os.PathLike[str], *, trusted_head: Anchor | None = None, keyring: Keyring | None = None,
           c2pa_trust: bytes | None = None, credentials: bool = True) -> VerificationResult:
    """Verify the ledger at ``path`` (file or folder) and every artifact it records.

    ``trusted_head``: a head anchored outside the file (:func:`governance.anchor.parse_anchor`);
    ``keyring``: the consultants' keyring (default the shipped one); ``c2pa_trust``: PEM trust anchors
    for the images' C2PA signers (without, a good signature reads *Valid*, not *Trusted*)."""
    started = time.perf_counter()
    ledger_path = find_ledger(path)
    entries, chain_problems = check_chain_file(ledger_path)
    root = ledger_path.parent
    if entries and entries[0].kind == "genesis" and entries[0].payload.get("format") == FORMAT \
            and isinstance(entries[0].payload.get("root"), str):
        root = (ledger_path.parent / entries[0].payload["root"]).resolve()
    result = VerificationResult(ledger=str(ledger_path), root=str(root), entries=len(entries),
                                head=entries[-1].hash if entries else None,
                                head_seq=entries[-1].seq if entries else None)
    result.writers = sorted({e.signer for e in entries})
    result.problems.extend(Problem(f"ledger line {c.line}" + (f" ({c.kind})" if c.kind else ""), c.problem, c.detail)
                           for c in chain_problems)
    if trusted_head is not None:
        result.anchored = trusted_head.describe()
        result.problems.extend(Problem(item, problem, detail) for item, problem, detail
                               in check_anchor(entries, trusted_head))
    good, malformed = split_well_formed(entries)
    result.problems.extend(Problem(f"ledger seq {e.seq} ({e.kind})", "malformed", why) for e, why in malformed)
    _check_artifacts(good, root, result)
    _check_images(good, root, result)
    if credentials:
        _check_credentials(good, root, result, c2pa_trust)
    if keyring is None:
        try:
            keyring = load_keyring()
        except SigningError as exc:
            result.problems.append(Problem("consultants' keyring", "unreadable", str(exc)))
    _check_reviews(good, entries[0].hash if entries else "", keyring, result)
    result.seconds = time.perf_counter() - started
    return result


def _check_artifacts(entries: list[Entry], root: Path, result: VerificationResult) -> None:
    latest: dict[str, Entry] = {}
    for e in entries:
        if e.kind in ("artifact", "generation") and isinstance(e.payload.get("path"), str):
            latest[e.payload["path"]] = e
    recorded_by_sha = {e.payload["sha256"]: p for p, e in latest.items()}
    current: dict[str, str] = {}
    for rel, e in sorted(latest.items()):
        result.artifacts_checked += 1
        path = root / rel
        if e.payload.get("type") == "tree":
            # A file entered on its own after the folder (an image released into it by a consultant's
            # approval) is checked by its own entry, not reported as added to the folder.
            own = {p[len(rel) + 1:] for p, later in latest.items() if p.startswith(rel + "/") and later.seq > e.seq}
            _check_tree(rel, path, e, result, own)
            continue
        if not path.is_file():
            result.problems.append(Problem(rel, "missing", f"recorded at ledger seq {e.seq} ({e.payload.get('role')}), "
                                                           "no longer there"))
            continue
        try:
            sha = sha256_file(path)
        except OSError as exc:
            result.problems.append(Problem(rel, "unreadable", str(exc)))
            continue
        result.files_checked += 1
        current[rel] = sha
        if sha != e.payload["sha256"]:
            other = recorded_by_sha.get(sha)
            if other is not None and other != rel:
                result.problems.append(Problem(rel, "swapped", f"now holds the content recorded for {other} "
                                                               "(artifacts re-ordered or swapped)"))
            else:
                result.problems.append(Problem(rel, "changed", f"SHA-256 is {sha[:12]}…, the ledger recorded "
                                                               f"{e.payload['sha256'][:12]}… at seq {e.seq}"))


def _check_tree(rel: str, path: Path, e: Entry, result: VerificationResult, own: set[str]) -> None:
    if not path.is_dir():
        result.problems.append(Problem(rel, "missing", f"folder recorded at ledger seq {e.seq} is gone"))
        return
    now = {r[0]: r for r in tree_listing(path)}
    then = {r[0]: r for r in e.payload.get("files", [])}
    result.files_checked += len(now)
    if sha256_json(list(then.values())) != e.payload["sha256"]:
        result.problems.append(Problem(rel, "edited", f"the file list recorded at seq {e.seq} does not match "
                                                      "its own digest"))
    by_sha = {r[1]: name for name, r in then.items()}
    for name in sorted((set(then) | set(now)) - own):
        item = f"{rel}/{name}"
        if name not in now:
            result.problems.append(Problem(item, "missing", f"part of folder {rel} recorded at seq {e.seq}"))
        elif name not in then:
            result.problems.append(Problem(item, "added", f"not in folder {rel} as recorded at seq {e.seq}"))
        elif now[name][1] != then[name][1]:
            other = by_sha.get(now[name][1])
            if other is not None and other != name:
                result.problems.append(Problem(item, "swapped", f"now holds the content recorded for {rel}/{other}"))
            else:
                result.problems.append(Problem(item, "changed", f"SHA-256 differs from the one recorded at seq {e.seq}"))


def _check_images(entries: list[Entry], root: Path, result: VerificationResult) -> None:
    position = {e.hash: i for i, e in enumerate(entries)}
    for i, e in enumerate(entries):
        if e.kind != "generation":
            continue
        path = root / e.payload["path"]
        if not path.is_file():
            continue  # already reported as missing (or superseded by a later record of the same path)
        result.images_checked += 1
        item = e.payload["provenance_id"]
        try:
            meta = read_provenance(path)
        except ImageMetadataError as exc:
            result.problems.append(Problem(item, "unreadable", str(exc)))
            continue
        if meta is None:
            result.problems.append(Problem(item, "unlabelled", f"{e.payload['path']} carries no provenance chunks"))
            continue
        if meta["provenance_id"] != item:
            result.problems.append(Problem(item, "mislabelled", f"{e.payload['path']} says it is "
                                                                f"{meta['provenance_id']}"))
        head = meta["ledger_head"]
        if position.get(head, len(entries)) >= i:
            result.problems.append(Problem(item, "truncated", f"{e.payload['path']} was made under ledger head "
                                           f"{head[:12]}…, which is not an earlier entry of this ledger"))


def _check_reviews(entries: list[Entry], genesis: str, keyring: Keyring | None, result: VerificationResult) -> None:
    requested: dict[str, Entry] = {}
    images: dict[str, str] = {}
    decided: set[str] = set()
    for e in entries:
        pid = e.payload.get("provenance_id")
        if e.kind == "generation":
            images[pid] = e.payload["sha256"]
        elif e.kind == "review_request":
            requested[pid] = e
        elif e.kind == "review_decision":
            item = f"ledger seq {e.seq} (review_decision)"
            if pid not in requested:
                result.problems.append(Problem(item, "orphan_decision",
                                               f"a review decision for {pid}, which was never held for review"))
                continue
            if pid in decided:
                result.problems.append(Problem(item, "duplicate_decision",
                                               f"{pid} was already decided; decisions are final"))
            decided.add(pid)
            for problem, detail in decision_problems(e.payload, genesis, images.get(pid), keyring):
                result.problems.append(Problem(item, problem, detail))


def _check_credentials(entries: list[Entry], root: Path, result: VerificationResult, trust: bytes | None) -> None:
    """C2PA credentials of the generated images that carry one (released copies included)."""
    from governance.credentials import read_credential

    expected: dict[str, tuple[Entry, dict]] = {}
    for e in entries:
        if e.kind == "generation" and e.payload.get("credential"):
            expected[e.payload["path"]] = (e, e.payload)
        elif e.kind == "artifact" and e.payload.get("role") == "released_image" and \
                e.payload.get("attributes", {}).get("credential"):
            gen = next((g for g in entries if g.kind == "generation" and
                        g.payload.get("provenance_id") == e.payload["attributes"].get("provenance_id")), None)
            if gen is not None:
                expected[e.payload["path"]] = (e, gen.payload)
    for rel, (e, gen) in sorted(expected.items()):
        path = root / rel
        if not path.is_file():
            continue  # reported as missing
        cred = read_credential(path, trust)
        result.credentials[cred.state] = result.credentials.get(cred.state, 0) + 1
        if not cred.ok:
            result.problems.append(Problem(rel, "credential_" + cred.state.lower(),
                                           "C2PA credential does not validate: " + "; ".join(
                                               f for f in cred.failures if "untrusted" not in f)))
            continue
        st = cred.statement or {}
        for key in ("provenance_id", "checkpoint_sha256"):
            if st.get(key) != gen.get(key):
                result.problems.append(Problem(rel, "credential_mismatch", f"its C2PA credential states {key} "
                                               f"{str(st.get(key))[:16]!r}, the ledger {str(gen.get(key))[:16]!r}"))
