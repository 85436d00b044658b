"""A sandbox worker: one JSON job per stdin line in, one JSON verdict per stdout line out.

    evaluator --stdin/stdout--> worker (trusted; own mount, network, IPC, UTS namespaces; see jail.py)
        zygote: forked before the worker reads any job, so it never holds a test; forks each
                candidate, PID 1 of fresh PID, mount, IPC, UTS, cgroup namespaces, jailed in the minimal
                root (rootfs.py), a uid of its own, seccomp (seccomp.py)
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
import itertools
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time
import traceback

from . import candidate, jail, judge, kernel, seccomp, wire

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
# Candidates' uids (as root): uid_base + a range of UIDS_PER_WORKER for each of WORKER_SLOTS workers.
UIDS_PER_WORKER, WORKER_SLOTS = 1 << 16, 1 << 15
_STATUS = struct.Struct("!i")


def _fork(body, *args) -> int:
    """Fork a child that runs body(*args) and exits; it never returns into the caller's code. An
    unexpected error is printed to the worker's stderr (candidates point theirs at /dev/null first)."""
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        kernel.prctl(kernel.PR_SET_PDEATHSIG, signal.SIGKILL)
        body(*args)
    except BaseException:
        code = 70
        traceback.print_exc()
    finally:
        os._exit(code)


def _keep_only(fds: list[int], stderr: bool = False) -> list[int]:
    """Move fds to 3, 4, ... in order, point 0-2 (0-1 when keeping stderr) at /dev/null, close the rest."""
    high = [os.dup(fd) for fd in fds]
    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1) if stderr else (0, 1, 2):
        os.dup2(devnull, target)
    for n, fd in enumerate(high):
        os.dup2(fd, 3 + n)
    os.closerange(3 + len(fds), 1 << 16)
    return list(range(3, 3 + len(fds)))


def _candidate_process(fds: list[int], settings: dict, uid: int) -> None:
    """The forked candidate: jail itself (as uid, when the evaluator is root), then serve the judge."""
    try:
        os.setsid()
        _keep_only(fds)  # fd 3: requests from the judge, fd 4: answers to it
        layers = settings["layers"]
        if layers.get("minimal_root"):
            jail.enter_jail(settings["scratch_bytes"], layers.get("python_under_tmp", []), layers["cgroup_namespace"])
            os.environ["HOME"] = os.environ["TMPDIR"] = "/tmp"
        else:  # QHE_ALLOW_UNSANDBOXED: rlimits and the deadline only
            os.chdir(settings["scratch"])
            os.environ["HOME"] = os.environ["TMPDIR"] = settings["scratch"]
        jail.limit(resource.RLIMIT_AS, settings["memory_bytes"])
        jail.limit(resource.RLIMIT_CORE, 0)
        jail.limit(resource.RLIMIT_FSIZE, 16 << 20)
        if layers.get("drop_privileges"):
            jail.limit(resource.RLIMIT_NPROC, 256)
            jail.drop_privileges(as_root=layers["root"], uid=uid)
            seccomp.install_syscall_filter()
    except BaseException as e:  # never run the code unprotected
        wire.send(candidate.ANSWERS_FD, {"setup_failed": repr(e)})
        return
    # Sent before any of the candidate's code runs, so the judge can trust this first message alone.
    wire.send(candidate.ANSWERS_FD, {"ready": True})
    candidate.serve()


def _zygote(sock: socket.socket, settings: dict) -> None:
    """Fork one candidate per request, hand its pidfd to the worker, report its exit status. Each
    candidate gets the next uid of this worker's range (as root): no two running candidates, nor two
    in a row, share one."""
    [sock_fd] = _keep_only([sock.fileno()], stderr=True)  # the evaluator's channel is not the zygote's business
    sock = socket.socket(fileno=sock_fd)
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
    if settings["layers"].get("minimal_root"):
        jail.pivot_into(settings["root"])
    for count in itertools.count():
        message, fds, _, _ = socket.recv_fds(sock, 1, 2)
        if not message:
            return
        if settings["layers"].get("pid_namespace"):
            jail.fresh_pid_namespace_for_next_child(own_pid_ns)
        uid = settings["uid_base"] + settings["index"] % WORKER_SLOTS * UIDS_PER_WORKER + count % UIDS_PER_WORKER
        pid = _fork(_candidate_process, fds, settings, uid)
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)  # opened by the parent, before any reaping: it cannot name another process
        socket.send_fds(sock, [b"p"], [pidfd])
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        sock.sendall(_STATUS.pack(status))


class Zygote:
    def __init__(self, settings: dict):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        _fork(_zygote, theirs, settings)
        theirs.close()

    def spawn(self) -> tuple[int, int, int]:
        """Fork a fresh candidate, waiting for its solution. Returns its pidfd and the judge's ends of
        its pipes (requests to it, answers from it)."""
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        socket.send_fds(self.sock, [b"s"], [requests_r, answers_w])
        os.close(requests_r)
        os.close(answers_w)
        _, fds, _, _ = socket.recv_fds(self.sock, 1, 1)  # one byte: the status that follows stays unread
        if not fds:
            raise OSError("the zygote died")
        return fds[0], requests_w, answers_r

    def exit_status(self) -> int:
        data = b""
        while len(data) < _STATUS.size:
            chunk = self.sock.recv(_STATUS.size - len(data))
            if not chunk:
                raise OSError("the zygote died")
            data += chunk
        return _STATUS.unpack(data)[0]


def _judge_loop(sock: socket.socket, settings: dict) -> None:
    """The judge process: for each job, its fds to a fresh candidate arrive with it; the verdict goes
    back on the same socket, which no candidate can reach."""
    [sock_fd] = _keep_only([sock.fileno()], stderr=True)
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
        self.pid = _fork(_judge_loop, theirs, settings)
        theirs.close()

    def send(self, job: dict, requests_w: int, answers_r: int) -> None:
        """The job, the judge's ends of the candidate's pipes and, for HumanEval+, the expected outputs'
        file, opened here: the judge runs as nobody and could not open the evaluator's cache itself."""
        fds = [requests_w, answers_r]
        if "expected_file" in job:
            fds.append(os.open(job["expected_file"], os.O_RDONLY | os.O_CLOEXEC))
        try:
            wire.send_on_socket(self.sock, json.dumps(job).encode(), fds)
        finally:
            if len(fds) == 3:
                os.close(fds[2])

    def verdict(self, deadline: float) -> dict | None:
        """The verdict, or None when the deadline passed first."""
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        data = bytearray()
        while (
            len(data) < wire.SOCKET_LENGTH.size
            or len(data) < wire.SOCKET_LENGTH.size + wire.SOCKET_LENGTH.unpack(data[: wire.SOCKET_LENGTH.size])[0]
        ):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
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
    """One job on a fresh candidate (from zygote.spawn), judged from outside; the deadline is enforced
    here. Returns ({'result', 'duration', ...}, whether the judge must be replaced)."""
    start = time.monotonic()
    candidate_pidfd, requests_w, answers_r = candidate
    try:
        judge_process.send(job, requests_w, answers_r)
        verdict = judge_process.verdict(start + timeout)
    finally:
        os.close(requests_w)
        os.close(answers_r)
        try:
            signal.pidfd_send_signal(candidate_pidfd, signal.SIGKILL)  # PID 1: the kernel kills all its namespace
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True, help="where the minimal root is built (a fresh empty directory)")
    ap.add_argument("--scratch", required=True, help="working directory of candidates when unsandboxed")
    ap.add_argument("--scratch-bytes", type=int, required=True)
    ap.add_argument("--memory-bytes", type=int, required=True)
    ap.add_argument("--index", type=int, default=0, help="which range of uids its candidates get")
    ap.add_argument("--uid-base", type=int, required=True, help="the first uid of the candidates' range (as root)")
    ap.add_argument("--package-dir", action="append", default=[], help="a package candidates may import (repeatable)")
    ap.add_argument("--hide", action="append", default=[], help="a path never to show in the jail (repeatable)")
    args = ap.parse_args()
    unsandboxed_allowed = bool(os.environ.get("QHE_ALLOW_UNSANDBOXED"))  # read before the environment is cleared
    # QHE_SANDBOX_USERNS=1: the user-namespace mode of a non-root evaluator, also when run as root (for tests)
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
    gc.freeze()  # the garbage collector in each child leaves the inherited objects (and their pages) alone
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
            verdict, replace_judge = run_job(request["job"], request["timeout"], candidate, zygote, judge_process)
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
    signal.pidfd_send_signal(candidate[0], signal.SIGKILL)  # the evaluator is done: the spare candidate goes
    zygote.exit_status()


if __name__ == "__main__":
    main()
