"""``params.yaml`` read into typed, frozen dataclasses — the single source of every value.

Each stage has its own section. Loading fails before any work is done, with a message naming the key,
when a key is unknown or missing, has the wrong type, or is out of range. Profiles (``smoke`` for tests,
``paper`` for the paper's scale) are sets of dotted-key overrides kept in the same file; applying one
rewrites the stage sections in place (comments preserved), so DVC sees ordinary parameter changes.
"""


import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Mapping, Sequence

import yaml

from inkgen.config.data import (AnnotateParams, ClassifierParams, CollectParams, CurateParams, FolderParams,
                                MuseumParams, Paths, ProceduralParams, SplitParams, SubjectParams)
from inkgen.config.evaluation import (EvaluateParams, ExpertKitParams, GenerateParams,
                                      GovernanceParams, InferenceParams, InstructionsParams)
from inkgen.config.learning import (ClipParams, JudgeParams, ModelParams, PriorSizeParams,
                                    PriorTrainParams, TextEncoderParams, TrainParams, VariantRunsParams,
                                    VQGANSizeParams, VQGANTrainParams, check_seeds)
from inkgen.display import tabular
from inkgen.config.schema import PARAMS_FILE, ParamsError, build, find_params, project_root

__all__ = ["AnnotateParams", "ClassifierParams", "ClipParams", "CollectParams", "CurateParams",
           "EvaluateParams", "ExpertKitParams", "FolderParams", "GenerateParams",
           "GovernanceParams", "InferenceParams", "InstructionsParams", "JudgeParams", "ModelParams", "MuseumParams", "PARAMS_FILE",
           "Params", "ParamsError", "Paths", "PriorSizeParams", "PriorTrainParams", "ProceduralParams", "SplitParams", "SubjectParams",
           "TextEncoderParams", "TrainParams", "VQGANSizeParams", "VQGANTrainParams", "VariantRunsParams", "apply_overrides", "apply_profile", "build",
           "find_params", "load", "parse", "profile_sets", "project_root"]


@dataclass(frozen=True)
class Params:
    paths: Paths
    collect: CollectParams
    curate: CurateParams
    annotate: AnnotateParams
    clip: ClipParams
    judge: JudgeParams
    text_encoder: TextEncoderParams
    model: ModelParams
    seeds: tuple[int, ...]
    train: TrainParams
    vqgan_train: VQGANTrainParams
    prior_train: PriorTrainParams
    variants: VariantRunsParams
    generate: GenerateParams
    inference: InferenceParams
    evaluate: EvaluateParams
    instructions: InstructionsParams
    governance: GovernanceParams
    profiles: Mapping[str, Mapping[str, Any]]

    def check(self, prefix: str) -> None:
        self._check_judge()
        check_seeds(self.seeds, "seeds")
        for section in ("vqgan_train", "prior_train"):
            batch = getattr(self, section).batch_size
            if batch % self.train.nproc:
                raise ParamsError(f"{section}.batch_size: {batch} is the global batch and must split evenly "
                                  f"over train.nproc = {self.train.nproc} processes")
        # DVC deletes a stage's outputs before re-running it: the long-lived ledger of `inkgen generate`
        # (and its held images) inside the governance stage's folder would be erased by the next run.
        stage = PurePosixPath(self.paths.governance).parts
        for name in ("ledger", "held_dir"):
            value = PurePosixPath(getattr(self.governance, name)).parts
            if value[:len(stage)] == stage:
                raise ParamsError(f"governance.{name}: {getattr(self.governance, name)!r} lies inside "
                                  f"paths.governance ({self.paths.governance!r}), which the governance stage "
                                  "rebuilds on each run; the ledger of `inkgen generate` must never be rewritten")

    def _check_judge(self) -> None:
        """The judge must not be the guide: not its file, not the same training run (seed + architecture)."""
        if self.judge.pretrained and self.judge.pretrained == self.clip.pretrained:
            raise ParamsError(f"judge.pretrained: {self.judge.pretrained!r} is the guide's file (clip.pretrained); "
                              "the CLIP that judges must not be the one that guided training")
        if not self.judge.pretrained and not self.clip.pretrained:
            if self.judge.seed == self.clip.seed:
                raise ParamsError(f"judge.seed: {self.judge.seed} equals clip.seed; the judge is trained "
                                  "separately, with its own seed")
            if dataclasses.asdict(self.judge.model) == dataclasses.asdict(self.clip.model):
                raise ParamsError("judge.model: the same architecture as clip.model; the judge needs its own")

    def section_hash(self, name: str) -> str:
        """SHA-256 of one section's values: what a checkpoint records to say which params made it."""
        blob = json.dumps(dataclasses.asdict(getattr(self, name)), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()



def _tabulate_sections() -> None:
    """Every params section shows as a table in a notebook (``stage.parameters`` cells), not a raw repr."""
    for value in list(globals().values()):
        if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__.startswith(__name__):
            tabular(value)



def parse(raw: Mapping[str, Any]) -> Params:
    """Validate a params mapping, including that every profile override names a real key."""
    params = build(Params, raw, "")
    for profile, overrides in params.profiles.items():
        if not isinstance(overrides, Mapping):
            raise ParamsError(f"profiles.{profile}: expected a mapping of dotted keys to values")
        build(Params, apply_overrides(raw, overrides, f"profiles.{profile}"), f"[profile {profile}]")
    return params


def load(path: str | Path | None = None) -> Params:
    """Read and validate ``params.yaml`` (found upward from the working directory by default)."""
    path = Path(path) if path else find_params()
    if not path.is_absolute() and not path.exists():
        path = find_params(name=str(path))  # a notebook run from notebooks/ names the root's params.yaml
    try:
        raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML ({exc})") from exc
    return parse(raw)



def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A deep copy of ``raw`` with dotted-key ``overrides`` set; every key must already exist."""
    out = json.loads(json.dumps(raw))
    for dotted, value in overrides.items():
        node = out
        *parents, leaf = dotted.split(".")
        for part in parents:
            if not isinstance(node, dict) or part not in node:
                raise ParamsError(f"{where}.{dotted}: no such key in params")
            node = node[part]
        if not isinstance(node, dict) or leaf not in node:
            raise ParamsError(f"{where}.{dotted}: no such key in params")
        node[leaf] = value
    return out


def profile_params(path: str | Path) -> dict[str, Params]:
    """Each profile's params (``path``'s values with that profile's overrides), validated."""
    raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return {name: build(Params, apply_overrides(raw, overrides, f"profiles.{name}"), f"[profile {name}]")
            for name, overrides in parse(raw).profiles.items()}


def profile_sets(path: str | Path, profiles: Sequence[str]) -> list[str]:
    """The ``-S key=value`` arguments of ``dvc exp run`` that set the named profiles' values, later profiles
    winning (they stack), validated together against ``path`` first; params.yaml itself is not touched.
    Values are written as JSON, which DVC's YAML reading of ``-S`` takes as they are (lists, strings)."""
    raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    overrides: dict[str, Any] = {}
    for name in profiles:
        if name not in (raw.get("profiles") or {}):
            raise ParamsError(f"profiles.{name}: no such profile (have {sorted(raw.get('profiles') or {})})")
        overrides.update(raw["profiles"][name])
    parse(apply_overrides(raw, overrides, f"profiles.{'+'.join(profiles)}"))
    args = []
    for dotted, value in overrides.items():
        args += ["-S", f"{dotted}={json.dumps(value)}"]
    return args


def apply_profile(path: str | Path, profile: str) -> Params:
    """Rewrite ``path`` with the named profile's overrides (comments kept); return the new params.

    Profiles override the values in the file as it is, so they do not undo each other: apply one to the
    committed defaults (``git checkout params.yaml`` restores them). The result is validated before the
    file is written, so a failing profile leaves the file untouched.
    """
    from ruamel.yaml import YAML  # round-trip YAML keeps the file readable after the rewrite

    rt = YAML()
    rt.preserve_quotes = True
    path = Path(path)
    doc = rt.load(path.read_text(encoding="utf-8"))
    profiles = doc.get("profiles", {})
    if profile not in profiles:
        raise ParamsError(f"profiles.{profile}: no such profile (have {sorted(profiles)})")
    overrides = dict(profiles[profile])
    result = parse(apply_overrides(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader), overrides,
                                   f"profiles.{profile}"))
    for dotted, value in overrides.items():
        node = doc
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    with open(path, "w", encoding="utf-8") as fh:
        rt.dump(doc, fh)
    return result


_tabulate_sections()
