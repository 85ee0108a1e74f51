"""The append-only, hash-chained provenance ledger (paper section 6.2, *ownership attribution*).

A ledger is a JSON-lines file. Each line is one entry::

    {"hash": H_n, "kind": "...", "payload": {...}, "prev": H_{n-1}, "seq": n, "time": "2025-...Z"}

where ``H_n = SHA-256(canonical JSON of the entry without "hash")`` (see :mod:`governance.digest`) and
``prev`` of entry 0 is 64 zeros. Because every entry commits to its predecessor's hash, editing, deleting,
inserting or re-ordering any entry breaks the chain at that point, and :meth:`Ledger.check_chain` names
the line. A chain alone cannot reveal that its *last* entries were cut off, so every append also writes
the head (sequence number and hash) to a sidecar ``<ledger>.head``, and generated images carry the head
they were made under (:mod:`governance.pngmeta`); :mod:`governance.verify` checks both.

The file is only ever opened for appending. Appends take an exclusive ``flock`` and re-read the tail
under it, so a pipeline stage and ``inkgen generate`` may append to the same ledger concurrently. Entry 0
(``kind = "genesis"``) records the format and the project root, relative to the ledger's folder, against
which every artifact path in the ledger is resolved, so ``governance verify`` needs nothing but the file.

**Signatures** (format 2). Each entry also carries ``signer`` (the writer's Ed25519 public key, 64 hex
digits, covered by the hash) and ``sig`` (base64 Ed25519 signature of the entry's hash, see
:mod:`governance.signing`). The key that started the ledger is named in the genesis payload
(``writer_key``); any other key announces itself with a ``writer_key`` entry the first time it appends.
The ``.head`` sidecar is signed too, so cutting entries and rewriting the sidecar needs the writer's
private key; a head anchored *outside* the file (:mod:`governance.anchor`) catches even that.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.digest import ALGORITHM, sha256_json
from governance.signing import public_hex, sign, verify_signature, writer_key

FORMAT = "inkgen-governance-ledger/2"
ENTRY_PURPOSE = "inkgen-ledger-entry/2"
HEAD_PURPOSE = "inkgen-ledger-head/2"
ZERO_HASH = "0" * 64
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_FIELDS = ("hash", "kind", "payload", "prev", "seq", "sig", "signer", "time")


class LedgerError(Exception):
    """The ledger cannot be read or appended to; the message names the file, line and reason."""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Entry:
    seq: int
    time: str
    kind: str
    payload: dict[str, Any]
    prev: str
    hash: str
    signer: str = ""
    sig: str = ""

    def body(self) -> dict[str, Any]:
        """Everything the entry's hash commits to (the signature signs the hash)."""
        return {"seq": self.seq, "time": self.time, "kind": self.kind, "payload": self.payload,
                "prev": self.prev, "signer": self.signer}

    def computed_hash(self) -> str:
        return sha256_json(self.body())

    def signature_ok(self) -> bool:
        return verify_signature(self.signer, self.sig, ENTRY_PURPOSE, self.hash)

    def to_line(self) -> str:
        return json.dumps({**self.body(), "hash": self.hash, "sig": self.sig}, sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def parse(cls, line: str, where: str) -> "Entry":
        """One ledger line as an Entry; a malformed one is a LedgerError naming ``where``."""
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LedgerError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise LedgerError(f"{where}: not a JSON object")
        missing = [f for f in _FIELDS if f not in data]
        extra = sorted(set(data) - set(_FIELDS))
        if missing or extra:
            raise LedgerError(f"{where}: " + "; ".join(
                ([f"missing field(s) {missing}"] if missing else []) + ([f"unknown field(s) {extra}"] if extra else [])))
        if not isinstance(data["seq"], int) or isinstance(data["seq"], bool) or not isinstance(data["payload"], dict) \
                or not all(isinstance(data[k], str) for k in ("time", "kind", "prev", "hash", "signer", "sig")):
            raise LedgerError(f"{where}: a field has the wrong type (seq int, payload object, others strings)")
        return cls(seq=data["seq"], time=data["time"], kind=data["kind"], payload=data["payload"],
                   prev=data["prev"], hash=data["hash"], signer=data["signer"], sig=data["sig"])


@dataclass(frozen=True)
class ChainProblem:
    """One break in the chain. ``line`` is 1-based; ``kind`` is the entry's kind when it could be read."""

    line: int
    problem: str  # malformed | edited | deleted_or_inserted | reordered | bad_genesis | truncated | incomplete
    #               | bad_signature | unknown_signer
    detail: str
    kind: str | None = None

    def describe(self) -> str:
        what = f"ledger line {self.line}" + (f" ({self.kind})" if self.kind else "")
        return f"{what}: {self.problem.replace('_', ' ')} — {self.detail}"


class Ledger:
    """An append-only hash-chained ledger at ``path``.

    A new ledger needs ``root``: the folder its artifact paths are relative to (normally the project
    root). Opening an existing ledger reads the root from its genesis entry; passing a different ``root``
    is an error rather than a silent re-rooting. ``clock`` returns the entry time (tests fix it); ``key``
    the writer key (default: this user's, :func:`governance.signing.writer_key`, loaded at the first append).
    """

    def __init__(self, path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None, *,
                 clock: Callable[[], str] = utc_now, key: Ed25519PrivateKey | None = None) -> None:
        self.path = Path(path)
        self.clock = clock
        self._key = key
        self._announced = False
        if not self.path.exists() or self.path.stat().st_size == 0:
            if root is None:
                raise LedgerError(f"{self.path}: no ledger here; creating one needs the project root")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            rel = os.path.relpath(Path(root).resolve(), self.path.parent.resolve())
            self.append("genesis", {"format": FORMAT, "algorithm": ALGORITHM, "root": Path(rel).as_posix(),
                                    "signature": "ed25519", "writer_key": self.writer_public})
        genesis = self._first_entry()
        if genesis.kind != "genesis" or genesis.payload.get("format") != FORMAT:
            raise LedgerError(f"{self.path}: line 1 is not a {FORMAT} genesis entry")
        self.root = (self.path.parent / genesis.payload["root"]).resolve()
        self.genesis_hash = genesis.hash  # identifies this ledger (caches key on it)
        if root is not None and Path(root).resolve() != self.root:
            raise LedgerError(f"{self.path}: this ledger's root is {self.root}, not {Path(root).resolve()}")

    @property
    def key(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = writer_key()
        return self._key

    @property
    def writer_public(self) -> str:
        return public_hex(self.key.public_key())

    # -- reading -------------------------------------------------------------------------------------
    @property
    def head_path(self) -> Path:
        return self.path.with_name(self.path.name + ".head")

    def _first_entry(self) -> Entry:
        with open(self.path, encoding="utf-8") as fh:
            line = fh.readline()
        if '"inkgen-governance-ledger/1"' in line:
            raise LedgerError(f"{self.path}: an unsigned format-1 ledger; this version writes signed format-2 "
                              "ledgers only: move it aside (keep it as the record it is) and a new one is started")
        return Entry.parse(line, f"{self.path} line 1")

    def entries(self) -> Iterator[Entry]:
        """Every entry in file order; a malformed line is a LedgerError naming it (see check_chain)."""
        with open(self.path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.endswith("\n"):
                    raise LedgerError(f"{self.path} line {lineno}: incomplete entry (no end of line)")
                yield Entry.parse(line, f"{self.path} line {lineno}")

    def last(self) -> Entry:
        """The last entry, read from the end of the file (ledgers grow large; appends must stay cheap)."""
        with open(self.path, "rb") as fh:
            return self._read_last(fh)

    def _read_last(self, fh) -> Entry:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        if end == 0:
            raise LedgerError(f"{self.path}: empty ledger")
        block = 1 << 16
        while True:
            start = max(0, end - block)
            fh.seek(start)
            tail = fh.read(end - start)
            if not tail.endswith(b"\n"):
                raise LedgerError(f"{self.path}: the last entry is incomplete (no end of line); "
                                  "run `governance verify` — nothing is appended after a broken entry")
            cut = tail.rfind(b"\n", 0, len(tail) - 1)
            if cut >= 0 or start == 0:
                line = tail[cut + 1:].decode("utf-8")
                return Entry.parse(line, f"{self.path} last line")
            block *= 4

    @property
    def head(self) -> str:
        """Hash of the last entry: the value a generated image or a report pins itself to."""
        return self.last().hash

    def find(self, kind: str | None = None, **payload_equals: Any) -> list[Entry]:
        """Entries of ``kind`` (any if None) whose payload has every given key equal to the given value."""
        return [e for e in self.entries() if (kind is None or e.kind == kind)
                and all(e.payload.get(k) == v for k, v in payload_equals.items())]

    # -- writing -------------------------------------------------------------------------------------
    def append(self, kind: str, payload: dict[str, Any]) -> Entry:
        """Append one signed entry committing to the current head; returns it. Never rewrites the file.

        The first append of a key the ledger does not know yet is preceded by its ``writer_key`` entry."""
        if not isinstance(kind, str) or not _KIND.match(kind):
            raise LedgerError(f"entry kind {kind!r}: must be lower-case letters, digits and _ (max 64)")
        if not isinstance(payload, dict):
            raise LedgerError(f"entry {kind}: payload must be a dict, not {type(payload).__name__}")
        with self.locked() as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() and not self._announced:
                self._announced = self._knows_writer()
                if not self._announced:
                    self._append_locked(fh, "writer_key", {"public_key": self.writer_public})
                    self._announced = True
            entry = self._append_locked(fh, kind, payload)
        return entry

    @contextlib.contextmanager
    def locked(self) -> Iterator[Any]:
        """The ledger file opened for appending under an exclusive ``flock`` (appends serialise on it)."""
        with open(self.path, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield fh
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _knows_writer(self) -> bool:
        me = self.writer_public
        for e in self.entries():
            if (e.kind == "genesis" and e.payload.get("writer_key") == me) or \
                    (e.kind == "writer_key" and e.payload.get("public_key") == me):
                return True
        return False

    def _append_locked(self, fh: Any, kind: str, payload: dict[str, Any]) -> Entry:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            seq, prev = 0, ZERO_HASH
            self._announced = True  # the genesis entry names this key
        else:
            last = self._read_last(fh)
            seq, prev = last.seq + 1, last.hash
        body = {"seq": seq, "time": self.clock(), "kind": kind, "payload": payload, "prev": prev,
                "signer": self.writer_public}
        digest = sha256_json(body)
        entry = Entry(hash=digest, sig=sign(self.key, ENTRY_PURPOSE, digest), **body)
        fh.seek(0, os.SEEK_END)
        fh.write(entry.to_line().encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())
        self._write_head(entry)
        return entry

    def _write_head(self, entry: Entry) -> None:
        # The sidecar is replaced atomically; it is a signed witness of the ledger's length, not part of it.
        head = {"seq": entry.seq, "hash": entry.hash}
        signed = {**head, "signer": self.writer_public, "sig": sign(self.key, HEAD_PURPOSE, head)}
        tmp = self.head_path.with_name(self.head_path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(signed) + "\n", encoding="utf-8")
        os.replace(tmp, self.head_path)

    # -- checking ------------------------------------------------------------------------------------
    def check_chain(self) -> tuple[list[Entry], list[ChainProblem]]:
        """Read every line tolerantly; return the entries that parsed and every break in the chain."""
        return check_chain_file(self.path)


def check_chain_file(path: str | os.PathLike[str]) -> tuple[list[Entry], list[ChainProblem]]:
    """Check a ledger file's chain, its signatures and its head sidecar; never raises on content."""
    path = Path(path)
    entries: list[Entry] = []
    problems: list[ChainProblem] = []
    prev_hash, prev_seq = ZERO_HASH, -1
    writers: set[str] = set()
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.readlines()
    for lineno, line in enumerate(lines, 1):
        if not line.endswith("\n"):
            problems.append(ChainProblem(lineno, "incomplete", "the entry has no end of line (cut short)"))
            break
        try:
            entry = Entry.parse(line, f"line {lineno}")
        except LedgerError as exc:
            problems.append(ChainProblem(lineno, "malformed", str(exc)))
            prev_hash, prev_seq = None, prev_seq + 1  # type: ignore[assignment]
            continue
        entries.append(entry)
        if entry.computed_hash() != entry.hash:
            problems.append(ChainProblem(lineno, "edited", f"entry seq {entry.seq} does not match its own hash "
                                         f"{entry.hash[:12]}… (its content was changed)", entry.kind))
        if entry.seq != prev_seq + 1:
            kind = "reordered" if entry.seq <= prev_seq else "deleted_or_inserted"
            problems.append(ChainProblem(lineno, kind, f"sequence number {entry.seq} follows {prev_seq}", entry.kind))
        elif prev_hash is not None and entry.prev != prev_hash:
            problems.append(ChainProblem(lineno, "deleted_or_inserted", f"entry seq {entry.seq} does not commit to "
                                         "the entry before it (an entry was removed, inserted or replaced)",
                                         entry.kind))
        problems.extend(_check_signer(entry, lineno, writers))
        prev_hash, prev_seq = entry.hash, entry.seq
    if not entries or entries[0].kind != "genesis" or entries[0].prev != ZERO_HASH:
        problems.append(ChainProblem(1, "bad_genesis", "the first entry is not the genesis entry"))
    problems.extend(_check_head_sidecar(path, entries, writers))
    return entries, problems


def _check_signer(entry: Entry, lineno: int, writers: set[str]) -> list[ChainProblem]:
    """The entry's signature, and whether its key was announced (genesis or ``writer_key``) before it."""
    if entry.kind == "genesis" and entry.seq == 0 and isinstance(entry.payload.get("writer_key"), str):
        writers.add(entry.payload["writer_key"])
    elif entry.kind == "writer_key" and entry.payload.get("public_key") == entry.signer:
        writers.add(entry.signer)  # a new writer announces itself with an entry its own key signs
    if not entry.signature_ok():
        return [ChainProblem(lineno, "bad_signature", f"entry seq {entry.seq} is not signed by the key it names "
                             f"({entry.signer[:12] or 'none'}…): written or changed without the writer's key",
                             entry.kind)]
    if entry.signer not in writers:
        return [ChainProblem(lineno, "unknown_signer", f"entry seq {entry.seq} is signed by {entry.signer[:12]}…, "
                             "a key this ledger never announced", entry.kind)]
    return []


def _check_head_sidecar(path: Path, entries: list[Entry], writers: set[str]) -> list[ChainProblem]:
    head_path = path.with_name(path.name + ".head")
    n = len(entries)
    if not head_path.exists():
        return [ChainProblem(n, "truncated", f"{head_path.name} is missing: cannot tell whether "
                             "entries were cut from the end")]
    try:
        head = json.loads(head_path.read_text(encoding="utf-8"))
        seq, digest = int(head["seq"]), str(head["hash"])
        signer, sig = str(head["signer"]), head["sig"]
    except (ValueError, KeyError, TypeError) as exc:
        return [ChainProblem(n, "truncated", f"{head_path.name} is unreadable ({type(exc).__name__}: {exc})")]
    if not verify_signature(signer, sig, HEAD_PURPOSE, {"seq": seq, "hash": digest}):
        return [ChainProblem(n, "head_forged", f"{head_path.name} (seq {seq}) is not signed by the key it names: "
                             "rewritten without the writer's key (entries may have been cut from the end)")]
    if signer not in writers:
        return [ChainProblem(n, "head_forged", f"{head_path.name} is signed by {signer[:12]}…, not by a writer "
                             "this ledger announced")]
    by_seq = {e.seq: e for e in entries}
    if seq not in by_seq:
        return [ChainProblem(n, "truncated", f"{head_path.name} records entry seq {seq}, but the "
                             f"ledger has only up to seq {max(by_seq, default=-1)}: entries were cut from the end")]
    if by_seq[seq].hash != digest:
        return [ChainProblem(n, "truncated", f"{head_path.name} records hash {digest[:12]}… for seq "
                             f"{seq}; the ledger holds {by_seq[seq].hash[:12]}…")]
    if seq != entries[-1].seq:
        return [ChainProblem(n, "truncated", f"{head_path.name} records seq {seq} but the ledger ends "
                             f"at seq {entries[-1].seq}: appended without the head being updated")]
    return []
