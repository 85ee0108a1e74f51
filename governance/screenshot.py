"""A PNG screenshot of an HTML page in headless Chromium: how the governance stage shows its report in the
executed notebook, and how a reviewer checks that the report fits the page (issue: "fits the page")."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def screenshot(html: Path, png: Path, width: int = 1100, height: int = 1400) -> Path | None:
    """``html`` rendered at ``width`` x ``height`` into ``png``; None when no Chromium is installed or it
    fails (the caller shows no thumbnail then; the report itself is unaffected)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        return None
    png.parent.mkdir(parents=True, exist_ok=True)
    profile = png.parent / ".chromium-profile"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={profile}", f"--window-size={width},{height}", f"--screenshot={png}",
           html.resolve().as_uri()]
    try:
        subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    except (subprocess.SubprocessError, OSError):
        return None
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return png if png.is_file() else None
