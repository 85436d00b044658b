"""The worker's zygote: forked before the worker reads any job, it forks each candidate (jailed,
with a uid of its own) and reports its exit status; and the forking helpers the judge shares."""

import itertools
import os
import resource
import signal
import socket
import struct
import traceback

from . import candidate, jail, kernel, seccomp, wire

# Candidates' uids (as root): uid_base + a range of UIDS_PER_WORKER for each of WORKER_SLOTS
# workers.
UIDS_PER_WORKER, WORKER_SLOTS = 1 << 16, 1 << 15
_STATUS = struct.Struct("!i")


def fork_child(body, *args) -> int:
    """Fork a child that runs body(*args) and exits; it never returns into the caller's code. An
    unexpected error is printed to the worker's stderr (candidates point theirs at /dev/null first).
    """
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


def keep_only(fds: list[int], stderr: bool = False) -> list[int]:
    """Move fds to 3, 4, ... in order, point 0-2 (0-1 when keeping stderr) at /dev/null, close the
    rest."""
    high = [os.dup(fd) for fd in fds]
    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1) if stderr else (0, 1, 2):
        os.dup2(devnull, target)
    for n, fd in enumerate(high):
        os.dup2(fd, 3 + n)
    os.closerange(3 + len(fds), 1 << 16)
    return list(range(3, 3 + len(fds)))


def _candidate_process(fds: list[int], settings: dict, uid: int) -> None:
    """The forked candidate: jail itself (as uid, when the evaluator is root), then serve the
    judge."""
    try:
        os.setsid()
        keep_only(fds)  # fd 3: requests from the judge, fd 4: answers to it
        layers = settings["layers"]
        if layers.get("minimal_root"):
            jail.enter_jail(
                settings["scratch_bytes"],
                layers.get("python_under_tmp", []),
                layers["cgroup_namespace"],
            )
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
    # the evaluator's channel is not the zygote's business
    [sock_fd] = keep_only([sock.fileno()], stderr=True)
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
        uid = (
            settings["uid_base"]
            + settings["index"] % WORKER_SLOTS * UIDS_PER_WORKER
            + count % UIDS_PER_WORKER
        )
        pid = fork_child(_candidate_process, fds, settings, uid)
        for fd in fds:
            os.close(fd)
        # opened by the parent, before any reaping: it cannot name another process
        pidfd = os.pidfd_open(pid)
        socket.send_fds(sock, [b"p"], [pidfd])
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        sock.sendall(_STATUS.pack(status))


class Zygote:
    def __init__(self, settings: dict):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        fork_child(_zygote, theirs, settings)
        theirs.close()

    def spawn(self) -> tuple[int, int, int]:
        """Fork a fresh candidate, waiting for its solution. Returns its pidfd and the judge's ends
        of its pipes (requests to it, answers from it)."""
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        socket.send_fds(self.sock, [b"s"], [requests_r, answers_w])
        os.close(requests_r)
        os.close(answers_w)
        # one byte: the status that follows stays unread
        _, fds, _, _ = socket.recv_fds(self.sock, 1, 1)
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
