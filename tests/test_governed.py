"""The governance gate of ``inkgen generate`` (inkgen.governed; paper section 6.2) on a tiny trained checkpoint:
allow, anchor, hold for a consultant, refuse, copyright holds (registry and memorised training image), the PNG's
provenance chunks, the lineage to the source records' licences, and the command line in and out of a project."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from PIL import Image  # noqa: E402

from governance.ledger import Ledger  # noqa: E402
from governance.phash import phash, to_hex  # noqa: E402
from governance.pngmeta import read_provenance  # noqa: E402
from governance.policy import load_policy  # noqa: E402
from governance.registry import RegisteredWork, write_registry  # noqa: E402
from governance.report import build_report_data  # noqa: E402
from governance.review import decide, pending  # noqa: E402
from governance.verify import verify  # noqa: E402
from governance.credentials import read_credential  # noqa: E402
from governance_keys import consultant  # noqa: E402
from inkgen.cli import main as cli_main  # noqa: E402
from inkgen.generate import GenerateError, Generator  # noqa: E402
from inkgen.governed import Gate, PromptRefused, governed_generate  # noqa: E402
from inkgen.models.text_encoder import TextEncoder  # noqa: E402

from tiny_models import train_tiny_generator, write_tiny_bert  # noqa: E402

ROOT_PARAMS = os.path.join(os.path.dirname(__file__), os.pardir, "params.yaml")
ALLOW = "a red painting of plum blossom"
ANCHOR = "a Tang dynasty court lady in Ming dynasty costume"
HOLD = "a seated Guanyin on a lotus"
REFUSE = "an upside-down Buddha among plum blossoms"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny prior checkpoint (16 px) and its text encoder; the BERT reads long (anchored) prompts."""
    root = tmp_path_factory.mktemp("governed-model")
    bert = write_tiny_bert(root / "bert", hidden=12, max_positions=160)
    enc = TextEncoder(bert, freeze=True, max_tokens=160)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(8, 3, 16, 16, generator=g) * 0.4 - 0.2).clamp(-1, 1)
    captions = [f"a {c} painting" for c in ("red", "blue", "green", "black")] * 2
    # condition dropout as the study's prior has it, so that the project's generate.guidance_scale applies
    vq, pr = train_tiny_generator(root, enc, x, captions, uncond_prob=0.15)
    return dict(prior=pr.checkpoint, bert=bert, gen=Generator.from_checkpoint(pr.checkpoint, text_encoder=enc))


@pytest.fixture()
def project(tmp_path, trained, monkeypatch):
    """A project folder: the checkpoint, a training manifest with perceptual hashes, source records with
    licences; the working directory is its root (paths in a ledger are relative to it)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    shutil.copy(trained["prior"], tmp_path / "models" / "prior-last.pt")
    (tmp_path / "data").mkdir()
    with open(tmp_path / "data" / "records.jsonl", "w", encoding="utf-8") as fh:
        for i in range(3):
            fh.write(json.dumps({"item_id": f"item-{i}", "license": "CC0-1.0", "sha256": f"{i + 1:064x}",
                                 "url": f"https://example.org/{i}", "extra": "ignored"}) + "\n")
    # Training hashes far from anything the tiny model paints (all-ones / alternating bits).
    write_manifest(tmp_path / "data" / "manifest.csv", {"item-0": "ffffffffffffffff", "item-1": "aaaaaaaaaaaaaaaa",
                                                        "item-2": "5555555555555555"})
    return tmp_path


def write_manifest(path, hashes):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["item_id", "split", "phash"])
        for item, h in hashes.items():
            w.writerow([item, "train", h])


def gate(root, **kw):
    return Gate.open(root / "gov" / "ledger.jsonl", held_dir=root / "held", root=root, policy=load_policy(),
                     training_manifest=root / "data" / "manifest.csv", source_records=root / "data" / "records.jsonl",
                     **kw)


def test_allow_writes_a_provenance_carrying_png_linked_to_the_licences(project, trained):
    g = gate(project)
    result = governed_generate(trained["gen"], ALLOW, project / "out" / "a.png", gate=g,
                               checkpoint="models/prior-last.pt", seed=1, temperature=0.0)
    (rec,) = result.records
    assert result.decision.action == "allow" and rec.status == "released" and rec.path == project / "out" / "a.png"
    meta = read_provenance(rec.path)
    assert meta["provenance_id"] == rec.provenance_id and meta["ledger_head"] == rec.entry.prev
    assert meta["record"]["prompt"] == ALLOW and rec.entry.payload["params"]["temperature"] == 0.0
    # image -> checkpoint -> training manifest -> the three source records with their licence
    ckpt = g.ledger.find("artifact", role="checkpoint")[-1]
    man = g.ledger.find("artifact", role="training_manifest")[-1]
    assert ckpt.payload["derived_from"] == [man.payload["sha256"]] and man.payload["sources"] == ["item-0", "item-1", "item-2"]
    assert build_report_data(g.ledger, g.policy)["outputs"][0]["licences"] == "CC0-1.0 (3 items)"
    # a second call links to the same checkpoint entry and does not repeat the source records
    governed_generate(trained["gen"], ALLOW, project / "out" / "b.png", gate=gate(project),
                      checkpoint="models/prior-last.pt", seed=2)
    assert len(g.ledger.find("artifact", role="checkpoint")) == 1 and len(g.ledger.find("source_record")) == 3
    assert verify(g.ledger.path).ok


def test_anchor_paints_the_rewritten_prompt_and_says_so(project, trained):
    g = gate(project)
    result = governed_generate(trained["gen"], ANCHOR, project / "out" / "t.png", gate=g,
                               checkpoint="models/prior-last.pt", seed=0, temperature=0.0)
    d = result.decision
    assert d.action == "anchor" and d.rewritten and "Tang costume" in d.prompt and "Ming" not in d.prompt
    expected = trained["gen"].generate([d.prompt], seed=0, temperature=0.0)[0]
    written = Image.open(result.records[0].path).convert("RGB")
    assert (np.asarray(written) == np.asarray(expected)).all()  # the model painted the anchored prompt
    assert result.records[0].entry.payload["prompt_used"] == d.prompt
    assert any(m.startswith("anchored:") for m in result.messages())


def test_religious_motif_is_held_until_a_consultant_approves(project, trained):
    g = gate(project)
    result = governed_generate(trained["gen"], HOLD, project / "out" / "g.png", gate=g,
                               checkpoint="models/prior-last.pt", seed=0)
    (rec,) = result.records
    assert result.decision.action == "hold" and rec.held_for == ("consultant_review",)
    assert rec.path == project / "held" / "g.png" and not (project / "out" / "g.png").exists()
    assert [i.provenance_id for i in pending(g.ledger)] == [rec.provenance_id]
    assert "governance review decide" in result.messages()[0]
    key, keyring, _ = consultant(project / "keys")
    decide(g.ledger, rec.provenance_id, consultant="A. Consultant", decision="approve",
           rationale="posture and attributes respectful", key=key, keyring=keyring)
    released = project / "out" / "g.png"
    assert Image.open(released).convert("RGB").tobytes() == Image.open(rec.path).convert("RGB").tobytes()
    result = verify(g.ledger.path, keyring=keyring)
    assert result.ok, [p.describe() for p in result.problems]
    cred = read_credential(released)
    assert cred.ok and cred.parent and cred.statement["review"]["consultant"] == "A. Consultant"


def test_refused_prompt_generates_nothing_and_is_recorded(project, trained):
    g = gate(project)
    with pytest.raises(PromptRefused, match="upside down") as err:
        governed_generate(trained["gen"], REFUSE, project / "out" / "r.png", gate=g, checkpoint="models/prior-last.pt")
    assert err.value.decision.action == "refuse"
    assert not (project / "out").exists() and not (project / "held").exists()
    (entry,) = g.ledger.find("prompt_decision")
    assert entry.payload["prompt"] == REFUSE and entry.payload["decision"]["action"] == "refuse"
    assert not g.ledger.find("generation")


@pytest.mark.parametrize("against", ["registry", "training"])
def test_a_copy_of_a_registered_or_training_image_is_held(project, trained, against):
    painted = trained["gen"].generate([ALLOW], seed=3, temperature=0.0)[0]  # what the gate will paint
    if against == "registry":
        write_registry(project / "registry.csv", [RegisteredWork("reg-1", "Estate of a Painter", "protected",
                                                                 phash(painted), "Protected work")])
        g = gate(project, registry=project / "registry.csv")
    else:
        write_manifest(project / "data" / "manifest.csv", {"item-0": to_hex(phash(painted))})
        g = gate(project)
    result = governed_generate(trained["gen"], ALLOW, project / "out" / "c.png", gate=g,
                               checkpoint="models/prior-last.pt", seed=3, temperature=0.0)
    (rec,) = result.records
    assert rec.status == "held" and rec.held_for == ("copyright",) and rec.path == project / "held" / "c.png"
    assert not (project / "out" / "c.png").exists()
    reasons = rec.entry.payload["copyright"]["reasons"]
    assert ("registered work reg-1" if against == "registry" else "training image item-0") in reasons[0]
    assert read_provenance(rec.path)["record"]["held_for"] == ["copyright"]
    assert verify(g.ledger.path).ok


def test_outside_the_ledger_root_is_painted_and_recorded_by_absolute_path(project, trained, tmp_path_factory):
    out = tmp_path_factory.mktemp("elsewhere") / "new" / "folder" / "x.png"  # missing folders are created
    g = gate(project)
    (rec,) = governed_generate(trained["gen"], ALLOW, out, gate=g, checkpoint="models/prior-last.pt").records
    assert rec.path == out and out.is_file()
    assert rec.entry.payload["path"] == out.resolve().as_posix()  # outside the root: absolute
    assert verify(g.ledger.path).ok


def test_cli_defaults_to_the_full_model_and_refuses_an_existing_output_before_painting(project, trained, capsys):
    from inkgen import config
    from inkgen.layout import default_checkpoint

    raw = yaml.safe_load(open(ROOT_PARAMS, encoding="utf-8"))
    for folder, name in ((raw["paths"]["dataset"], "manifest.csv"), (raw["paths"]["raw"], "records.jsonl")):
        (project / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(project / "data" / name, project / folder / name)
    (project / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    args = ["generate", ALLOW, "--text-encoder", str(trained["bert"]), "--out", "deep/er/y.png"]
    assert cli_main(args) == 2 and "no trained full model yet" in capsys.readouterr().err
    full = default_checkpoint(config.load(project / "params.yaml"), project)
    full.parent.mkdir(parents=True)
    shutil.copy(project / "models" / "prior-last.pt", full)
    assert cli_main(args) == 0, capsys.readouterr().err
    assert (project / "deep" / "er" / "y.png").is_file()
    ledger = Ledger(project / raw["governance"]["ledger"])
    n = len(ledger.find("generation"))
    assert ledger.find("generation")[-1].payload["checkpoint_path"] == full.relative_to(project).as_posix()
    before = (project / "deep" / "er" / "y.png").read_bytes()
    assert cli_main(args) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "Traceback" not in err
    assert len(Ledger(ledger.path).find("generation")) == n  # nothing painted, nothing entered
    assert (project / "deep" / "er" / "y.png").read_bytes() == before


def _cli(project, trained, prompt, *extra):
    return cli_main(["generate", prompt, "--checkpoint", "models/prior-last.pt", "--text-encoder", str(trained["bert"]),
                     "--out", "out.png", *extra])


def test_cli_outside_a_project_needs_a_ledger_and_exits_1_on_refusal(project, trained, capsys):
    assert _cli(project, trained, ALLOW) == 2
    assert "--ledger" in capsys.readouterr().err
    assert _cli(project, trained, REFUSE, "--ledger", "gov/ledger.jsonl") == 1
    err = capsys.readouterr().err
    assert err.startswith("refused:") and "upside down" in err and "Traceback" not in err
    assert not (project / "out.png").exists()
    (refusal,) = Ledger(project / "gov" / "ledger.jsonl").find("prompt_decision")  # entered once, with its origin
    assert refusal.payload["context"] == {"via": "inkgen generate"}
    assert _cli(project, trained, HOLD, "--ledger", "gov/ledger.jsonl", "--held-dir", "held") == 0
    out = capsys.readouterr().out
    assert "held " in out and (project / "held" / "out.png").is_file() and not (project / "out.png").exists()
    assert _cli(project, trained, ANCHOR, "--ledger", "gov/ledger.jsonl", "--out", "t.png") == 0
    assert "anchored:" in capsys.readouterr().out and read_provenance(project / "t.png")["provenance_id"]
    assert verify(project / "gov" / "ledger.jsonl").ok


def test_cli_inside_a_project_takes_its_defaults_from_params(project, trained, capsys):
    raw = yaml.safe_load(open(ROOT_PARAMS, encoding="utf-8"))
    for folder, name in ((raw["paths"]["dataset"], "manifest.csv"), (raw["paths"]["raw"], "records.jsonl")):
        (project / folder).mkdir(parents=True, exist_ok=True)  # where params.yaml says they are
        shutil.copy(project / "data" / name, project / folder / name)
    raw["governance"].update(ledger="ledgers/generate.jsonl", held_dir="on_hold",
                             policy={"periods": {"conflation": "refuse"}})
    (project / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    assert _cli(project, trained, ANCHOR) == 1  # conflation refused by the params' policy override
    assert "periods.conflation: refuse" in capsys.readouterr().err
    assert _cli(project, trained, HOLD) == 0
    assert (project / "on_hold" / "out.png").is_file()
    ledger = Ledger(project / "ledgers" / "generate.jsonl")
    assert ledger.find("source_record") and ledger.find("artifact", role="training_manifest")
    assert verify(ledger.path).ok


def test_generate_errors_are_not_refusals(project, trained):
    with pytest.raises(GenerateError):
        governed_generate(trained["gen"], ALLOW, project / "x.jpg", gate=gate(project), checkpoint="models/prior-last.pt")


def test_no_bypass_held_dir_at_the_release_folder_and_checks_switched_off(project, trained, capsys):
    # The red team's command: the held folder is the output's folder. Refused before anything is painted.
    (project / "out").mkdir()
    code = cli_main(["generate", HOLD, "--checkpoint", "models/prior-last.pt", "--text-encoder", str(trained["bert"]),
                     "--out", "out/g2.png", "--held-dir", "out", "--ledger", "gov/ledger.jsonl"])
    err = capsys.readouterr().err
    assert code == 2 and "held folder" in err and not (project / "out" / "g2.png").exists()
    assert not list((project / "out").iterdir())
    # Copyright references switched off: recorded as "not checked", never as a pass, and the report says so.
    code = cli_main(["generate", HOLD, "--checkpoint", "models/prior-last.pt", "--text-encoder", str(trained["bert"]),
                     "--out", "out/g3.png", "--held-dir", "held", "--ledger", "gov/ledger.jsonl",
                     "--registry", "", "--training-manifest", ""])
    out = capsys.readouterr().out
    assert code == 0 and f"--ledger {Path('gov/ledger.jsonl')}" in out  # the real ledger path, not LEDGER
    ledger = Ledger(project / "gov" / "ledger.jsonl")
    gen = ledger.find("generation")[-1].payload
    assert gen["copyright_checks"] == {"registry": "not checked (no rights registry given)",
                                       "training": "not checked (no training manifest given)"}
    assert gen["credential"]["statement"]["copyright_checks"] == gen["copyright_checks"]
    checks = build_report_data(ledger, load_policy())["outputs"][-1]["checks"]
    assert "copyright registry: not checked (no rights registry given)" in checks
    assert read_credential(project / gen["path"]).ok
