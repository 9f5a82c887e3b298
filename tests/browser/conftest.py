"""Fixtures of the browser tests: a sample graph, the real ``medkg serve`` process, and Debian's Chromium.

Playwright (from PyPI) drives the system Chromium (``/usr/bin/chromium``, or ``$MEDKG_CHROMIUM``); it never
downloads browsers of its own. The flags keep Chromium from reaching for the network on its own (updates,
sync, field trials), which a closed network refuses and which would only slow the tests down; each run gets
a fresh profile. ``make test`` installs Chromium when it is missing; without it these tests are skipped with
the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("MEDKG_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium not found (/usr/bin/chromium or $MEDKG_CHROMIUM); 'make test' installs it with "
                    "'apt-get install chromium' when run as root")
    return path


@pytest.fixture(scope="session")
def browser_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample, built for these tests alone (they add and delete documents)."""
    from medkg.pipelines.build import build_graph, sample_paths

    path = tmp_path_factory.mktemp("browser") / "graph"
    build_graph(sample_paths(), path)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(browser_graph: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``medkg serve`` as a user starts it, on a free port; yields its base URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "MEDKG_LLM_MODEL": "smollm2-135m"}
    env.pop("MEDKG_API_TOKEN", None)
    cmd = [sys.executable, "-m", "medkg", "serve", "--graph", str(browser_graph), "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_until_up(base: str, proc: subprocess.Popen, log: Path, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"medkg serve exited with {proc.returncode}: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"medkg serve did not answer in {seconds:.0f} s: {log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def page(chromium: str, server: str, tmp_path: Path) -> Iterator[Any]:
    """A page in a fresh Chromium profile; every request it makes is recorded in ``page.medkg_requests``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900})
        try:
            pg = context.new_page()
            requests: list[str] = []
            errors: list[str] = []
            pg.on("request", lambda r: requests.append(r.url))
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.medkg_requests, pg.medkg_errors = requests, errors
            yield pg
        finally:
            context.close()
