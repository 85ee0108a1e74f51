"""The reviewer's report: HTML for people, JSON for machines, both from the ledger (paper section 6.2).

The ethical framework of section 6.2 is only accountable if a non-programmer — a curator, a rights
officer, a monastic partner — can read what happened. The report gathers, from the ledger alone:

- a summary (outputs made, released, held and why, prompts refused, reviews pending);
- per output: a thumbnail (embedded base64 PNG, so the file stands alone), the prompt and the prompt
  actually used if anchored, the checks run and what they found, copyright matches, the provenance chain
  (checkpoint → training data → source records and their licences) and the consultant's decision;
- every refused prompt with its reasons; every consultant decision;
- the verification result (:mod:`governance.verify`) at the time of writing;
- the copyright threshold calibration table and the guardrail measurements, when they were recorded;
- "how to re-verify this yourself": the commands, in plain words.

The HTML is rendered with Jinja2 (``templates/report.html.j2``) with autoescaping on, because prompts are
user input and may be hostile; values are formatted to text here, so no Python representation reaches
the page.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shlex
from pathlib import Path
from typing import Any

import jinja2
from PIL import Image

from governance.credentials import read_credential
from governance.ledger import Entry, Ledger, check_chain_file
from governance.policy import Policy
from governance.provenance import ProvenanceGraph, record_artifact
from governance.schema import split_well_formed
from governance.verify import verify

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Source records listed per output before the list is summarised by licence only.
MAX_SOURCES_SHOWN = 12

_STATUS_WORDS = {"released": "Released", "held": "Held back"}
_HOLD_WORDS = {"copyright": "possible copy of a registered or training image",
               "consultant_review": "religious motif: waiting for a cultural consultant"}


def _thumbnail(path: Path, px: int) -> str | None:
    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            img.thumbnail((px, px))
            buf = io.BytesIO()
            img.save(buf, format="PNG")
    except (OSError, ValueError):
        return None
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _licence_text(licences: dict[str, int]) -> str:
    return ", ".join(f"{name} ({n} item{'s' if n != 1 else ''})" for name, n in licences.items()) or "none recorded"


def _output(e: Entry, graph: ProvenanceGraph, root: Path, decisions: dict[str, dict[str, Any]],
            thumb_px: int) -> dict[str, Any]:
    p = e.payload
    lin = graph.lineage(p["sha256"])
    d = p["decision"]
    matches = [f"{'registered work' if m['against'] == 'registry' else 'training image'} {m['id']}"
               + (f" ({m['status']}, {m['holder']})" if m["against"] == "registry" else "")
               + f": {m['distance']} bits apart" + (" (mirrored)" if m["variant"] != "original" else "")
               for m in p["copyright"]["matches"]]
    review = decisions.get(p["provenance_id"])
    return {
        "id": p["provenance_id"], "path": p["path"], "sha256": p["sha256"], "time": e.time,
        "thumbnail": _thumbnail(root / p["path"], thumb_px),
        "status": _STATUS_WORDS.get(p["status"], p["status"]),
        "held_for": [_HOLD_WORDS.get(h, h) for h in p["held_for"]],
        "prompt": p["prompt"], "prompt_used": p["prompt_used"] if p["prompt_used"] != p["prompt"] else None,
        "action": d["action"], "reasons": d["reasons"],
        "checks": [c.replace("_", " ") for c in d["checks"]] + [
            f"copyright {k}: {v}" for k, v in (p.get("copyright_checks") or
                                               {"registry and training set": "checked (recorded before checks were itemised)"}).items()],
        "copyright_reasons": p["copyright"]["reasons"], "matches": matches,
        "chain": [f"{a['role'].replace('_', ' ')}: {a['path']} (SHA-256 {a['sha256'][:12]}…)" for a in lin.artifacts],
        "stages": [s["name"] for s in lin.stages],
        "licences": _licence_text(lin.licences),
        "sources": [f"{s['item_id']} — {s['license']}" + (f" — {s['url']}" if s.get("url") else "")
                    for s in lin.sources[:MAX_SOURCES_SHOWN]],
        "more_sources": max(0, len(lin.sources) - MAX_SOURCES_SHOWN),
        "missing_sources": len(lin.missing_sources),
        "review": review,
        "credential": _credential_text(root / p["path"], p),
    }


def _credential_text(path: Path, payload: dict[str, Any]) -> str:
    """The image's C2PA credential as read back now, in words."""
    if not payload.get("credential"):
        return "none (made before images were signed)"
    cred = read_credential(path)
    if not cred.ok:
        return f"does NOT validate ({cred.state}): " + "; ".join(f for f in cred.failures if "untrusted" not in f)
    dev = " — a development certificate chain, trusted by nobody else" if payload["credential"].get(
        "development_chain") else ""
    st = cred.statement or {}
    return (f"{cred.state}: signed by {cred.issuer}{dev}; states provenance id {st.get('provenance_id')}, "
            f"checkpoint {str(st.get('checkpoint_sha256'))[:12]}…, prompt decision "
            f"{(st.get('prompt_decision') or {}).get('action')}, status {st.get('status')}")


def build_report_data(ledger: Ledger, policy: Policy) -> dict[str, Any]:
    """Everything the report shows, as plain JSON-able data."""
    entries = split_well_formed(check_chain_file(ledger.path)[0])[0]  # verify names what is left out
    graph = ProvenanceGraph(entries)
    decisions = {e.payload["provenance_id"]: e.payload for e in entries if e.kind == "review_decision"}
    requested = {e.payload["provenance_id"] for e in entries if e.kind == "review_request"}
    outputs = [_output(e, graph, ledger.root, decisions, policy.report.thumbnail_px)
               for e in entries if e.kind == "generation"]
    refusals = [{"time": e.time, "prompt": e.payload["prompt"], "reasons": e.payload["decision"]["reasons"]}
                for e in entries if e.kind == "prompt_decision" and e.payload["decision"]["action"] == "refuse"]
    calibration = next((e.payload for e in reversed(entries) if e.kind == "calibration"), None)
    copy_calibration = next((e.payload for e in reversed(entries) if e.kind == "copy_calibration"), None)
    guardrails = next((e.payload for e in reversed(entries) if e.kind == "guardrail_eval"), None)
    screens = [e.payload for e in entries if e.kind == "copyright_screen"]
    result = verify(ledger.path)
    licences: dict[str, int] = {}
    for e in entries:
        if e.kind == "source_record":
            licences[e.payload["license"]] = licences.get(e.payload["license"], 0) + 1
    summary = {
        "outputs": len(outputs), "released": sum(o["status"] == "Released" for o in outputs),
        "held": sum(o["status"] != "Released" for o in outputs),
        "held_copyright": sum(_HOLD_WORDS["copyright"] in o["held_for"] for o in outputs),
        "held_review": sum(_HOLD_WORDS["consultant_review"] in o["held_for"] for o in outputs),
        "refused": len(refusals), "reviews_pending": len(requested - set(decisions)),
        "reviews_decided": len(decisions), "source_records": sum(licences.values()),
        "licences": _licence_text(dict(sorted(licences.items()))),
        "training_flagged": sum(len(s["flagged"]) for s in screens),
        "verified": result.ok, "problems": len(result.problems),
    }
    return {"title": "Governance report", "ledger": _shown(ledger.path, ledger.root), "root": str(ledger.root),
            "registry": _registry_info(entries, screens),
            "commands": reverify_commands(ledger, outputs, entries),
            "head": result.head, "generated_at": entries[-1].time if entries else "",
            "policy": {"source": policy.source, "sha256": policy.sha256, "conflation": policy.periods.conflation,
                       "registry_max_distance": policy.copyright.registry_max_distance,
                       "training_max_distance": policy.copyright.training_max_distance,
                       "variants": ", ".join(policy.copyright.variants),
                       "max_prompt_chars": policy.prompt.max_chars, "unreadable": policy.prompt.unreadable,
                       "unreadable_share": policy.prompt.unreadable_share,
                       "dignity_classifier": policy.sacred.dignity_classifier,
                       "letters_classifier": policy.sacred.letters_classifier,
                       "letters_hold": policy.sacred.letters_hold},
            "summary": summary, "outputs": outputs, "refusals": refusals,
            "decisions": list(decisions.values()), "screens": screens,
            "verification": result.to_dict(), "calibration": calibration, "copy_calibration": copy_calibration, "guardrails": guardrails}


def _registry_info(entries: list[Entry], screens: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rights registry the ledger recorded last: its path, size and whether it is a demonstration
    (a stand-in with a fictitious holder, not a real copyright database)."""
    reg = next((e.payload for e in reversed(entries) if e.kind == "artifact"
                and e.payload.get("role") == "rights_registry"), None)
    if reg is None:
        return None
    attrs = reg.get("attributes") or {}
    size = next((s.get("registry_size") for s in reversed(screens) if s.get("registry", "").endswith(reg["path"])), None)
    return {"path": reg["path"], "demonstration": bool(attrs.get("demonstration")), "size": size}


def reverify_commands(ledger: Ledger, outputs: list[dict[str, Any]], entries: list[Entry]) -> dict[str, str]:
    """Shell commands a reader can paste as they are: absolute, quoted paths, no placeholders."""
    q = shlex.quote
    cmds = {"verify": f"governance verify {q(str(ledger.path.resolve()))}"}
    existing = [o for o in outputs if (ledger.root / o["path"]).is_file()]
    if existing:
        first = str((ledger.root / existing[0]["path"]).resolve())
        cmds["sha256"] = f"sha256sum {q(first)}"
        cmds["sha256_of"] = existing[0]["id"]
        if any(e.kind == "artifact" and e.payload.get("role") in ("rights_registry", "training_manifest")
               for e in entries):
            cmds["match"] = f"governance match {q(first)} --ledger {q(str(ledger.path.resolve()))}"
    return cmds


def _shown(path: Path, root: Path) -> str:
    """``path`` as a reader of the project sees it: relative to the project root when it lies inside."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path.resolve())


def _pct(value: Any) -> str:
    return f"{float(value):.1%}"


def render_html(data: dict[str, Any]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = _pct
    return env.get_template("report.html.j2").render(**data)


def write_report(ledger: Ledger, policy: Policy, out_dir: str | os.PathLike[str], *,
                 record: bool = True) -> dict[str, Path]:
    """Write ``report.html`` and ``report.json`` into ``out_dir``; enter both in the ledger if ``record``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = build_report_data(ledger, policy)
    html_path, json_path = out / "report.html", out / "report.json"
    html_path.write_text(render_html(data), encoding="utf-8")
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if record:
        record_artifact(ledger, html_path, "report", attributes={"ledger_head": data["head"]})
        record_artifact(ledger, json_path, "report", attributes={"ledger_head": data["head"]})
    return {"html": html_path, "json": json_path}
