"""Starting and stopping the local model server: a background process with pid file, log and launch record."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from . import config

PID_FILE = config.OUTPUT_DIR / "server.pid"
LOG_FILE = config.OUTPUT_DIR / "server.log"
LAUNCH_FILE = config.OUTPUT_DIR / "server.json"


class ServerStartError(RuntimeError):
    pass


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def log_tail(lines: int = 30) -> str:
    if not LOG_FILE.exists():
        return "(no log)"
    return "\n".join(LOG_FILE.read_text(errors="replace").splitlines()[-lines:])


def running_pid() -> int | None:
    """The pid from the pid file when that process is alive and is the one we launched."""
    if not PID_FILE.exists():
        return None
    try:
        pid = int(PID_FILE.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        launched = json.loads(LAUNCH_FILE.read_text())["command"][0] if LAUNCH_FILE.exists() else None
    except (ValueError, OSError, KeyError):
        return None
    if launched and Path(cmdline).name != Path(launched).name:
        return None
    return pid


def llama_command(
    binary: Path,
    model: Path,
    *,
    host: str,
    port: int,
    slots: int,
    threads: int,
    ctx_per_slot: int,
    flash_attn: str,
    ubatch_size: int,
    spec: str,
    draft: Path | None,
    extra: list[str],
) -> list[str]:
    """llama-server's command line. The model is served under config.MODEL_NAME, the name clients ask for."""
    command = [
        str(binary),
        "--model",
        str(model),
        "--alias",
        config.MODEL_NAME,
        "--host",
        host,
        "--port",
        str(port),
        "--parallel",
        str(slots),
        "--ctx-size",
        str(slots * ctx_per_slot),
        "--threads",
        str(threads),
        "--flash-attn",
        flash_attn,
        "--ubatch-size",
        str(ubatch_size),
        "--cont-batching",
        "--no-webui",
        "--metrics",
    ]
    if spec == "draft":
        # this llama.cpp ignores -md unless the spec type is named
        command += ["--spec-type", "draft-simple", "--model-draft", str(draft), "--threads-draft", str(threads)]
    elif spec != "none":
        command += ["--spec-type", spec]
    return command + extra


def build_info(binary: Path) -> dict:
    path = binary.parent / "build-info.json"
    return json.loads(path.read_text()) if path.exists() else {}


def wait_ready(base_url: str, process: subprocess.Popen, timeout: float, health_path: str = "/health") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise ServerStartError(
                f"server exited with code {process.returncode} while starting. Log tail ({LOG_FILE}):\n{log_tail()}"
            )
        try:
            if requests.get(base_url + health_path, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    process.kill()
    raise ServerStartError(f"server not ready after {timeout:.0f}s; killed it. Log tail ({LOG_FILE}):\n{log_tail()}")


def launch(
    command: list[str],
    *,
    host: str,
    port: int,
    launch_facts: dict,
    ready_timeout: float,
    env: dict | None = None,
    health_path: str = "/health",
) -> dict:
    """Start command in the background, wait until it serves, record how it was launched."""
    base_url = f"http://{host}:{port}"
    pid = running_pid()
    if pid:
        print(f"server already running (pid {pid}) at {base_url}; `make stop` stops it")
        return json.loads(LAUNCH_FILE.read_text())
    if port_in_use(host, port):
        raise ServerStartError(
            f"port {port} on {host} is already in use by another program; choose another with PORT=..."
        )
    config.OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    start = time.time()
    with open(LOG_FILE, "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env
        )
    PID_FILE.write_text(f"{process.pid}\n")
    record = {"command": command, "pid": process.pid, "base_url": base_url, **launch_facts}
    LAUNCH_FILE.write_text(json.dumps(record, indent=2) + "\n")
    try:
        wait_ready(base_url, process, ready_timeout, health_path)
    except ServerStartError:
        PID_FILE.unlink(missing_ok=True)
        raise
    record["startup_seconds"] = round(time.time() - start, 1)
    LAUNCH_FILE.write_text(json.dumps(record, indent=2) + "\n")
    print(f"server ready at {base_url} (pid {process.pid}, {record['startup_seconds']}s); log: {LOG_FILE}")
    return record


def stop(timeout: float = 30.0) -> bool:
    pid = running_pid()
    if pid is None:
        PID_FILE.unlink(missing_ok=True)
        return False
    os.killpg(pid, signal.SIGTERM)  # the server runs in its own session: its whole group goes
    deadline = time.time() + timeout
    while time.time() < deadline and Path(f"/proc/{pid}").exists():
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
        except ChildProcessError:
            pass
        status = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
        if status == "Z":
            break
        time.sleep(0.2)
    else:
        if Path(f"/proc/{pid}").exists():
            os.killpg(pid, signal.SIGKILL)
    PID_FILE.unlink(missing_ok=True)
    return True


def fail(error: Exception) -> int:
    print(f"error: {error}", file=sys.stderr)
    return 1
