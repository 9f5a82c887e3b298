"""A real multi-process Ray cluster on 127.0.0.1 for the ray engine's tests: a head and a worker node.

Each node is a ``ray start --block`` process (its own GCS/raylet processes
below it) in a process group of its own, with one CPU, so that two extraction
workers land one on each node. The temporary directory is short (Ray's Unix
sockets live there and their paths are limited to 107 bytes). ``stop`` ends
both groups; nothing else on the machine is touched (``ray stop`` would stop
every Ray process of the user).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_TOKEN = secrets.token_hex(32)


def env() -> dict[str, str]:
    """The environment of every Ray process and of the builds that join the cluster: no usage statistics, and
    Ray's token authentication with a token of this test session (nothing read from or written to ~/.ray)."""
    return {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": _TOKEN}


@dataclass
class RayCluster:
    nodes: int = 2
    port: int = 0
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ray", dir="/tmp")))
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> RayCluster:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.port = _free_port()
        common = ["--block", "--num-cpus=1", "--node-ip-address=127.0.0.1", "--object-store-memory=100000000"]
        self._spawn([str(RAY), "start", "--head", f"--port={self.port}", "--include-dashboard=false",
                     "--disable-usage-stats", f"--temp-dir={self.tmp}", *common], "head")
        self._wait_for_nodes(1)
        for i in range(1, self.nodes):
            self._spawn([str(RAY), "start", f"--address={self.address}", *common], f"worker{i}")
        self._wait_for_nodes(self.nodes)

    def _spawn(self, cmd: list[str], name: str) -> None:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115  # kept open for the process's life
        self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env(),
                                           start_new_session=True))

    def alive_nodes(self) -> int:
        out = subprocess.run([str(RAY), "status", f"--address={self.address}"], capture_output=True, text=True,
                             env=env(), timeout=60)
        active = out.stdout.split("Active:", 1)[-1].split("Pending:", 1)[0]
        return len(re.findall(r"\bnode_[0-9a-f]+", active))

    def _wait_for_nodes(self, n: int, seconds: float = 120.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"a Ray node exited: {self.logs()}")
            try:
                if self.alive_nodes() >= n:
                    return
            except subprocess.TimeoutExpired:
                pass
            time.sleep(1)
        raise RuntimeError(f"the Ray cluster did not reach {n} nodes in {seconds:.0f} s: {self.logs()}")

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted(self.tmp.glob("*.log")))

    def stop(self) -> None:
        for p in reversed(self.procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for p in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)  # whatever of the group is left (raylet, workers)
        shutil.rmtree(self.tmp, ignore_errors=True)
