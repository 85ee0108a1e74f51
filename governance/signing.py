"""Ed25519 keys for the ledger: the writer key of a process, and the consultants' keyring.

Paper section 6.2 asks for provenance that can be trusted and for religious motifs to be validated by a
cultural consultant. A hash chain alone proves neither: whoever can edit the file can recompute every
hash. So (RFC 8032 Ed25519, through ``cryptography``):

- **Writer key.** Every ledger entry (and the ``.head`` sidecar) is signed by the key of the process
  that wrote it. The key is a PKCS#8 PEM file, created on first use with mode 0600, outside the project:
  ``$INKGEN_GOVERNANCE_KEY`` if set, else ``<home>/writer-ed25519.pem`` where ``<home>`` is
  ``$INKGEN_GOVERNANCE_HOME`` or ``$XDG_CONFIG_HOME/inkgen/governance`` (``~/.config/...``). Its public
  key is recorded *in the ledger*: in the genesis entry for the key that started it, and in a
  ``writer_key`` entry the first time another key appends. An attacker who can edit the ledger but not
  read that file cannot produce a valid signature; one who can is caught by the head anchored outside
  the file (``governance verify --trusted-head``; see :mod:`governance.anchor`).
- **Consultants' keyring.** ``governance/data/consultants.yaml`` (shipped; ``--keyring`` or
  ``$INKGEN_CONSULTANTS`` names another) lists the people whose decisions count: name, role and Ed25519
  public key. A decision is signed by the consultant's private key (``review decide --key PEM``); a name
  or key not in the keyring is refused by ``review decide`` and by ``verify``. Names are checked for
  control, format (bidi, zero-width) and private-use characters, which could make a log lie to a reader.
"""

from __future__ import annotations

import base64
import functools
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from governance.digest import canonical_bytes

DATA = Path(__file__).resolve().parent / "data"
KEYRING = DATA / "consultants.yaml"
WRITER_KEY_NAME = "writer-ed25519.pem"
_BAD_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


class SigningError(ValueError):
    """A key that cannot be loaded or a keyring that cannot be read; the message names the file."""


def governance_home() -> Path:
    """Where this user's governance keys live (created on demand)."""
    if os.environ.get("INKGEN_GOVERNANCE_HOME"):
        return Path(os.environ["INKGEN_GOVERNANCE_HOME"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "inkgen" / "governance"


def public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def load_public(hex_key: Any, where: str) -> Ed25519PublicKey:
    if not isinstance(hex_key, str) or len(hex_key) != 64:
        raise SigningError(f"{where}: public key {str(hex_key)[:20]!r} is not 64 hex digits (Ed25519 raw key)")
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))
    except ValueError as exc:
        raise SigningError(f"{where}: public key is not valid hex or not an Ed25519 key ({exc})") from None


def load_private(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"{path}: cannot read an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path}: a {type(key).__name__}, not an Ed25519 private key")
    return key


def write_private(key: Ed25519PrivateKey, path: str | os.PathLike[str]) -> Path:
    """Write ``key`` as PKCS#8 PEM, mode 0600, refusing to overwrite (O_EXCL: two processes creating the
    writer key at once end with one key, the loser reads the winner's)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return path


def writer_key_path() -> Path:
    return Path(os.environ["INKGEN_GOVERNANCE_KEY"]) if os.environ.get("INKGEN_GOVERNANCE_KEY") else \
        governance_home() / WRITER_KEY_NAME


def writer_key() -> Ed25519PrivateKey:
    """This process's writer key, created on first use (see the module doc for where)."""
    path = writer_key_path()
    if not path.exists():
        try:
            write_private(Ed25519PrivateKey.generate(), path)
        except FileExistsError:
            pass  # another process created it first: use theirs
    return load_private(path)


def sign(key: Ed25519PrivateKey, purpose: str, value: Any) -> str:
    """Base64 Ed25519 signature of ``purpose`` + the canonical JSON of ``value`` (domain-separated, so a
    signature made for one purpose never verifies for another)."""
    return base64.b64encode(key.sign(purpose.encode() + b"\n" + canonical_bytes(value))).decode("ascii")


@functools.lru_cache(maxsize=64)
def _cached_public(hex_key: str) -> Ed25519PublicKey:
    return load_public(hex_key, "signature")  # a ledger has a handful of writers and thousands of entries


def verify_signature(public: str, signature: Any, purpose: str, value: Any) -> bool:
    """True when ``signature`` is ``public``'s signature of ``purpose`` + ``value``; never raises."""
    try:
        if not isinstance(public, str):
            return False
        key = _cached_public(public)
        raw = base64.b64decode(signature, validate=True) if isinstance(signature, str) else b""
        key.verify(raw, purpose.encode() + b"\n" + canonical_bytes(value))
        return True
    except (SigningError, InvalidSignature, ValueError, TypeError):
        return False


def name_problem(name: Any) -> str | None:
    """Why ``name`` cannot stand for a person in the ledger (None when it can)."""
    if not isinstance(name, str) or not name.strip():
        return "empty or not text"
    if len(name) > 120:
        return f"{len(name)} characters long (at most 120)"
    bad = sorted({f"U+{ord(c):04X} ({unicodedata.name(c, 'unnamed')})" for c in name
                  if unicodedata.category(c) in _BAD_CATEGORIES})
    if bad:
        return "contains control, bidi/format or invisible characters: " + ", ".join(bad)
    if unicodedata.normalize("NFKC", name) != name:
        return "is not in NFKC form (look-alike characters)"
    return None


@dataclass(frozen=True)
class Consultant:
    name: str
    role: str
    public_key: str  # 64 hex digits


@dataclass(frozen=True)
class Keyring:
    source: str
    consultants: tuple[Consultant, ...]

    def by_key(self, public_key: str) -> Consultant | None:
        return next((c for c in self.consultants if c.public_key == public_key), None)

    def by_name(self, name: str) -> Consultant | None:
        return next((c for c in self.consultants if c.name == name), None)


def keyring_path(path: str | os.PathLike[str] | None = None) -> Path:
    return Path(path or os.environ.get("INKGEN_CONSULTANTS") or KEYRING)


def load_keyring(path: str | os.PathLike[str] | None = None) -> Keyring:
    """The consultants' keyring; every entry checked (name, role, key), duplicates refused."""
    path = keyring_path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SigningError(f"{path}: cannot read the consultants' keyring ({exc})") from None
    rows = data.get("consultants") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise SigningError(f"{path}: expected a mapping with a 'consultants' list")
    out: list[Consultant] = []
    for i, row in enumerate(rows, 1):
        where = f"{path} consultant #{i}"
        if not isinstance(row, dict) or set(row) - {"name", "role", "public_key"}:
            raise SigningError(f"{where}: expected name, role, public_key")
        problem = name_problem(row.get("name"))
        if problem:
            raise SigningError(f"{where}: name {row.get('name')!r} {problem}")
        load_public(row.get("public_key"), where)
        out.append(Consultant(row["name"], str(row.get("role", "")), row["public_key"].lower()))
    for attr in ("name", "public_key"):
        values = [getattr(c, attr) for c in out]
        dup = sorted({v for v in values if values.count(v) > 1})
        if dup:
            raise SigningError(f"{path}: {attr} listed twice: {dup[0]}")
    return Keyring(str(path), tuple(out))


def new_consultant_key(name: str, role: str, key_out: str | os.PathLike[str]) -> dict[str, str]:
    """Make a consultant's key pair: the private key to ``key_out`` (0600), the keyring row returned."""
    problem = name_problem(name)
    if problem:
        raise SigningError(f"consultant name {name!r} {problem}")
    key = Ed25519PrivateKey.generate()
    write_private(key, key_out)
    return {"name": name, "role": role, "public_key": public_hex(key.public_key())}
