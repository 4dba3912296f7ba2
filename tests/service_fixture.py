"""A real service on loopback over a store holding the samples (one per test session)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(*args: str, store: Path, env: dict | None = None, timeout: int = 600,
            check: bool = True) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([sys.executable, "-m", "service.cli", "--store", str(store), *args],
                            cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"dqa {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result


def ingested_store(tmp_path_factory, fixture: str) -> Path:
    """A store with tests/fixtures/<fixture> ingested through the CLI (a module's directives)."""
    store = tmp_path_factory.mktemp(fixture) / "store"
    run_cli("ingest", str(REPO / "tests" / "fixtures" / fixture), store=store)
    return store


def cli_json(store: Path, *args: str) -> dict:
    """`dqa <args> --json` on a store, parsed."""
    return json.loads(run_cli(*args, "--json", store=store).stdout)


class Service:
    def __init__(self, store: Path, env: dict | None = None):
        self.store = store
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(store.parent / f"service-{self.port}.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "--store", str(store), "serve",
             "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO, env={**os.environ, **(env or {})}, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited early; see {self.log.name}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("service did not become ready in 120 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
