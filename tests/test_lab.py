"""JupyterLab, for reading and teaching from the executed notebooks (`make lab`): the server starts on loopback
and serves /lab, and the `inkgen` kernel spec that `make setup` registers inside .venv imports inkgen."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (loopback only)
        return resp.status, resp.read().decode("utf-8", "replace")


def test_jupyterlab_serves_lab_on_loopback(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    proc = subprocess.Popen([str(BIN / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                             f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
                             *(["--allow-root"] if os.geteuid() == 0 else [])],  # CI runs as root
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline, status, page = time.monotonic() + 120, None, ""
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            try:
                status, page = _get(f"{base}/lab?token={token}")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, "JupyterLab did not answer on loopback within 120 s"
        assert "JupyterLab" in page
        _, specs = _get(f"{base}/api/kernelspecs?token={token}")
        names = set(json.loads(specs)["kernelspecs"])
        if "inkgen" not in names:
            pytest.skip("the `inkgen` kernel spec is registered by `make setup` (python -m ipykernel install "
                        f"--sys-prefix --name inkgen); this environment has {sorted(names)}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_inkgen_kernel_imports_inkgen():
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from jupyter_client.manager import start_new_kernel

    try:
        KernelSpecManager().get_kernel_spec("inkgen")
    except NoSuchKernel:
        pytest.skip("the `inkgen` kernel spec is registered by `make setup`")
    km, kc = start_new_kernel(kernel_name="inkgen", cwd=str(ROOT), env={**os.environ})
    try:
        seen = []
        reply = kc.execute_interactive("import inkgen, governance; print(inkgen.__version__)", timeout=120,
                                       output_hook=lambda msg: seen.append(msg))
        assert reply["content"]["status"] == "ok", reply["content"]
        assert any(m["msg_type"] == "stream" and inkgen_version() in m["content"]["text"] for m in seen)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def inkgen_version() -> str:
    import inkgen

    return inkgen.__version__
