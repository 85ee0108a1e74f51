"""governance: provenance, copyright cross-check, style anchoring and sacred-imagery guardrails.

It audits everything the study produces (paper section 6.2). It never imports ``inkgen``: the study
calls governance, not the other way round, so a reviewer can run it on any folder of artifacts.
"""
