"""A local Prefect server in a subprocess, for `python -m flows serve` when no server is configured
(PREFECT_API_URL unset), and for the tests that deploy against a real server.

`prefect server start` runs its API and UI on the loopback interface; `start_local_server` waits
until `/api/health` answers and returns a handle whose `stop()` terminates it (and its children).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def prefect_executable() -> str:
    candidate = Path(sys.executable).with_name("prefect")
    return str(candidate) if candidate.exists() else "prefect"


@dataclass
class LocalServer:
    process: subprocess.Popen
    api_url: str
    log_path: Path | None = None
    _log: IO[bytes] | None = None

    def stop(self, timeout: float = 20.0) -> None:
        """Terminate the server and everything it started (it runs in its own process group)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()

    def wait_until_healthy(self, timeout: float = 120.0) -> None:
        """Return once /api/health answers; stop the server and raise RuntimeError if it does not in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                hint = f" (log: {self.log_path})" if self.log_path else ""
                raise RuntimeError(
                    f"prefect server exited with code {self.process.returncode} before it was healthy{hint}"
                )
            if is_healthy(self.api_url):
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"prefect server on {self.api_url} was not healthy after {timeout:.0f} s")


def start_local_server(
    port: int | None = None,
    host: str = "127.0.0.1",
    prefect_home: Path | None = None,
    log_path: Path | None = None,
    timeout: float = 120.0,
    ui: bool = True,
    wait: bool = True,
) -> LocalServer:
    """Start `prefect server start` on `host:port` and wait until it is healthy (or raise RuntimeError).
    With wait=False it returns at once: call `wait_until_healthy` before using it."""
    port = port or free_port(host)
    api_url = f"http://{host}:{port}/api"
    if is_healthy(api_url):
        raise RuntimeError(f"something already answers on {api_url}: set PREFECT_API_URL={api_url} to use it")
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    if prefect_home is not None:
        env["PREFECT_HOME"] = str(prefect_home)
    log = log_path.open("ab") if log_path else None
    process = subprocess.Popen(
        [prefect_executable(), "server", "start", "--host", host, "--port", str(port), "--ui" if ui else "--no-ui"],
        env=env,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = LocalServer(process, api_url, log_path, log)
    if wait:
        server.wait_until_healthy(timeout)
    return server
