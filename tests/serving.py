"""`streamlit run` on a free loopback port, the one way the browser tests and the benchmarks
(bench/interaction_latency.py) start the app: the project folder as working directory (its
.streamlit config applies), headless, no file watcher, no usage statistics, the run database in
the caller's data folder, the server's output in a log file there; stopped on exit. And
`find_chromium`, the one way they find the browser to drive it with."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """Path of the system Chromium, or None; HANDPROP_CHROMIUM overrides the search."""
    explicit = os.environ.get("HANDPROP_CHROMIUM")
    if explicit:
        return explicit
    return next((found for name in CHROMIUM_CANDIDATES if (found := shutil.which(name))), None)


def chromium_or_exit() -> str:
    """`find_chromium` for a script (the benchmarks): without one, exit saying what to install."""
    found = find_chromium()
    if found is None or not Path(found).exists():
        sys.exit("Chromium not found: apt-get install chromium, or set HANDPROP_CHROMIUM")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode} (see {log})")
        with contextlib.suppress(OSError), urllib.request.urlopen(
                f"{url}/_stcore/health", timeout=2) as r:
            if r.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"streamlit did not become healthy at {url} within {timeout:.0f}s "
                       f"(see {log})")


@contextlib.contextmanager
def serve(data_dir: Path, script: Path | str = "app.py", env: dict[str, str] | None = None,
          port: int | None = None) -> Iterator[str]:
    """`streamlit run script` (relative to the project folder) with HANDPROP_DB in data_dir and
    `env` on top of this process's environment; yields the base URL."""
    port = port or free_port()
    full_env = {**os.environ, "HANDPROP_DB": str(data_dir / "runs.sqlite3"),
                "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(env or {})}
    log_path = data_dir / f"streamlit-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script),
             "--server.headless", "true", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.fileWatcherType", "none"],
            cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc, log_path)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def websocket_frames(page) -> list[bytes]:
    """A list that fills with every binary frame the Streamlit server sends this Playwright page
    from now on (its ForwardMsgs)."""
    frames: list[bytes] = []

    def listen(ws) -> None:
        if "_stcore/stream" in ws.url:
            ws.on("framereceived",
                  lambda p: frames.append(bytes(p)) if isinstance(p, bytes | bytearray) else None)

    page.on("websocket", listen)
    return frames


def whole_page_runs(frames: list[bytes]) -> int:
    """Script runs of the whole page among these websocket frames (a fragment's run names its
    fragment: in the message's metadata in newer releases, in `new_session` at our floor,
    Streamlit 1.60)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    runs = 0
    for payload in frames:
        msg = ForwardMsg()
        msg.ParseFromString(payload)
        if msg.WhichOneof("type") != "new_session":
            continue
        if "run" in msg.metadata.DESCRIPTOR.fields_by_name:
            fragments = msg.metadata.run.fragment_ids
        else:
            fragments = msg.new_session.fragment_ids_this_run
        runs += not fragments
    return runs
