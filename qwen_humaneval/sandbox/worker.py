"""A sandbox worker: one JSON job per stdin line in, one JSON verdict per stdout line out.

    evaluator --stdin/stdout--> worker (trusted; own mount, network, IPC, UTS namespaces;
                                       see jail.py)
        zygote: forked before the worker reads any job, so it never holds a test; forks each
                candidate, PID 1 of fresh PID, mount, IPC, UTS, cgroup namespaces, jailed in the
                minimal root (rootfs.py), a uid of its own, seccomp (seccomp.py)
        judge:  forked once (again after a timeout); for each job it receives the pipes to a fresh
                candidate, runs the tests with the candidate behind a proxy (judge.py) and sends the
                verdict back on a socket only the worker holds
    The worker enforces the wall-clock deadline from outside both, and SIGKILLs the candidate, PID 1
    of its namespace, which makes the kernel kill every process left in it.

The candidate's only link to anything is the pair of pipes to its judge: it never holds the tests,
the expected outputs or the verdict pipe, and it cannot see or signal the judge, the worker or the
evaluator. Stdlib only; started as `python -I -m qwen_humaneval.sandbox.worker`.
"""

import argparse
import gc
import json
import os
import resource
import select
import signal
import socket
import sys
import time

from . import jail, judge, wire
from .zygote import Zygote, fork_child, keep_only

# Imported once in the worker so that each forked candidate finds them ready.
PRELOADED_MODULES = (
    "math",
    "re",
    "collections",
    "itertools",
    "functools",
    "heapq",
    "bisect",
    "string",
    "typing",
    "hashlib",
    "random",
    "statistics",
    "fractions",
    "decimal",
    "copy",
    "operator",
    "datetime",
    "json",
)


def _judge_loop(sock: socket.socket, settings: dict) -> None:
    """The judge process: for each job, its fds to a fresh candidate arrive with it; the verdict
    goes back on the same socket, which no candidate can reach."""
    [sock_fd] = keep_only([sock.fileno()], stderr=True)
    sock = socket.socket(fileno=sock_fd)
    jail.limit(resource.RLIMIT_AS, settings["memory_bytes"])
    if settings["layers"].get("drop_privileges"):
        jail.drop_privileges(as_root=settings["layers"]["root"])
    while True:
        try:
            header, fds, _, _ = socket.recv_fds(sock, wire.SOCKET_LENGTH.size, 3)
            if len(header) < wire.SOCKET_LENGTH.size:
                header += wire.receive_from_socket(sock, wire.SOCKET_LENGTH.size - len(header))
            job = json.loads(wire.receive_from_socket(sock, wire.SOCKET_LENGTH.unpack(header)[0]))
        except (EOFError, ConnectionError):
            return
        requests_w, answers_r, *data = fds
        if data:
            job["data_fd"] = data[0]
        try:
            verdict = judge.judge(job, judge.Candidate(requests_w, answers_r))
        finally:
            os.close(requests_w)
            os.close(answers_r)
            if "data_fd" in job:
                os.close(job["data_fd"])
        wire.send_on_socket(sock, json.dumps(verdict).encode())


class Judge:
    """The worker's handle on its judge process, restarted after a timeout."""

    def __init__(self, settings: dict):
        self.settings = settings
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.pid = fork_child(_judge_loop, theirs, settings)
        theirs.close()

    def send(self, job: dict, requests_w: int, answers_r: int) -> None:
        """The job, the judge's ends of the candidate's pipes and, for HumanEval+, the expected
        outputs' file, opened here: the judge runs as nobody and could not open the evaluator's
        cache itself."""
        fds = [requests_w, answers_r]
        if "expected_file" in job:
            fds.append(os.open(job["expected_file"], os.O_RDONLY | os.O_CLOEXEC))
        try:
            wire.send_on_socket(self.sock, json.dumps(job).encode(), fds)
        finally:
            if len(fds) == 3:
                os.close(fds[2])

    def verdict(self, deadline: float) -> dict | None:
        """The verdict, or None when the deadline passed first or the evaluator went away (it sends
        nothing while a job runs: anything on stdin now is its end, and the candidate must not run
        on to the deadline for nobody)."""
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        poller.register(sys.stdin.fileno(), select.POLLIN)
        data = bytearray()
        while (
            len(data) < wire.SOCKET_LENGTH.size
            or len(data)
            < wire.SOCKET_LENGTH.size
            + wire.SOCKET_LENGTH.unpack(data[: wire.SOCKET_LENGTH.size])[0]
        ):
            remaining = deadline - time.monotonic()
            events = poller.poll(remaining * 1000) if remaining > 0 else []
            if not events or any(fd != self.sock.fileno() for fd, _ in events):
                return None
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise OSError("the judge died without a verdict")
            data += chunk
        return json.loads(data[wire.SOCKET_LENGTH.size :])

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.sock.close()


def describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        try:
            name = signal.Signals(os.WTERMSIG(status)).name
        except ValueError:
            name = str(os.WTERMSIG(status))
        return f"failed: killed by signal {name}"
    return f"failed: exited with code {os.WEXITSTATUS(status)} before the tests finished"


def run_job(
    job: dict, timeout: float, candidate: tuple[int, int, int], zygote: Zygote, judge_process: Judge
) -> tuple[dict, bool]:
    """One job on a fresh candidate (from zygote.spawn), judged from outside; the deadline is
    enforced here. Returns ({'result', 'duration', ...}, whether the judge must be replaced)."""
    start = time.monotonic()
    candidate_pidfd, requests_w, answers_r = candidate
    try:
        judge_process.send(job, requests_w, answers_r)
        verdict = judge_process.verdict(start + timeout)
    finally:
        os.close(requests_w)
        os.close(answers_r)
        try:
            # PID 1: the kernel kills all its namespace
            signal.pidfd_send_signal(candidate_pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it has exited already (and with it its namespace)
        os.close(candidate_pidfd)
        status = zygote.exit_status()
    duration = round(time.monotonic() - start, 4)
    if verdict is None:
        return {"result": "timed out", "duration": duration}, True
    if verdict.pop("died", False):
        verdict["result"] = describe_exit(status)
    return {**verdict, "duration": duration}, False


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--root", required=True, help="where the minimal root is built (a fresh empty directory)"
    )
    ap.add_argument(
        "--scratch", required=True, help="working directory of candidates when unsandboxed"
    )
    ap.add_argument("--scratch-bytes", type=int, required=True)
    ap.add_argument("--memory-bytes", type=int, required=True)
    ap.add_argument("--index", type=int, default=0, help="which range of uids its candidates get")
    ap.add_argument(
        "--uid-base",
        type=int,
        required=True,
        help="the first uid of the candidates' range (as root)",
    )
    ap.add_argument(
        "--package-dir",
        action="append",
        default=[],
        help="a package candidates may import (repeatable)",
    )
    ap.add_argument(
        "--hide", action="append", default=[], help="a path never to show in the jail (repeatable)"
    )
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    # read before the environment is cleared
    unsandboxed_allowed = bool(os.environ.get("QHE_ALLOW_UNSANDBOXED"))
    # QHE_SANDBOX_USERNS=1: the user-namespace mode of a non-root evaluator, also when run as root
    # (for tests)
    layers = jail.isolate_worker(
        args.root,
        as_root=os.geteuid() == 0 and not os.environ.get("QHE_SANDBOX_USERNS"),
        packages=args.package_dir,
        hide=args.hide,
    )
    for name in PRELOADED_MODULES:
        __import__(name)
    os.environ.clear()
    os.environ["PATH"] = "/usr/bin:/bin"
    # the garbage collector in each child leaves the inherited objects (and their pages) alone
    gc.freeze()
    out = sys.stdout
    out.write(json.dumps({"layers": layers}) + "\n")
    out.flush()
    if "error" in layers and not unsandboxed_allowed:
        return
    settings = {
        "layers": layers,
        "root": args.root,
        "scratch": args.scratch,
        "scratch_bytes": args.scratch_bytes,
        "memory_bytes": args.memory_bytes,
        "index": args.index,
        "uid_base": args.uid_base,
    }
    zygote = Zygote(settings)  # before the first job is read: no candidate ever inherits a test
    judge_process = Judge(settings)
    candidate = zygote.spawn()  # made ready while the evaluator sends the next job
    for line in sys.stdin:
        request = json.loads(line)
        try:
            verdict, replace_judge = run_job(
                request["job"], request["timeout"], candidate, zygote, judge_process
            )
        except OSError as e:
            verdict, replace_judge = (
                {"result": f"failed: sandbox error: {e}", "duration": 0.0, "infrastructure": True},
                True,
            )
        out.write(json.dumps(verdict) + "\n")
        out.flush()
        if replace_judge:
            judge_process.kill()
            judge_process = Judge(settings)
        candidate = zygote.spawn()
    # the evaluator is done: the spare candidate goes
    signal.pidfd_send_signal(candidate[0], signal.SIGKILL)
    zygote.exit_status()


if __name__ == "__main__":
    main()
