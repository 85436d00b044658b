"""Starting and stopping the local model server: a background process with pid file, log and launch
record, all three in the run's output folder (server.pid, server.log, server.json)."""

import json
import os
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from . import config
from .llama_build import build
from .model_fetch import resolve
from .settings import Settings


def pid_file(folder: Path) -> Path:
    return folder / "server.pid"


def log_file(folder: Path) -> Path:
    return folder / "server.log"


def launch_file(folder: Path) -> Path:
    return folder / "server.json"


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


def log_tail(folder: Path, lines: int = 30) -> str:
    log = log_file(folder)
    if not log.exists():
        return "(no log)"
    return f"Log tail ({log}):\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def running_pid(folder: Path) -> int | None:
    """The pid from folder's pid file when that process is alive and is the one we launched."""
    if not pid_file(folder).exists():
        return None
    try:
        pid = int(pid_file(folder).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        launch = launch_file(folder)
        launched = json.loads(launch.read_text())["command"][0] if launch.exists() else None
    except (ValueError, OSError, KeyError):
        return None
    if launched and Path(cmdline).name != Path(launched).name:
        return None
    return pid


def llama_command(
    binary: Path,
    model: Path,
    *,
    alias: str,
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
    """llama-server's command line. The model is served under alias, the name clients ask for."""
    command = [
        str(binary),
        "--model",
        str(model),
        "--alias",
        alias,
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
        command += [
            "--spec-type",
            "draft-simple",
            "--model-draft",
            str(draft),
            "--threads-draft",
            str(threads),
        ]
    elif spec != "none":
        command += ["--spec-type", spec]
    return command + extra


def build_info(binary: Path) -> dict:
    path = binary.parent / "build-info.json"
    return json.loads(path.read_text()) if path.exists() else {}


def wait_ready(
    base_url: str,
    process: subprocess.Popen,
    timeout: float,
    folder: Path,
    health_path: str = "/health",
) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise ServerStartError(
                f"server exited with code {process.returncode} while starting. {log_tail(folder)}"
            )
        try:
            if requests.get(base_url + health_path, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    process.kill()
    raise ServerStartError(f"server not ready after {timeout:.0f}s; killed it. {log_tail(folder)}")


def launch(
    command: list[str],
    folder: Path,
    *,
    host: str,
    port: int,
    launch_facts: dict,
    ready_timeout: float,
    env: dict | None = None,
    health_path: str = "/health",
) -> dict:
    """Start command in the background, wait until it serves, record how it was launched (files in
    folder)."""
    base_url = f"http://{host}:{port}"
    pid = running_pid(folder)
    if pid:
        print(f"server already running (pid {pid}) at {base_url}; `make stop` stops it")
        return json.loads(launch_file(folder).read_text())
    if port_in_use(host, port):
        raise ServerStartError(
            f"port {port} on {host} is already in use by another program; choose another with "
            "PORT=..."
        )
    folder.mkdir(parents=True, exist_ok=True)
    start = time.time()
    with open(log_file(folder), "ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    pid_file(folder).write_text(f"{process.pid}\n")
    record = {"command": command, "pid": process.pid, "base_url": base_url, **launch_facts}
    launch_file(folder).write_text(json.dumps(record, indent=2) + "\n")
    try:
        wait_ready(base_url, process, ready_timeout, folder, health_path)
    except ServerStartError:
        pid_file(folder).unlink(missing_ok=True)
        raise
    record["startup_seconds"] = round(time.time() - start, 1)
    launch_file(folder).write_text(json.dumps(record, indent=2) + "\n")
    print(
        f"server ready at {base_url} (pid {process.pid}, {record['startup_seconds']}s); log: "
        f"{log_file(folder)}"
    )
    return record


def stop(folder: Path, timeout: float = 30.0) -> bool:
    """Stop the server whose pid file is in folder (its whole process group); False when none
    runs."""
    pid = running_pid(folder)
    if pid is None:
        pid_file(folder).unlink(missing_ok=True)
        return False
    os.killpg(pid, signal.SIGTERM)  # the server runs in its own session: its whole group goes
    deadline = time.time() + timeout
    while time.time() < deadline and Path(f"/proc/{pid}").exists():
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
        except ChildProcessError:
            pass
        status = (
            Path(f"/proc/{pid}/stat").read_text().split()[2]
            if Path(f"/proc/{pid}/stat").exists()
            else "X"
        )
        if status == "Z":
            break
        time.sleep(0.2)
    else:
        if Path(f"/proc/{pid}").exists():
            os.killpg(pid, signal.SIGKILL)
    pid_file(folder).unlink(missing_ok=True)
    return True


@dataclass(frozen=True)
class ServeOptions:
    """How llama-server runs (`make serve` passes each as a variable; bench's levers change
    them)."""

    host: str = config.HOST
    port: int = config.PORT
    slots: int = config.SLOTS  # parallel sequences, batched together
    threads: int = 0  # 0: every core
    ctx_per_slot: int = config.CTX_PER_SLOT
    flash_attn: str = config.FLASH_ATTN
    ubatch_size: int = config.UBATCH_SIZE
    # speculative decoding: none, draft (config.DRAFT_MODEL drafts), ngram-*
    spec: str = config.SPEC
    llama_args: str = ""  # more llama-server arguments, as one string
    ready_timeout: float = config.READY_TIMEOUT


def start_llama(settings: Settings, options: ServeOptions) -> dict:
    """`make serve`: llama-server with the settings' verified model, in the background, its files in
    settings.output_dir; returns the launch record once it answers (or the running one's)."""
    model, sha256 = resolve(settings)
    draft = resolve(settings, config.DRAFT_MODEL)[0] if options.spec == "draft" else None
    threads = options.threads or config.cores()
    binary = build(settings.cache_dir, jobs=config.cores())
    command = llama_command(
        binary,
        model,
        alias=settings.model,
        host=options.host,
        port=options.port,
        slots=options.slots,
        threads=threads,
        ctx_per_slot=options.ctx_per_slot,
        flash_attn=options.flash_attn,
        ubatch_size=options.ubatch_size,
        spec=options.spec,
        draft=draft,
        extra=shlex.split(options.llama_args),
    )
    facts = {
        "backend": "llama.cpp",
        "model": settings.model,
        "model_file": str(model),
        "model_sha256": sha256,
        **{k: v for k, v in vars(options).items() if k not in ("host", "port", "ready_timeout")},
        "threads": threads,
        "draft_file": str(draft) if draft else None,
        "build": build_info(binary),
    }
    return launch(
        command,
        settings.output_dir,
        host=options.host,
        port=options.port,
        launch_facts=facts,
        ready_timeout=options.ready_timeout,
    )
