"""Start JupyterLab on 127.0.0.1 for browser tests, with a private settings dir (no news toast)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# The news/update toast covers the bottom right of screenshots; switched off per test server.
_QUIET_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    }
}


def write_code_notebook(path: Path, *sources: str) -> None:
    """A notebook of code cells on the default Python 3 kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    nbformat.write(nb, path)


def lab_folders(base: Path) -> tuple[Path, Path]:
    """(server root, scratch) under `base`; skips the test with the install line when Chromium is missing."""
    import pytest

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    root = base / "root"
    root.mkdir()
    return root, base


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    root: Path

    def page(self, path: str) -> str:
        return f"{self.url}{path}?token={self.token}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_settings(folder: Path) -> None:
    for name, value in _QUIET_SETTINGS.items():
        plugin, file = name.split("/", 1)[0], name.split("/", 1)[1]
        target = folder / plugin / file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))


def _wait_up(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {timeout:.0f} s")


@contextmanager
def jupyter_lab(root: Path, env: Mapping[str, str], log: Path) -> Iterator[Server]:
    """Run `jupyter lab` serving `root`; the kernel inherits `env` on top of ours."""
    port, token = free_port(), "tbwidgets-browser-test"
    settings = root.parent / "lab-user-settings"
    _write_settings(settings)
    full_env = {
        **os.environ,
        **env,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(root.parent / "lab-workspaces"),
    }
    cmd = [
        sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_up(f"{url}/api/status?token={token}")
            yield Server(url, token, root)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


@dataclass
class PageWatch:
    """What a page did that a test must fail on: script errors, and requests off the test server."""

    crashes: list[str]
    outside: list[str]


def open_and_run_first_cell(page: Any, server: Server, notebook: str) -> PageWatch:
    """Open `notebook` in JupyterLab, start watching the page, run its first cell once the kernel is idle."""
    watch = PageWatch([], [])
    page.on("pageerror", lambda exc: watch.crashes.append(str(exc)))
    page.on(
        "request",
        lambda r: None if r.url.startswith((server.url, "data:", "blob:")) else watch.outside.append(r.url),
    )
    page.goto(server.page(f"/lab/workspaces/{Path(notebook).stem}/tree/{notebook}"))
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=90_000)
    # on a busy machine the kernel can take a while: Shift+Enter before it is idle is lost
    page.wait_for_selector("text=/\\| Idle/", timeout=120_000)
    page.locator(".jp-Cell .cm-content").first.click()
    page.keyboard.press("Shift+Enter")
    return watch
