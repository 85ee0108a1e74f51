"""Recording what ``inkgen generate`` does: prompt decisions, generated images, and the release gate.

Paper section 6.2 asks for three things at generation time, and this module is where they meet:

- *ownership attribution*: each generated image gets a provenance id, is written as a PNG carrying that id
  and the ledger head (:mod:`governance.pngmeta`), and is entered in the ledger linked to the checkpoint
  (whose own entries lead back to the training manifest and the source records' licences);
- the *copyright cross-check* of the output (:mod:`governance.copyright`): a match with a registered work
  or with a training image holds the output back;
- *spiritual dignity*: an output whose prompt carried a religious motif is held for a cultural consultant
  (:mod:`governance.review`) — "mandatory cultural consultant validation for any religious motif creation".

Every image is also signed with a C2PA manifest (:mod:`governance.credentials`) stating the generator,
the checkpoint digest, the prompt decision and its ledger entry (provenance id, ledger genesis, head it
was made under). Which copyright references were consulted is recorded per image (``copyright_checks``):
a reference switched off is "not checked", never a pass.

A held image is written under ``held_dir``, never at its release path; only a consultant's approval (and
no copyright hold) copies it there. Refused prompts produce no image; their decision is still entered.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from PIL import Image

from governance.credentials import GENERATOR, sign_png, signing_chain
from governance.digest import file_digest, sha256_json
from governance.ledger import Entry, Ledger
from governance.pngmeta import save_with_provenance
from governance.provenance import latest_artifacts, record_artifact, recorded_path, relative_path

STATUS_RELEASED = "released"
STATUS_HELD = "held"
HOLD_COPYRIGHT = "copyright"
HOLD_REVIEW = "consultant_review"


class GenerationError(ValueError):
    """A generation that must not be recorded as made (a refused prompt, a bad path ...)."""


def new_provenance_id() -> str:
    """A fresh, unguessable id for one generated image (UUID4; the ledger entry then pins its content)."""
    return f"gen-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class GenerationRecord:
    provenance_id: str
    path: Path                 # where the PNG was written (release path, or under held_dir)
    status: str                # released | held
    held_for: tuple[str, ...]  # copyright and/or consultant_review
    entry: Entry


def record_prompt_decision(ledger: Ledger, prompt: str, decision: Any,
                           context: Mapping[str, Any] | None = None) -> Entry:
    """Enter a prompt check's outcome (refusals above all, so that the report can list them)."""
    return ledger.append("prompt_decision", {"prompt": prompt, "decision": decision.to_dict(),
                                             "context": dict(context or {})})


#: (ledger genesis hash, checkpoint path, size, mtime) -> its artifact entry. Generating many images from
#: one checkpoint must not re-hash a large file and re-read a growing ledger for every image (that made
#: recording quadratic: 36 ms per image after 1,000 images); an append-only ledger never loses the entry,
#: and a rewritten checkpoint changes size or mtime, so the key is safe.
_CHECKPOINTS: dict[tuple[str, str, int, int], Entry] = {}


def _checkpoint_entry(ledger: Ledger, checkpoint: str | os.PathLike[str]) -> Entry:
    """The checkpoint's artifact entry, recorded now if the ledger does not hold its current digest."""
    rel = relative_path(ledger, checkpoint)
    stat = Path(checkpoint).stat()
    key = (ledger.genesis_hash, rel, stat.st_size, stat.st_mtime_ns)
    if key in _CHECKPOINTS:
        return _CHECKPOINTS[key]
    sha, _ = file_digest(checkpoint)
    known = latest_artifacts(ledger).get(rel)
    entry = known if known is not None and known.payload["sha256"] == sha else \
        record_artifact(ledger, checkpoint, "checkpoint")
    _CHECKPOINTS[key] = entry
    return entry


def check_held_dir(held_dir: str | os.PathLike[str], release_path: str | os.PathLike[str],
                   root: str | os.PathLike[str] | None = None) -> None:
    """Refuse a held folder equal to, or inside, the release path's folder, or a release path inside the
    held folder: either way a held image would sit among released ones. The one exception is a release
    path directly in the project ``root`` (``--out x.png``): the root holds everything, it is not a folder
    anyone publishes as is, and the held folder must live somewhere in it."""
    held = Path(held_dir).resolve()
    out_dir = Path(release_path).resolve().parent
    inside = out_dir in held.parents and (root is None or out_dir != Path(root).resolve())
    if held == out_dir or inside or held in out_dir.parents:
        raise GenerationError(f"held folder {held} and release folder {out_dir}: the held folder must not be, or "
                              "lie inside, the output's folder (nor the output inside it); choose another "
                              "--held-dir or --out")


_CHAINS: dict[tuple[str | None, str | None, str | None], Any] = {}


def _chain() -> Any:
    """The C2PA signing chain, loaded once per process and configuration."""
    key = (os.environ.get("INKGEN_C2PA_CERT"), os.environ.get("INKGEN_C2PA_KEY"),
           os.environ.get("INKGEN_GOVERNANCE_HOME"))
    if key not in _CHAINS:
        _CHAINS[key] = signing_chain()
    return _CHAINS[key]


def record_generation(ledger: Ledger, image: Image.Image, release_path: str | os.PathLike[str], *,
                      held_dir: str | os.PathLike[str], checkpoint: str | os.PathLike[str], prompt: str,
                      decision: Any, output_check: Any, seed: int | None = None,
                      params: Mapping[str, Any] | None = None, provenance_id: str | None = None,
                      copyright_checks: Mapping[str, str] | None = None) -> GenerationRecord:
    """Write ``image`` as a provenance-carrying PNG and enter it in the ledger.

    ``decision`` is the prompt's :class:`governance.decisions.Decision`; ``output_check`` the image's
    :class:`governance.copyright.OutputCheck`. The image goes to ``release_path`` only if nothing holds
    it; otherwise to ``held_dir/<name>`` with the reasons recorded, and a consultant review is requested
    when the prompt carried a religious motif. ``copyright_checks`` says, per reference (registry,
    training), whether it was checked (default: both "not checked"). A held folder that is, or lies
    inside, the release path's folder is refused: a held image must never sit where released ones do.
    """
    if decision.action == "refuse":
        raise GenerationError(f"prompt {prompt[:60]!r} was refused ({'; '.join(decision.reasons)}); "
                              "record it with record_prompt_decision, do not generate")
    release_path = Path(release_path)
    check_held_dir(held_dir, release_path, ledger.root)
    ckpt = _checkpoint_entry(ledger, checkpoint)
    held_for = tuple(r for r, on in ((HOLD_COPYRIGHT, output_check.held),
                                     (HOLD_REVIEW, decision.action == "hold" or bool(decision.motifs))) if on)
    status = STATUS_HELD if held_for else STATUS_RELEASED
    path = Path(held_dir) / release_path.name if held_for else release_path
    if path.exists():
        raise GenerationError(f"{path}: already exists; a generated image is never overwritten")
    pid = provenance_id or new_provenance_id()
    head = ledger.head  # the chain this image is made under; the image commits to it
    save_with_provenance(image, path, provenance_id=pid, ledger_head=head, record={
        "prompt": prompt, "status": status, "held_for": list(held_for),
        "checkpoint_sha256": ckpt.payload["sha256"]})
    checks = dict(copyright_checks or {"registry": "not checked", "training": "not checked"})
    statement = {"generator": GENERATOR, "provenance_id": pid, "status": status, "held_for": list(held_for),
                 "checkpoint_path": ckpt.payload["path"], "checkpoint_sha256": ckpt.payload["sha256"],
                 "prompt_decision": {"action": decision.action, "rewritten": bool(decision.rewritten),
                                     "prompt_used": decision.prompt, "policy_sha256": decision.policy_sha256},
                 "copyright_checks": checks,
                 "ledger_entry": {"provenance_id": pid, "ledger_genesis": ledger.genesis_hash, "made_under_head": head,
                                  "ledger_file": ledger.path.name}}
    chain = _chain()
    sign_png(path, statement, chain)
    sha, size = file_digest(path)
    params = dict(params or {})
    rel = recorded_path(ledger, path)
    entry = ledger.append("generation", {
        "provenance_id": pid, "path": rel, "type": "file", "sha256": sha, "size": size,
        "role": "generated_image", "status": status, "held_for": list(held_for),
        "release_path": recorded_path(ledger, release_path), "embedded_head": head,
        "checkpoint_path": ckpt.payload["path"], "checkpoint_sha256": ckpt.payload["sha256"],
        "prompt": prompt, "prompt_used": decision.prompt, "decision": decision.to_dict(),
        "copyright": output_check.to_dict(), "copyright_checks": checks, "seed": seed, "params": params,
        "credential": {"statement": statement, "signer": chain.label, "development_chain": chain.development},
        "params_sha256": sha256_json(params)})
    if HOLD_REVIEW in held_for:
        ledger.append("review_request", {"provenance_id": pid, "path": rel, "motifs": list(decision.motifs),
                                         "reason": "religious motif: a cultural consultant must decide "
                                                   "before release (paper section 6.2)"})
    return GenerationRecord(pid, path, status, held_for, entry)
