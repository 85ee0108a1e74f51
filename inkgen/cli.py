"""The ``inkgen`` command line: parameter profiles and checks, and text -> painting generation."""

from __future__ import annotations

import argparse
import sys

from inkgen import config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inkgen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check-params", help="validate params.yaml and exit")
    check.add_argument("--params", default=None, help="params file (default: nearest params.yaml)")

    profile = sub.add_parser("profile", help="rewrite params.yaml with a profile's values (smoke, paper, ...)")
    profile.add_argument("name")
    profile.add_argument("--params", default=None, help="params file (default: nearest params.yaml)")

    gen = sub.add_parser("generate", help="paint prompts with a trained checkpoint (prior-last.pt)")
    gen.add_argument("prompt", help="the text prompt")
    gen.add_argument("--checkpoint", required=True, help="phase-2 training checkpoint (prior-last.pt)")
    gen.add_argument("--out", required=True, help="output PNG; with --count N > 1: OUT-0.png, OUT-1.png, ...")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--count", type=int, default=1, help="images to generate (default 1)")
    gen.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (0: greedy)")
    gen.add_argument("--top-k", type=int, default=None, help="sample only among the k most likely codes")
    gen.add_argument("--text-encoder", default=None,
                     help="local BERT directory (default: the one the checkpoint was trained with)")
    gen.add_argument("--params-hash", default=None, help="refuse a checkpoint written under other params")
    gen.add_argument("--clip", default=None, help="local CLIP checkpoint for test-time eq. 13 refinement")
    gen.add_argument("--clip-steps", type=int, default=None, help="refinement steps (default 10 with --clip)")
    gen.add_argument("--clip-lr", type=float, default=0.05, help="refinement learning rate")

    args = parser.parse_args(argv)
    if args.command == "generate":
        return _generate(args)
    try:
        path = args.params or config.find_params()
        if args.command == "check-params":
            params = config.load(path)
            print(f"{path}: valid (profiles: {', '.join(params.profiles) or 'none'})")
        elif args.command == "profile":
            config.apply_profile(path, args.name)
            print(f"{path}: profile {args.name!r} applied; `dvc repro` re-runs what it changed")
    except (config.ParamsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from inkgen.generate import GenerateError, Generator

    try:
        steps = args.clip_steps if args.clip_steps is not None else (10 if args.clip else 0)
        if steps < 0:
            raise GenerateError(f"--clip-steps {steps} must be >= 0")
        if steps > 0 and not args.clip:
            raise GenerateError("--clip-steps needs --clip PATH (a local CLIP checkpoint)")
        if args.count < 1:
            raise GenerateError(f"--count {args.count} must be >= 1")
        out = Path(args.out)
        if out.suffix.lower() != ".png":
            raise GenerateError(f"--out {str(out)!r} must end in .png")
        if not out.parent.is_dir():
            raise GenerateError(f"--out {str(out)!r}: directory {str(out.parent)!r} does not exist")
        gen = Generator.from_checkpoint(args.checkpoint, text_encoder_path=args.text_encoder,
                                        params_hash=args.params_hash)
        images = gen.generate([args.prompt], seed=args.seed, count=args.count, temperature=args.temperature,
                              top_k=args.top_k, clip_refine_steps=steps, clip=args.clip, clip_lr=args.clip_lr)
        paths = [out] if len(images) == 1 else [out.with_name(f"{out.stem}-{i}{out.suffix}")
                                                for i in range(len(images))]
        for im, p in zip(images, paths):
            im.save(p)
            print(f"wrote {p} ({im.width}x{im.height})")
    except (ValueError, OSError) as exc:  # GenerateError, checkpoint / encoder / CLIP errors, unwritable files
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
