"""How much of a painting's category survives each step from picture to generation, judged by the study's
curation classifier (paper eq. 1): the test originals, the VQGANs' reconstructions of them, and the full
model's generations from their captions.

    python benchmarks/recognition_ceiling.py [--root .] [--seed 2026] [--variants full vqgan]

Run in a workspace where the default study ran (``dvc repro`` or ``dvc pull``): it reads the test split
(``paths.dataset``), the classifier (``models/classifier.pt``) and each variant's trained models under the
current ``params.yaml`` (the guarded loaders refuse models trained under other params).

Printed per row: the share of the N test items (all of them; N printed) whose image the classifier labels
as the item's primary category and painting type. A reconstruction is what phase 1 can give back of a
picture it has seen encoded; phase 2 paints from the same codes, so unless the prior paints "typical"
pictures, the reconstructions' row is roughly the ceiling of the generations' row. Generations use the
study's ``generate`` settings, one sample per caption.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from inkgen.heldout import judge  # noqa: E402
from inkgen.models.classifier import load_classifier  # noqa: E402
from inkgen.trained import load_generator  # noqa: E402
from inkgen.training.features import encode_captions  # noqa: E402
from inkgen.training.runs import load_vqgan, text_encoder  # noqa: E402
from study_workspace import add_workspace_arguments, every_test_item, open_workspace  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_workspace_arguments(ap)
    ap.add_argument("--variants", nargs="+", default=["full", "vqgan"])
    args = ap.parse_args()
    root, params, seed = open_workspace(args)
    layout, test, items = every_test_item(params, root)  # every test item, the study's stratified order
    originals = test.as_float_tensor()[torch.as_tensor(items["index"].to_numpy(copy=True))]
    classifier = load_classifier(layout.classifier)
    encoder = text_encoder(params, root).eval()
    pooled = encode_captions(encoder, list(items["caption"])).pooled

    def row(what: str, images: torch.Tensor) -> None:
        j = judge(classifier, images, items)
        print(f"{what:<44} primary {j['primary_ok'].mean():.3f}   type {j['type_ok'].mean():.3f}")

    print(f"test items N = {len(items)}, training seed {seed}, classifier {layout.classifier.relative_to(root)}")
    row("originals", originals)
    for variant in args.variants:
        vqgan = load_vqgan(params, root, variant, seed).eval()
        with torch.no_grad():
            recon = vqgan(originals, pooled if vqgan.config.text_style_norm else None).recon.clamp(-1, 1)
        psnr = float((10 * torch.log10(4 / ((recon - originals) ** 2).mean(dim=(1, 2, 3)))).mean())
        row(f"{variant}: VQGAN reconstructions ({psnr:.2f} dB)", recon)
        g = params.generate
        generated = load_generator(params, root, variant, seed).generate_tensors(
            list(items["caption"]), seed=g.seed, temperature=g.temperature, top_k=g.top_k or None,
            guidance_scale=g.guidance_scale)
        row(f"{variant}: generations from the captions", generated)


if __name__ == "__main__":
    main()
