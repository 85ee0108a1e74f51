"""C2PA content credentials on generated images (C2PA 2.x, through ``c2pa-python``).

Paper section 6.2, *ownership attribution*: an image that leaves the study should carry a verifiable
statement of where it came from, readable by tools that have never heard of this project. Every image
``inkgen generate`` writes (released or held) is signed with a C2PA manifest holding

- ``c2pa.actions``: ``c2pa.created`` with digital source type *trainedAlgorithmicMedia* (IPTC);
- ``org.inkgen.governance``: generator, checkpoint path and SHA-256, the prompt decision (action,
  reasons' count, policy digest, prompt used), the provenance id of its ledger entry, the ledger's genesis
  hash and the head it was made under, and its status; a consultant's approval adds a second manifest
  on the released copy, with the held image as its parent ingredient and the signed decision.

The signer is an X.509 chain (leaf + root, PEM) and its private key. Which chain (decided here, offline):
``$INKGEN_C2PA_CERT`` + ``$INKGEN_C2PA_KEY`` when set (an organisation's real chain); otherwise a
**development chain** generated on first use under ``<governance home>/c2pa/`` (see
:mod:`governance.signing`): a self-signed root CA and an Ed25519 signing certificate with the extensions
c2pa-rs requires of a signer (v3, not a CA, digitalSignature key usage, emailProtection EKU, SKI/AKI,
issued by a CA — a self-signed leaf is refused). No public trust list contains that root, so a credential
signed with it reads as *Valid* (intact, signature good) but not *Trusted*; ``governance verify`` and the
report say "development chain, untrusted" unless ``--c2pa-trust ROOT.pem`` makes it a trust anchor.
"""

from __future__ import annotations

import datetime
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.signing import governance_home, write_private

ASSERTION = "org.inkgen.governance"
SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
GENERATOR = "inkgen governed generation"
_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}}  # the PNG is its own picture; keep files small
_OK_STATES = ("Valid", "Trusted")


class CredentialError(ValueError):
    """A chain that cannot be loaded or an image that cannot be signed; names the file."""


@dataclass(frozen=True)
class SigningChain:
    chain_pem: bytes   # leaf first, then issuers
    key_pem: bytes
    root_pem: bytes | None
    label: str         # said in verify and the report
    development: bool  # True: generated locally, trusted by nobody


def make_chain(folder: str | os.PathLike[str], common_name: str = "inkgen development signer",
               days: int = 3650) -> SigningChain:
    """Write a root CA and an Ed25519 C2PA signing certificate into ``folder`` (chain.pem, key.pem,
    root.pem; the key mode 0600). Used for the development chain and by the tests."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "inkgen (development, untrusted)")])

    def usage(sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                             encipher_only=False, decipher_only=False)

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(name(common_name + " root CA")).issuer_name(name(common_name + " root CA"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage(False, True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    key = ed25519.Ed25519PrivateKey.generate()
    leaf = (x509.CertificateBuilder().subject_name(name(common_name)).issuer_name(root.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(True, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    root_pem = root.public_bytes(pem)
    chain_pem = leaf.public_bytes(pem) + root_pem
    (folder / "root.pem").write_bytes(root_pem)
    (folder / "chain.pem").write_bytes(chain_pem)
    key_path = folder / "key.pem"
    if key_path.exists():
        key_path.unlink()
    write_private(key, key_path)
    return SigningChain(chain_pem, key_path.read_bytes(), root_pem, f"{common_name} ({folder})", True)


def signing_chain() -> SigningChain:
    """The chain images are signed with: ``$INKGEN_C2PA_CERT``/``$INKGEN_C2PA_KEY``, else the development
    chain under the governance home, created on first use."""
    cert, key = os.environ.get("INKGEN_C2PA_CERT"), os.environ.get("INKGEN_C2PA_KEY")
    if cert or key:
        if not (cert and key):
            raise CredentialError("INKGEN_C2PA_CERT and INKGEN_C2PA_KEY go together (PEM chain, PEM key)")
        try:
            return SigningChain(Path(cert).read_bytes(), Path(key).read_bytes(), None, f"certificate {cert}", False)
        except OSError as exc:
            raise CredentialError(f"C2PA signing chain: {exc}") from None
    folder = governance_home() / "c2pa"
    if not (folder / "chain.pem").is_file() or not (folder / "key.pem").is_file():
        return make_chain(folder)
    return SigningChain((folder / "chain.pem").read_bytes(), (folder / "key.pem").read_bytes(),
                        (folder / "root.pem").read_bytes() if (folder / "root.pem").is_file() else None,
                        f"inkgen development signer ({folder})", True)


def _alg(chain: SigningChain) -> Any:
    from c2pa import C2paSigningAlg
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key = serialization.load_pem_private_key(chain.key_pem, password=None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return C2paSigningAlg.ED25519
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: C2paSigningAlg.ES256, 384: C2paSigningAlg.ES384, 521: C2paSigningAlg.ES512}[key.curve.key_size]
    if isinstance(key, rsa.RSAPrivateKey):
        return C2paSigningAlg.PS256
    raise CredentialError(f"C2PA signing key: {type(key).__name__} is not supported")


def sign_png(path: str | os.PathLike[str], statement: dict[str, Any], chain: SigningChain | None = None, *,
             parent: str | os.PathLike[str] | None = None, title: str | None = None) -> None:
    """Embed a signed C2PA manifest stating ``statement`` in the PNG at ``path`` (rewritten atomically).
    ``parent``: an earlier signed image this one is published from (its manifest becomes an ingredient)."""
    import c2pa

    chain = chain or signing_chain()
    path = Path(path)
    # C2PA 2.x: the first action is c2pa.created (a new asset) or c2pa.opened (of the parent ingredient).
    actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
               {"action": "c2pa.published"}] if parent else \
        [{"action": "c2pa.created", "digitalSourceType": SOURCE_TYPE}]
    manifest = {"claim_generator_info": [{"name": GENERATOR}], "title": title or path.name, "format": "image/png",
                "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}},
                               {"label": ASSERTION, "data": statement}]}
    try:
        ctx = c2pa.Context.from_dict(_SETTINGS)
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(_alg(chain), chain.chain_pem, chain.key_pem, None))
        out = io.BytesIO()
        with c2pa.Builder(json.dumps(manifest), ctx) as builder:
            if parent:
                with open(parent, "rb") as fh:
                    builder.add_ingredient({"title": Path(parent).name, "relationship": "parentOf", "label": "parent"},
                                           "image/png", fh)
            with open(path, "rb") as src:
                builder.sign(signer, "image/png", src, out)
    except c2pa.C2paError as exc:
        raise CredentialError(f"{path}: C2PA signing failed ({exc})") from None
    tmp = path.with_name(path.name + f".{os.getpid()}.c2pa")
    tmp.write_bytes(out.getvalue())
    os.replace(tmp, path)


@dataclass(frozen=True)
class Credential:
    """What a C2PA reader says about one image."""

    state: str                      # Trusted | Valid | Invalid | absent | unreadable
    statement: dict[str, Any] | None
    failures: tuple[str, ...]       # C2PA failure codes with explanations
    issuer: str | None
    parent: bool                    # the active manifest has a parent ingredient (a released copy)

    @property
    def ok(self) -> bool:
        return self.state in _OK_STATES

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "statement": self.statement, "failures": list(self.failures),
                "issuer": self.issuer, "parent": self.parent}


def read_credential(path: str | os.PathLike[str], trust_anchors: bytes | None = None) -> Credential:
    """Read and validate the C2PA manifest of ``path``; never raises on content (state says what)."""
    import c2pa

    settings: dict[str, Any] = dict(_SETTINGS)
    if trust_anchors:
        settings = {**settings, "verify": {"verify_trust": True},
                    "trust": {"trust_anchors": trust_anchors.decode("ascii")}}
    try:
        ctx = c2pa.Context.from_dict(settings)
        with open(path, "rb") as fh, c2pa.Reader("image/png", fh, context=ctx) as reader:
            state = reader.get_validation_state() or "unknown"
            results = reader.get_validation_results() or {}
            active = reader.get_active_manifest() or {}
    except c2pa.C2paError as exc:
        kind = type(exc).__name__
        return Credential("absent" if "ManifestNotFound" in kind else "unreadable", None,
                          (f"{kind}: {exc}",), None, False)
    except OSError as exc:
        return Credential("unreadable", None, (str(exc),), None, False)
    failures = tuple(f"{f.get('code')}: {f.get('explanation', '')}"
                     for f in (results.get("activeManifest") or {}).get("failure", []))
    statement = next((a.get("data") for a in active.get("assertions", []) if a.get("label") == ASSERTION), None)
    issuer = (active.get("signature_info") or {}).get("issuer")
    parent = any(i.get("relationship") == "parentOf" for i in active.get("ingredients", []))
    return Credential(state, statement, failures, issuer, parent)
