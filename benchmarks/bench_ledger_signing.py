"""What signing costs: ledger appends and verification with Ed25519, and C2PA credentials on images.

    python benchmarks/bench_ledger_signing.py [--entries 2000] [--images 20]

Baselines measured in the same process: an append is compared with computing its hash alone (the
unsigned format-1 work) and verification with re-hashing the chain alone; a C2PA-signed PNG with saving the
PNG alone. Prints the ratios; keys and the development chain go to a temporary governance home.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=2000)
    ap.add_argument("--images", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    os.environ["INKGEN_GOVERNANCE_HOME"] = str(tmp / "home")
    from PIL import Image

    from governance.credentials import sign_png, signing_chain
    from governance.digest import sha256_json
    from governance.ledger import Ledger, check_chain_file

    payloads = [{"path": f"data/x/{i}.png", "sha256": f"{i:064x}", "size": i} for i in range(args.entries)]
    t = time.perf_counter()
    for p in payloads:
        sha256_json({"seq": 0, "time": "t", "kind": "artifact", "payload": p, "prev": "0" * 64})
    hash_only = time.perf_counter() - t
    ledger = Ledger(tmp / "ledger.jsonl", root=tmp)
    t = time.perf_counter()
    for p in payloads:
        ledger.append("artifact", p)
    signed = time.perf_counter() - t
    from governance.signing import sign
    t = time.perf_counter()
    for p in payloads:
        sign(ledger.key, "bench", p["sha256"])
    sign_only = time.perf_counter() - t
    print(f"append: {signed / args.entries * 1e3:.3f} ms per signed entry (fsync included); of which the Ed25519 "
          f"signature {sign_only / args.entries * 1e3:.3f} ms and the hash {hash_only / args.entries * 1e3:.3f} ms "
          f"(signature / whole append: {sign_only / signed:.1%})")
    t = time.perf_counter()
    entries, problems = check_chain_file(ledger.path)
    check = time.perf_counter() - t
    t = time.perf_counter()
    for e in entries:
        e.computed_hash()
    rehash = time.perf_counter() - t
    assert not problems
    print(f"chain check of {len(entries)} entries with signatures: {check:.3f} s; re-hashing alone {rehash:.3f} s: "
          f"ratio {check / rehash:.1f}x")
    chain = signing_chain()
    img = Image.new("RGB", (64, 64), (120, 110, 90))
    t = time.perf_counter()
    for i in range(args.images):
        img.save(tmp / f"plain{i}.png")
    plain = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(args.images):
        img.save(tmp / f"c{i}.png")
        sign_png(tmp / f"c{i}.png", {"provenance_id": f"gen-{i}"}, chain)
    c2pa = time.perf_counter() - t
    size = (tmp / "c0.png").stat().st_size - (tmp / "plain0.png").stat().st_size
    print(f"C2PA-signed 64 px PNG: {c2pa / args.images * 1e3:.1f} ms per image, plain save "
          f"{plain / args.images * 1e3:.2f} ms: ratio {c2pa / plain:.0f}x; the credential adds {size} bytes")


if __name__ == "__main__":
    main()
