"""Export the ledger as W3C PROV-JSON (PROV-DM, W3C Recommendation 2013; PROV-JSON, W3C Member Submission).

Paper section 6.2, *ownership attribution*: the ledger's own format is built for tamper evidence; PROV is
the standard vocabulary other tools read. The mapping, built with the ``prov`` package:

=================================  ================================================================
ledger entry                       PROV
=================================  ================================================================
artifact / generation              ``entity art:<sha256>`` (path, role, size, type); ``derived_from`` →
                                   ``wasDerivedFrom``; ``sources`` → ``wasDerivedFrom src:<item_id>``
source_record                      ``entity src:<item_id>`` (licence, URL as ``prov:location``, digest),
                                   ``wasAttributedTo`` the holder or source (``agent``)
stage                              ``activity stage:<name>.<seq>`` that ``used`` its inputs, outputs
                                   ``wasGeneratedBy`` it; params digest as an attribute
generation                         ``activity gen:<provenance_id>`` that ``used`` the checkpoint; the
                                   image ``wasGeneratedBy`` it, status and checks as attributes
prompt_decision                    ``activity check:<seq>`` with the action and reasons
review_decision                    ``activity review:<provenance_id>`` ``wasAssociatedWith`` the
                                   consultant (``agent``), ``used`` the held image; a released copy
                                   ``wasGeneratedBy`` it
=================================  ================================================================

Each record also keeps its ledger sequence number and entry hash (``ink:seq``, ``ink:entry``) so a PROV
reader can go back to the tamper-evident original.
"""

from __future__ import annotations

import json
import re
from typing import Iterable

from prov.model import ProvDocument

from governance.ledger import Entry

NS_INK = "urn:inkgen:governance:"
NS_ART = "urn:inkgen:artifact:sha256:"
NS_SRC = "urn:inkgen:source-record:"
NS_AGENT = "urn:inkgen:agent:"


def _local(text: str) -> str:
    """A QName local part: PROV-JSON ids must not contain spaces or reserved characters."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", str(text)) or "_"


def _common(e: Entry) -> dict[str, object]:
    return {"ink:seq": e.seq, "ink:entry": e.hash, "ink:kind": e.kind}


def to_prov(entries: Iterable[Entry]) -> ProvDocument:
    """A PROV document describing every entry of a ledger."""
    doc = ProvDocument()
    for prefix, uri in (("ink", NS_INK), ("art", NS_ART), ("src", NS_SRC), ("agent", NS_AGENT)):
        doc.add_namespace(prefix, uri)
    entities: set[str] = set()
    agents: set[str] = set()

    def entity(qname: str, attrs: dict[str, object]) -> str:
        # An artifact may be recorded several times (re-runs); PROV merges attributes of one id, so the
        # first record defines it and later ones only add relations.
        if qname not in entities:
            doc.entity(qname, attrs)
            entities.add(qname)
        return qname

    def agent(name: str, kind: str) -> str:
        qname = f"agent:{_local(name)}"
        if qname not in agents:
            doc.agent(qname, {"prov:label": name, "ink:agentKind": kind})
            agents.add(qname)
        return qname

    pipeline = agent("inkgen-pipeline", "software")
    entries = list(entries)
    held = {e.payload["provenance_id"]: e.payload["sha256"] for e in entries if e.kind == "generation"}
    # Source records first, so the full record defines each src: entity before any artifact refers to it.
    for e in entries:
        if e.kind != "source_record":
            continue
        p = e.payload
        attrs = {"prov:type": "ink:SourceRecord", "ink:itemId": p["item_id"], "ink:license": p["license"],
                 "ink:sha256": p["sha256"], **_common(e)}
        if p.get("url"):
            attrs["prov:location"] = p["url"]
        if p.get("title"):
            attrs["prov:label"] = p["title"]
        qname = entity(f"src:{_local(p['item_id'])}", attrs)
        owner = p.get("holder") or p.get("source")
        if owner:
            doc.wasAttributedTo(qname, agent(owner, "holder" if p.get("holder") else "source"))
    for e in entries:
        p = e.payload
        if e.kind in ("artifact", "generation"):
            art = entity(f"art:{p['sha256']}", {"prov:type": "ink:Artifact", "ink:path": p["path"],
                                                "ink:role": p.get("role", e.kind), "ink:size": p["size"],
                                                "ink:artifactType": p.get("type", "file"), **_common(e)})
            for parent in p.get("derived_from", []):
                doc.wasDerivedFrom(art, entity(f"art:{parent}", {"prov:type": "ink:Artifact"}))
            for item in p.get("sources", []):
                doc.wasDerivedFrom(art, entity(f"src:{_local(item)}", {"prov:type": "ink:SourceRecord"}))
            if e.kind == "generation":
                act = f"ink:gen.{_local(p['provenance_id'])}"
                doc.activity(act, e.time, e.time, {
                    "prov:type": "ink:Generation", "ink:provenanceId": p["provenance_id"], "ink:status": p["status"],
                    "ink:heldFor": ",".join(p["held_for"]) or "none", "ink:prompt": p["prompt"],
                    "ink:promptUsed": p["prompt_used"], "ink:action": p["decision"]["action"],
                    "ink:copyrightMatches": len(p["copyright"].get("matches", [])), **_common(e)})
                ckpt = entity(f"art:{p['checkpoint_sha256']}", {"prov:type": "ink:Artifact"})
                doc.used(act, ckpt)
                doc.wasGeneratedBy(art, act)
                doc.wasDerivedFrom(art, ckpt)
                doc.wasAssociatedWith(act, pipeline)
        elif e.kind == "stage":
            act = f"ink:stage.{_local(p['name'])}.{e.seq}"
            doc.activity(act, e.time, e.time, {"prov:type": "ink:Stage", "ink:name": p["name"],
                                               "ink:paramsSha256": p["params_sha256"],
                                               "ink:params": json.dumps(p["params"], sort_keys=True,
                                                                        ensure_ascii=False), **_common(e)})
            for i in p["inputs"]:
                doc.used(act, entity(f"art:{i['sha256']}", {"prov:type": "ink:Artifact", "ink:path": i["path"]}))
            for o in p["outputs"]:
                doc.wasGeneratedBy(entity(f"art:{o['sha256']}", {"prov:type": "ink:Artifact",
                                                                 "ink:path": o["path"]}), act)
            doc.wasAssociatedWith(act, pipeline)
        elif e.kind == "prompt_decision":
            d = p["decision"]
            doc.activity(f"ink:check.{e.seq}", e.time, e.time, {
                "prov:type": "ink:PromptCheck", "ink:prompt": p["prompt"], "ink:action": d["action"],
                "ink:reasons": " | ".join(d["reasons"]) or "none", **_common(e)})
        elif e.kind == "review_decision":
            act = f"ink:review.{_local(p['provenance_id'])}"
            doc.activity(act, p["decided_at"], p["decided_at"], {
                "prov:type": "ink:ConsultantReview", "ink:decision": p["decision"], "ink:rationale": p["rationale"],
                "ink:provenanceId": p["provenance_id"], **_common(e)})
            doc.wasAssociatedWith(act, agent(p["consultant"], "cultural_consultant"))
            if p["provenance_id"] in held:
                doc.used(act, f"art:{held[p['provenance_id']]}")
        if e.kind == "artifact" and p.get("role") == "released_image":
            pid = p.get("attributes", {}).get("provenance_id")
            if pid:  # the released copy is the review's product (its artifact entry precedes the decision)
                doc.wasGeneratedBy(f"art:{p['sha256']}", f"ink:review.{_local(pid)}")
    return doc


def prov_json(entries: Iterable[Entry], indent: int | None = 2) -> str:
    """The ledger as a PROV-JSON string."""
    return to_prov(entries).serialize(format="json", indent=indent)
