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
    entries = list(entries)
    builder = _ProvBuilder({e.payload["provenance_id"]: e.payload["sha256"] for e in entries
                            if e.kind == "generation"})
    # Source records first, so the full record defines each src: entity before any artifact refers to it.
    for e in entries:
        if e.kind == "source_record":
            builder.source_record(e)
    for e in entries:
        if e.kind in ("artifact", "generation"):
            builder.artifact(e)
        elif e.kind == "stage":
            builder.stage(e)
        elif e.kind == "prompt_decision":
            builder.prompt_check(e)
        elif e.kind == "review_decision":
            builder.review(e)
        if e.kind == "artifact" and e.payload.get("role") == "released_image":
            builder.released(e)
    return builder.doc


class _ProvBuilder:
    """One PROV document built entry by entry: each ledger entry kind maps to PROV entities, activities,
    agents and their relations (W3C PROV-DM)."""

    def __init__(self, held: dict[str, str]) -> None:
        self.doc = ProvDocument()
        for prefix, uri in (("ink", NS_INK), ("art", NS_ART), ("src", NS_SRC), ("agent", NS_AGENT)):
            self.doc.add_namespace(prefix, uri)
        self.entities: set[str] = set()
        self.agents: set[str] = set()
        self.held = held  # provenance id -> the held image's sha256, for the reviews that decide on them
        self.pipeline = self.agent("inkgen-pipeline", "software")

    def entity(self, qname: str, attrs: dict[str, object]) -> str:
        # An artifact may be recorded several times (re-runs); PROV merges attributes of one id, so the
        # first record defines it and later ones only add relations.
        if qname not in self.entities:
            self.doc.entity(qname, attrs)
            self.entities.add(qname)
        return qname

    def agent(self, name: str, kind: str) -> str:
        qname = f"agent:{_local(name)}"
        if qname not in self.agents:
            self.doc.agent(qname, {"prov:label": name, "ink:agentKind": kind})
            self.agents.add(qname)
        return qname

    def source_record(self, e: Entry) -> None:
        p = e.payload
        attrs = {"prov:type": "ink:SourceRecord", "ink:itemId": p["item_id"], "ink:license": p["license"],
                 "ink:sha256": p["sha256"], **_common(e)}
        if p.get("url"):
            attrs["prov:location"] = p["url"]
        if p.get("title"):
            attrs["prov:label"] = p["title"]
        qname = self.entity(f"src:{_local(p['item_id'])}", attrs)
        owner = p.get("holder") or p.get("source")
        if owner:
            self.doc.wasAttributedTo(qname, self.agent(owner, "holder" if p.get("holder") else "source"))

    def artifact(self, e: Entry) -> None:
        """An artifact or a generated image: derived from its parents and sources; a generation is also
        an activity that used the checkpoint."""
        p, doc = e.payload, self.doc
        art = self.entity(f"art:{p['sha256']}", {"prov:type": "ink:Artifact", "ink:path": p["path"],
                                                 "ink:role": p.get("role", e.kind), "ink:size": p["size"],
                                                 "ink:artifactType": p.get("type", "file"), **_common(e)})
        for parent in p.get("derived_from", []):
            doc.wasDerivedFrom(art, self.entity(f"art:{parent}", {"prov:type": "ink:Artifact"}))
        for item in p.get("sources", []):
            doc.wasDerivedFrom(art, self.entity(f"src:{_local(item)}", {"prov:type": "ink:SourceRecord"}))
        if e.kind != "generation":
            return
        act = f"ink:gen.{_local(p['provenance_id'])}"
        doc.activity(act, e.time, e.time, {
            "prov:type": "ink:Generation", "ink:provenanceId": p["provenance_id"], "ink:status": p["status"],
            "ink:heldFor": ",".join(p["held_for"]) or "none", "ink:prompt": p["prompt"],
            "ink:promptUsed": p["prompt_used"], "ink:action": p["decision"]["action"],
            "ink:copyrightMatches": len(p["copyright"].get("matches", [])), **_common(e)})
        ckpt = self.entity(f"art:{p['checkpoint_sha256']}", {"prov:type": "ink:Artifact"})
        doc.used(act, ckpt)
        doc.wasGeneratedBy(art, act)
        doc.wasDerivedFrom(art, ckpt)
        doc.wasAssociatedWith(act, self.pipeline)

    def stage(self, e: Entry) -> None:
        p, doc = e.payload, self.doc
        act = f"ink:stage.{_local(p['name'])}.{e.seq}"
        doc.activity(act, e.time, e.time, {"prov:type": "ink:Stage", "ink:name": p["name"],
                                           "ink:paramsSha256": p["params_sha256"],
                                           "ink:params": json.dumps(p["params"], sort_keys=True,
                                                                    ensure_ascii=False), **_common(e)})
        for i in p["inputs"]:
            doc.used(act, self.entity(f"art:{i['sha256']}", {"prov:type": "ink:Artifact", "ink:path": i["path"]}))
        for o in p["outputs"]:
            doc.wasGeneratedBy(self.entity(f"art:{o['sha256']}", {"prov:type": "ink:Artifact",
                                                                  "ink:path": o["path"]}), act)
        doc.wasAssociatedWith(act, self.pipeline)

    def prompt_check(self, e: Entry) -> None:
        p = e.payload
        d = p["decision"]
        self.doc.activity(f"ink:check.{e.seq}", e.time, e.time, {
            "prov:type": "ink:PromptCheck", "ink:prompt": p["prompt"], "ink:action": d["action"],
            "ink:reasons": " | ".join(d["reasons"]) or "none", **_common(e)})

    def review(self, e: Entry) -> None:
        p = e.payload
        act = f"ink:review.{_local(p['provenance_id'])}"
        self.doc.activity(act, p["decided_at"], p["decided_at"], {
            "prov:type": "ink:ConsultantReview", "ink:decision": p["decision"], "ink:rationale": p["rationale"],
            "ink:provenanceId": p["provenance_id"], **_common(e)})
        self.doc.wasAssociatedWith(act, self.agent(p["consultant"], "cultural_consultant"))
        if p["provenance_id"] in self.held:
            self.doc.used(act, f"art:{self.held[p['provenance_id']]}")

    def released(self, e: Entry) -> None:
        """The released copy is the review's product (its artifact entry precedes the decision)."""
        pid = e.payload.get("attributes", {}).get("provenance_id")
        if pid:
            self.doc.wasGeneratedBy(f"art:{e.payload['sha256']}", f"ink:review.{_local(pid)}")


def prov_json(entries: Iterable[Entry], indent: int | None = 2) -> str:
    """The ledger as a PROV-JSON string."""
    return to_prov(entries).serialize(format="json", indent=indent)
