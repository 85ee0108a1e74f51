"""The ``inkgen`` command line: parameter profiles and checks, and governed text -> painting generation."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

from inkgen import config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inkgen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_check_params, _add_profile, _add_plots_template, _add_generate):
        add(sub)
    args = parser.parse_args(argv)
    if args.command == "generate":
        return _generate(args)
    if args.command == "plots-template":
        from inkgen.offline_plots import write_template  # local: each subcommand loads only what it uses

        print(f"{write_template(args.out)}: offline template for `dvc plots show`")
        return 0
    try:
        path = args.params or config.find_params()
        return _check_params(args, path) if args.command == "check-params" else _profile(args, path)
    except (config.ParamsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _add_check_params(sub) -> None:
    check = sub.add_parser("check-params", help="validate params.yaml and exit")
    check.add_argument("--params", default=None, help="params file (default: nearest params.yaml)")
    check.add_argument("--stamp", default=None,
                       help="on success write this file (always the same bytes): the DVC stage `params` that every "
                            "stage depends on, so a bad value stops `dvc repro` before any output is touched")


def _add_profile(sub) -> None:
    profile = sub.add_parser("profile", help="a profile's values (smoke, paper, ...) as `dvc exp run -S` sets "
                                              "(--sets, --exp-run), or written into params.yaml (default)")
    profile.add_argument("name", nargs="+", help="profile(s); later ones win where they set the same key")
    profile.add_argument("--params", default=None, help="params file (default: nearest params.yaml)")
    how = profile.add_mutually_exclusive_group()
    how.add_argument("--sets", action="store_true",
                     help="print the `-S key=value` arguments of `dvc exp run`; params.yaml is not touched")
    how.add_argument("--exp-run", nargs=argparse.REMAINDER, metavar="DVC_EXP_RUN_ARGS",
                     help="run `dvc exp run -S ... [ARGS]` (e.g. --exp-run --temp -n smoke): an experiment "
                          "with the profile's values, params.yaml untouched in the workspace with --temp")


def _add_plots_template(sub) -> None:
    plots = sub.add_parser("plots-template", help="write the offline page template `dvc plots show` uses "
                                                   "(Vega bundled from vl-convert-python; .dvc/config names it)")
    plots.add_argument("--out", default=".dvc/offline-plots.html", help="default: .dvc/offline-plots.html")


def _add_generate(sub) -> None:
    gen = sub.add_parser("generate", help="paint prompts with a trained checkpoint (prior-last.pt)")
    gen.add_argument("prompt", help="the text prompt")
    gen.add_argument("--checkpoint", default=None,
                     help="phase-2 training checkpoint (prior-last.pt; default: the study's full model)")
    gen.add_argument("--out", required=True, help="output PNG, anywhere (missing folders are created; an existing "
                                                  "file is refused); with --count N > 1: OUT-0.png, OUT-1.png, ...")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--count", type=int, default=1, help="images to generate (default 1)")
    gen.add_argument("--temperature", type=float, default=None,
                     help="sampling temperature (0: greedy; default: params.yaml's generate.temperature, else 1)")
    gen.add_argument("--top-k", type=int, default=None,
                     help="sample only among the k most likely codes (default: generate.top_k, else all)")
    gen.add_argument("--guidance-scale", type=float, default=None,
                     help="classifier-free guidance weight (1: none; default: generate.guidance_scale, else 1); "
                          "needs a prior trained with condition dropout")
    gen.add_argument("--text-encoder", default=None,
                     help="local BERT directory (default: the one the checkpoint was trained with)")
    gen.add_argument("--params-hash", default=None, help="refuse a checkpoint written under other params")
    gen.add_argument("--clip", default=None, help="local CLIP checkpoint for test-time eq. 13 refinement")
    gen.add_argument("--clip-steps", type=int, default=None, help="refinement steps (default 10 with --clip)")
    gen.add_argument("--clip-lr", type=float, default=0.05, help="refinement learning rate")
    gen.add_argument("--threads", type=int, default=1,
                     help="torch intra-op threads (default 1: the models are small, and one image's per-token "
                          "steps run faster on one thread than synchronised across several; see "
                          "benchmarks/bench_generate_cold.py)")
    _add_governance_options(gen)


def _add_governance_options(gen) -> None:
    gov = gen.add_argument_group(
        "governance (paper section 6.2)",
        "The prompt is checked before painting (refused: exit 1, nothing generated; anchored: the rewritten "
        "prompt is painted; religious motif: the image goes to the held folder until a consultant decides); "
        "each image is checked against the rights registry and the training set (a match holds it), written "
        "with its provenance id in the PNG and entered in the ledger. Defaults come from params.yaml's "
        "governance section when run inside the project; run from the project root.")
    gov.add_argument("--ledger", default=None, help="append-only provenance ledger (default: governance.ledger)")
    gov.add_argument("--registry", default=None,
                     help="rights-registry CSV (default: governance.registry; '' for none)")
    gov.add_argument("--training-manifest", default=None,
                     help="training manifest with item_id and phash columns (default: the dataset's manifest.csv; "
                          "'' for none)")
    gov.add_argument("--held-dir", default=None, help="folder for held images (default: governance.held_dir)")


def _check_params(args: argparse.Namespace, path: str | Path) -> int:
    """Validate params.yaml (and every profile, which may override the policy); write the stamp on success."""
    params = config.load(path)
    params.governance.check_policy_against_lexicon()
    for name, profiled in config.profile_params(path).items():  # a profile may override the policy
        profiled.governance.check_policy_against_lexicon(f"[profile {name}] governance")
    if args.stamp:
        stamp = Path(args.stamp)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text("params.yaml passed `inkgen check-params`\n", encoding="utf-8")
    print(f"{Path(path).name if args.stamp else path}: valid (profiles: {', '.join(params.profiles) or 'none'})")
    return 0


def _profile(args: argparse.Namespace, path: str | Path) -> int:
    """The profiles' values as `dvc exp run -S` sets (printed, or run), else written into params.yaml."""
    if args.sets or args.exp_run is not None:
        sets = config.profile_sets(path, args.name)
        if args.sets:
            print(shlex.join(sets))
            return 0
        return subprocess.call(["dvc", "exp", "run", *sets, *args.exp_run])
    for name in args.name:
        config.apply_profile(path, name)
    print(f"{path}: profile(s) {', '.join(args.name)} applied; `dvc repro` re-runs what they changed")
    return 0


def _generate(args: argparse.Namespace) -> int:
    # Imports here, not at the top: `inkgen check-params` stays instant. The generator process is forked first,
    # so that torch and the model load on one core while this one reads the project and checks the prompt
    # (inkgen.forked_generator); open_clip loads only with --clip.
    from inkgen import forked_generator

    painter = forked_generator.start()
    try:
        return _generate_with(args, painter)
    finally:
        painter.close()


def _generate_with(args: argparse.Namespace, painter) -> int:
    # local, as every subcommand's: the other commands never load governance; none of these loads torch
    from governance.ledger import LedgerError
    from inkgen.generate_error import GenerateError
    from inkgen.governed import PromptRefused, governed_generate, release_paths
    from inkgen.prompts import check_prompts

    try:
        steps = args.clip_steps if args.clip_steps is not None else (10 if args.clip else 0)
        if steps < 0:
            raise GenerateError(f"--clip-steps {steps} must be >= 0")
        if steps > 0 and not args.clip:
            raise GenerateError("--clip-steps needs --clip PATH (a local CLIP checkpoint)")
        if args.count < 1:
            raise GenerateError(f"--count {args.count} must be >= 1")
        if args.threads < 1:
            raise GenerateError(f"--threads {args.threads} must be >= 1")
        out = Path(args.out).expanduser()
        if out.suffix.lower() != ".png":
            raise GenerateError(f"--out {str(out)!r} must end in .png")
        taken = [str(p) for p in release_paths(out, args.count) if p.exists()]
        if taken:  # before anything is loaded or painted
            raise GenerateError(f"{', '.join(taken)}: already exists; a generated image is never overwritten "
                                "(choose another --out)")
        check_prompts([args.prompt], GenerateError)  # malformed input is an error (exit 2), not a refusal
        project = _project()  # params.yaml read and checked once (the check loads the policy: ~1 s)
        checkpoint = args.checkpoint or _default_checkpoint(project)
        painter.load(checkpoint, threads=args.threads, text_encoder_path=args.text_encoder,
                     params_hash=args.params_hash)  # loads while the gate below checks the prompt
        gate = _gate(args, project)
        result = governed_generate(painter, args.prompt, out, gate=gate, checkpoint=checkpoint, seed=args.seed,
                                   count=args.count, context={"via": "inkgen generate"}, **_sampling(args, project),
                                   clip_refine_steps=steps, clip=args.clip, clip_lr=args.clip_lr)
        for line in result.messages():
            print(line)
        print(f"ledger {gate.ledger.path}: head {gate.ledger.head[:16]}…")
    except PromptRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        print("nothing was generated; the decision is entered in the ledger", file=sys.stderr)
        return 1
    except (ValueError, OSError, LedgerError) as exc:  # GenerateError, checkpoint / encoder / CLIP / policy / registry
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _project():
    """(params, project root) of the project around the working directory, or None outside one."""
    try:
        params_path = config.find_params()
    except FileNotFoundError:
        return None
    return config.load(params_path), params_path.parent


def _sampling(args, project) -> dict:
    """Temperature, top-k and guidance: the command line's, else the study's (``generate:``, what its images
    were painted with), else plain sampling (outside a project)."""
    g = project[0].generate if project is not None else None
    studied = {"temperature": g.temperature, "top_k": g.top_k or None, "guidance_scale": g.guidance_scale} \
        if g is not None else {"temperature": 1.0, "top_k": None, "guidance_scale": 1.0}
    given = {"temperature": args.temperature, "top_k": args.top_k, "guidance_scale": args.guidance_scale}
    return {k: given[k] if given[k] is not None else studied[k] for k in given}


def _default_checkpoint(project):
    """The study's full model (:func:`inkgen.layout.default_checkpoint`), relative to the project root."""
    # local: only the commands that paint need these
    from inkgen.generate_error import GenerateError
    from inkgen.layout import default_checkpoint

    if project is None:
        raise GenerateError("--checkpoint PATH is needed outside a project (no params.yaml here or above)")
    path = default_checkpoint(*project)
    if not path.is_file():
        raise GenerateError(f"{path}: no trained full model yet; run `dvc repro` (or `dvc pull`), or give "
                            "--checkpoint PATH")
    return path


def _gate(args: argparse.Namespace, project):
    """The governance gate: from params.yaml's governance section inside the project, else from the options."""
    # local: only the commands that paint load governance
    from inkgen.generate_error import GenerateError
    from inkgen.governed import Gate

    if project is not None:
        params, root = project
        return Gate.from_params(params, root, ledger=args.ledger, held_dir=args.held_dir,
                                registry=args.registry, training_manifest=args.training_manifest)
    if not args.ledger:
        raise GenerateError("no params.yaml here or above: give --ledger PATH (created, rooted at the working "
                            "directory, if missing) and --held-dir DIR; every generated image is recorded")
    return Gate.open(args.ledger, held_dir=args.held_dir or Path(args.ledger).parent / "held", root=Path.cwd(),
                     registry=args.registry or None, training_manifest=args.training_manifest or None)


if __name__ == "__main__":
    sys.exit(main())
