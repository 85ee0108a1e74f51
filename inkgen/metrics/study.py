"""The study at a glance (notebook 09_study): what was re-executed, on what data, and what came of each of
the paper's claims (section 3), read from the stages' metrics files only, so the stage is cheap.

Every number shown comes from a ``<paths.metrics>/*.json`` that the stage which measured it wrote; the
paper's numbers come from ``inkgen/data/paper_reported.yaml`` and are labelled *reported by the paper*.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from inkgen.metrics.claims import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE
from inkgen.metrics.paper import STAND_INS, PaperReported, load_paper_reported
from inkgen.variants import NAMES

VARIANTS = NAMES
GOVERNANCE_REPORT = Path("reports") / "governance"
HEADLINE = "headline.json"  # at the project root; dvc.yaml declares it as the study's metric


def _read(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


# The paper's units for counts (Table 1: parameters in millions, MACs in billions): ours are shown in the same.
UNITS = {"parameters_m": (1e6, " M"), "macs_g": (1e9, " G")}


def _fmt(est: dict[str, Any] | None, digits: int = 3, unit: tuple[float, str] | None = None) -> str:
    if not est:
        return "not measured"
    if unit is not None and est.get("mean") is not None:
        scale, suffix = unit
        return f"{est['mean'] / scale:,.2f}{suffix}"
    if est.get("method") == "exact":
        return f"{est['mean']:,.0f}" if abs(est["mean"]) >= 1000 else f"{est['mean']:.{digits}f}"
    n = f"N={est['n_seeds']} seeds x {est['n']} images" if est.get("n_seeds") else f"N={est['n']}"
    if est.get("low") is None or est.get("high") is None:
        return f"{est['mean']:.{digits}f} (no CI, {n})"
    return f"{est['mean']:.{digits}f} [{est['low']:.{digits - 1}f}, {est['high']:.{digits - 1}f}] ({n})"


def _verdict(entry: Any) -> dict[str, Any]:
    """A claim entry of a metrics file: ``{"verdict", "n_seeds", "n_items", ...}`` (a bare string: older files)."""
    return entry if isinstance(entry, dict) else {"verdict": entry}


@dataclass
class Study:
    metrics: dict[str, dict[str, Any] | None]   # file stem -> contents (None: the stage has not run)
    paper: PaperReported
    governance: dict[str, Any] | None
    governance_html: Path | None
    root: Path | None = None  # the project: paths shown relative to it

    # ------------------------------------------------------------------------------------ the data
    def data(self) -> pd.DataFrame:
        c, cu, a = (self.metrics.get(k) or {} for k in ("collect", "curate", "annotate"))
        rows = [("corpus source", c.get("source", "?")), ("images collected", c.get("kept")),
                ("kept after curation (classifier screen, eq. 1-5)", cu.get("n_kept")),
                ("annotated items", a.get("n_items")),
                ("items per split", a.get("n_per_split")),
                ("items per primary category", a.get("n_per_primary")),
                ("items per painting type", a.get("n_per_painting_type"))]
        return pd.DataFrame(rows, columns=["what", "value"]).set_index("what")

    @property
    def procedural(self) -> bool:
        return (self.metrics.get("collect") or {}).get("source") == "procedural"

    # --------------------------------------------------------------------------------- the judges
    def judges(self) -> pd.DataFrame:
        cu, cl = self.metrics.get("curate") or {}, self.metrics.get("clip") or {}
        rows = [{"judge": f"curation classifier ({h})", "held-out accuracy / recall": v}
                for h, v in (cu.get("heldout_accuracy") or {}).items()]
        rows += [{"judge": f"CLIP guide (eq. 13) text->image recall@{k} (chance {cl.get(f'chance@{k}', float('nan')):.3f})",
                  "held-out accuracy / recall": cl.get(f"val_recall@{k}")} for k in (1, 5) if cl]
        jd = self.metrics.get("judge") or {}
        rows += [{"judge": f"CLIP judge (independent) text->image recall@{k} "
                           f"(chance {jd.get(f'chance@{k}', float('nan')):.3f})",
                  "held-out accuracy / recall": jd.get(f"val_recall@{k}")} for k in (1, 5) if jd]
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------------------- the training
    def training(self) -> pd.DataFrame:
        """Per variant: the mean over training seeds, with the lowest and highest seed beside the PSNR."""
        rows = []
        for v in VARIANTS:
            runs = self.metrics.get(f"prior/{v}") or {}
            owner = next((t.get("vqgan_from") for t in runs.values() if t.get("vqgan_from")), v)
            vqs = self.metrics.get(f"vqgan/{owner}") or {}
            psnr = [m.get("val_psnr") for m in vqs.values() if m.get("val_psnr") is not None]

            def mean(key: str, runs=runs) -> float | None:
                vals = [t.get(key) for t in runs.values() if t.get(key) is not None]
                return sum(vals) / len(vals) if vals else None

            rows.append({"variant": v, "VQGAN of": owner, "seeds": len(runs),
                         "VQGAN val PSNR (dB), mean": sum(psnr) / len(psnr) if psnr else None,
                         "PSNR, lowest-highest seed": f"{min(psnr):.2f}-{max(psnr):.2f}" if psnr else "",
                         "prior val loss, mean": mean("val_loss"),
                         "judged as requested (primary), mean": mean("primary_accuracy"),
                         "judged as requested (type), mean": mean("type_accuracy"),
                         "training seconds, sum": sum((t.get("wall_seconds") or 0) for t in runs.values())
                         + sum((m.get("wall_seconds") or 0) for m in vqs.values())})
        return pd.DataFrame(rows).set_index("variant")

    # ------------------------------------------------------------------------------ Table 1 in brief
    def table1(self) -> pd.DataFrame:
        ev = self.metrics.get("evaluate") or {}
        per = ev.get("variants") or {}
        rows = []
        for v in VARIANTS:
            m = per.get(v, {})
            row = {"variant": v}
            for pm, names in STAND_INS.items():
                ours = next((n for n in names if n in m), None)
                row[f"{pm} (ours: {ours or '-'})"] = _fmt(m.get(ours), unit=UNITS.get(pm)) if ours else "not measured"
                row[f"{pm} (reported by the paper)"] = self.paper.table1[v].get(pm, "")
            rows.append(row)
        return pd.DataFrame(rows).set_index("variant").T

    def claims(self) -> pd.DataFrame:
        """Every claim of the paper data file with our verdict, its caveat and N (seeds, items)."""
        found = {"evaluate": (self.metrics.get("evaluate") or {}).get("claims") or {},
                 "instructions": (self.metrics.get("instructions") or {}).get("claims") or {}}
        rows = []
        for c in self.paper.claims:
            stage = "instructions" if c.stage == "instructions" else "evaluate"
            v = _verdict(found[stage].get(c.id, f"{stage} stage has not run"))
            rows.append({"claim": c.id, "source": c.source,
                         "paper's text (abridged)": c.text[:110] + ("..." if len(c.text) > 110 else ""),
                         "verdict on our data": v["verdict"], "N seeds": v.get("n_seeds"),
                         "N items": v.get("n_items")})
        return pd.DataFrame(rows)

    def verdict_counts(self) -> dict[str, int]:
        """Claims per verdict (the verdict without its caveat)."""
        return dict(Counter(v.split(" (", 1)[0] for v in self.claims()["verdict on our data"]))

    def judge_vs_guide(self) -> pd.DataFrame:
        """Each claim's verdict with the independent judge's CLIP metrics and with the guide's."""
        jg = (self.metrics.get("evaluate") or {}).get("judge_vs_guide") or {}
        return pd.DataFrame([{"claim": k, **v} for k, v in jg.items()])

    def untestable(self) -> pd.DataFrame:
        """The paper's claims this study cannot test, and why (paper data file)."""
        return pd.DataFrame([dict(u) for u in self.paper.untestable])

    def inconsistencies(self) -> pd.Series:
        return pd.Series(self.paper.inconsistencies, name="the paper's own numbers disagree", dtype=object)

    # ------------------------------------------------------------------------------ Figure 13 in brief
    def instructions(self) -> pd.DataFrame:
        ins = self.metrics.get("instructions") or {}
        rows = []
        for seq, rounds in (ins.get("sequences") or {}).items():
            for r, vals in rounds.items():
                rows.append({"sequence": seq, "round": int(r.split("_")[1]),
                             "style similarity": vals.get("style_similarity"),
                             "response accuracy": vals.get("response_accuracy")})
        return pd.DataFrame(rows)

    def instructions_beside_paper(self) -> pd.DataFrame:
        ins = self.metrics.get("instructions") or {}
        return pd.Series(ins.get("beside_paper") or {}, name="our 95% interval vs the paper's threshold").to_frame()

    def _relative(self, value: Any) -> Any:
        """An absolute path in a report (the ledger, its root) shown relative to the project, as people read it."""
        if isinstance(value, str) and os.path.isabs(value) and self.root is not None:
            return Path(os.path.relpath(value, Path(self.root).resolve())).as_posix()
        return value

    def governance_summary(self) -> pd.Series:
        """The governance report's scalar top-level entries (and those of its ``summary``, if it has one)."""
        g = self.governance or {}
        flat = {k: self._relative(v) for k, v in g.items() if isinstance(v, (str, int, float, bool))}
        if isinstance(g.get("summary"), dict):
            flat.update({f"summary.{k}": v for k, v in g["summary"].items()
                         if isinstance(v, (str, int, float, bool))})
        return pd.Series(flat, name="governance report", dtype=object)

    def summary(self, root: str | Path = ".") -> dict[str, Any]:
        html = self.governance_html
        if html is not None:  # relative to the project: a committed file never names this machine's folders
            html = Path(os.path.relpath(Path(html).resolve(), Path(root).resolve())).as_posix()
        return {"corpus_source": (self.metrics.get("collect") or {}).get("source"),
                "stages_with_metrics": sorted(k for k, v in self.metrics.items() if v),
                "claim_verdicts": self.verdict_counts(),
                "governance_report": html}

    def headline(self) -> dict[str, Any]:
        """The ten numbers a reader wants first, under short keys (``dvc metrics show`` / ``dvc exp show``
        print them as columns; README's "Results" table says what each is). Missing stages give ``None``."""
        m = {k: v or {} for k, v in self.metrics.items()}
        ins = (m.get("instructions") or {}).get("sequences") or {}
        last = [list(rounds.values())[-1] for rounds in ins.values() if rounds]

        def mean(key: str) -> float | None:
            vals = [r.get(key) for r in last if r.get(key) is not None]
            return round(sum(vals) / len(vals), 3) if vals else None

        def r(x: Any, digits: int = 3) -> Any:
            return round(float(x), digits) if isinstance(x, (int, float)) and not isinstance(x, bool) else x

        verdicts = self.verdict_counts()  # verdict strings carry their N after " ("; counted by the verdict itself

        def seed_mean(phase: str, variant: str, key: str, digits: int = 3) -> float | None:
            """The mean over training seeds of one run metric (reports/metrics/<phase>/<variant>/seed-*.json)."""
            vals = [run.get(key) for run in (m.get(f"{phase}/{variant}") or {}).values() if run.get(key) is not None]
            return round(sum(vals) / len(vals), digits) if vals else None

        train_s = sum(float(run.get("wall_seconds") or 0) for k, runs in m.items()
                      if k.startswith(("vqgan/", "prior/")) for run in runs.values())
        # ten short keys, so that `dvc metrics show` fits 120 columns (README's "Results" table names them);
        # psnr and recog are means over training seeds
        return {"psnr": seed_mean("vqgan", "full", "val_psnr", 2),
                "psnr_vq": seed_mean("vqgan", "vqgan", "val_psnr", 2),
                "recog": seed_mean("prior", "full", "primary_accuracy"),
                "recog_vq": seed_mean("prior", "vqgan", "primary_accuracy"),
                "style": mean("style_similarity"), "resp": mean("response_accuracy"),
                "holds": verdicts.get(HOLDS, 0), "fails": verdicts.get(DOES_NOT_HOLD, 0),
                "unsure": verdicts.get(INCONCLUSIVE, 0),
                "train_h": round(train_s / 3600, 2)}


def load_study(root: str | Path, metrics_dir: str, seeds: Sequence[int]) -> Study:
    """Every stage's metrics JSON under ``root/metrics_dir`` and the governance report if it exists. Training
    runs are read for ``seeds`` only (``seeds``): a file left by a run of other seeds (an earlier
    profile, a committed result) is not this study's."""
    root = Path(root)
    folder = root / metrics_dir
    names = ["collect", "curate", "annotate", "clip", "judge", "evaluate", "instructions"]
    metrics: dict[str, Any] = {n: _read(folder / f"{n}.json") for n in names}
    for phase in ("vqgan", "prior"):  # one file per training seed: reports/metrics/<phase>/<variant>/seed-<S>.json
        for v in VARIANTS:
            files = [folder / phase / v / f"seed-{s}.json" for s in sorted(seeds)]
            metrics[f"{phase}/{v}"] = {p.stem: _read(p) for p in files if p.is_file()}
    gov_dir = root / GOVERNANCE_REPORT
    html = gov_dir / "report.html"
    return Study(metrics, load_paper_reported(), _read(gov_dir / "report.json"), html if html.is_file() else None,
                 root)


def write_summary(study: Study, root: str | Path, metrics_dir: str) -> Path:
    """``study.json`` (what ran) and, at the project root, ``headline.json`` (:meth:`Study.headline`, the study's
    one declared metric: at the root, its path column is short enough for `dvc metrics show` to fit 120 columns)."""
    path = Path(root) / metrics_dir / "study.json"
    path.write_text(json.dumps(study.summary(root), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (Path(root) / HEADLINE).write_text(json.dumps(study.headline(), indent=2) + "\n", encoding="utf-8")
    return path
