"""governance: provenance, copyright cross-check, style anchoring and sacred-imagery guardrails.

It audits everything the study produces (paper section 6.2: cultural authenticity, ownership
attribution, spiritual dignity). It never imports ``inkgen``: the study calls governance, not the other
way round, so a reviewer can run it on any folder of artifacts.

The API a pipeline uses (each module's docstring says more):

- policy:      ``governance.policy.load_policy(path=None, overrides=None) -> Policy``
- ledger:      ``governance.ledger.Ledger(path, root=None)`` with ``.append``, ``.entries``, ``.head``
- provenance:  ``governance.provenance.record_artifact / record_source_records / record_stage /
               read_records_jsonl / item_ids_from_csv / lineage``
- prompts:     ``governance.decisions.check_prompt(text, policy) -> Decision`` (text normalised once by
               ``governance.normalize``, with ``governance.uts39`` skeletons; lexicons read by
               ``governance.lexicon`` and searched by ``governance.sacred``; posture holders found by
               ``governance.roles``)
- copyright:   ``governance.registry.load_registry``, ``governance.copyright.load_training_hashes /
               screen_training_items / check_output / record_screening``; copy matching in two stages:
               ``governance.candidates`` (pHash, numpy scan or faiss binary index), then
               ``governance.copy_verify`` + ``governance.copy_evidence`` (SIFT/RANSAC, aligned evidence)
               fused by ``governance.copy_fusion``, wired by ``governance.copymatch.Matcher`` and
               calibrated on held-out works by ``governance.copy_calibration.calibrate_matcher``
- generation:  ``governance.generation.record_generation / record_prompt_decision``
- review:      ``governance.review.pending / decide``
- checking:    ``governance.verify.verify``, ``governance.report.write_report``,
               ``governance.prov_export.prov_json``, ``governance.calibration.calibrate_procedural``,
               ``governance.guardrail_eval.evaluate``
"""
