"""Namespaces, a minimal root, and dropping privileges: the kernel calls behind the sandbox.

Two levels:
- isolate_worker(): once per worker. Own mount and network namespaces (no interface up, so no TCP
  and no abstract unix socket of the host), every host mount remounted read-only for the judge, and
  a minimal root built on a tmpfs: /usr and the Python installation bound read-only, a /dev with
  null, zero, full, random and urandom, empty mount points for /proc and /tmp.
- pivot_into(): once per worker, in the zygote that forks the candidates: pivot_root into the
  minimal root and detach the host's tree entirely (no /tmp, /run, /dev/shm, home directory or unix
  socket file of the host exists there any more).
- enter_jail() and drop_privileges(): once per candidate, which is PID 1 of a fresh PID namespace:
  a private copy of the minimal mount tree, a fresh /proc for its PID namespace, a fresh size-capped
  tmpfs on /tmp, then uid nobody (as root) or no capabilities (in a user namespace), no_new_privs,
  and forbid_new_namespaces(): a seccomp filter against unshare, setns and namespace clones.
Stdlib only: runs inside the sandbox worker (`python -I`).
"""
import ctypes
import os
import platform
import resource
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
NOBODY_UID = NOBODY_GID = 65534
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.syscall.argtypes = [ctypes.c_long, ctypes.c_char_p, ctypes.c_char_p]


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, flags: int) -> None:
    _check(_libc.setns(fd, flags), "setns")


def mount(source, target, fstype, flags, data=None) -> None:
    enc = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def prctl(option: int, arg: int) -> int:
    return _libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


# ----------------------------------------------------------------------------- once per worker
def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4].encode().decode("unicode_escape") for line in f]


def _remount_read_only(point: str) -> None:
    try:
        mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
    except OSError:  # some mounts keep flags the kernel wants repeated (nodev, noexec, ...)
        st = os.statvfs(point)
        mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | (st.f_flag & ~MS_RDONLY & 0xFFFF))


def _bind_read_only(source: str, target: str) -> None:
    if os.path.isdir(source):
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        open(target, "a").close()
    mount(source, target, None, MS_BIND | MS_REC)
    _remount_read_only(target)


def _python_trees() -> list[str]:
    """The directories the interpreter and its imports live in, outside /usr."""
    trees = set()
    for path in (sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))):
        real = os.path.realpath(path)
        if not (real == "/usr" or real.startswith("/usr/")):
            trees.add(real)
    return sorted(t for t in trees if not any(t.startswith(o + "/") for o in trees if o != t))


STAGING = "/.under-tmp"


def build_root(root: str) -> list[list[str]]:
    """The minimal root every candidate pivots into (see the module docstring).

    A Python tree that lives under /tmp (a checkout in /tmp, say) would be hidden by each candidate's
    fresh /tmp: it is staged elsewhere in the root and bound back by enter_jail. Returns those
    [staged, original] pairs.
    """
    os.makedirs(root, exist_ok=True)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = "/" + top
        if os.path.islink(host):
            os.symlink(os.readlink(host), os.path.join(root, top))
        elif os.path.isdir(host):
            _bind_read_only(host, os.path.join(root, top))
    _bind_read_only("/usr", os.path.join(root, "usr"))
    under_tmp = []
    for tree in _python_trees():
        if tree.startswith("/tmp/"):
            staged = f"{STAGING}/{len(under_tmp)}"
            _bind_read_only(tree, root + staged)
            under_tmp.append([staged, tree])
        else:
            _bind_read_only(tree, root + tree)
    dev = os.path.join(root, "dev")
    os.makedirs(dev, mode=0o755)
    for name in DEVICES:
        target = os.path.join(dev, name)
        open(target, "a").close()
        mount("/dev/" + name, target, None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, os.path.join(dev, name))
    for empty in ("proc", "tmp"):
        os.makedirs(os.path.join(root, empty), mode=0o755)
    mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return under_tmp


def isolate_worker(root: str, as_root: bool) -> dict:
    """Own mount + network namespaces for this worker, the host's mounts read-only, and the minimal root.

    Returns which layers are active, so the evaluator can report them.
    """
    layers = {"root": as_root, "user_namespace": False, "network": False, "read_only_mounts": False,
              "pid_namespace": False, "minimal_root": False, "drop_privileges": False}
    uid, gid = os.geteuid(), os.getegid()
    try:
        if layers["root"]:
            unshare(CLONE_NEWNS | CLONE_NEWNET)
        else:
            unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUSER)
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"0 {uid} 1")
            _write("/proc/self/gid_map", f"0 {gid} 1")
            layers["user_namespace"] = True
            # Become PID 1 of a namespace this user namespace owns, so that setns() back into it is
            # allowed between candidates (see fresh_pid_namespace_for_next_child).
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
    failures = []
    for point in sorted(set(_mount_points()), key=len):
        try:
            _remount_read_only(point)
        except OSError:
            failures.append(point)
    if failures:
        layers["writable_mounts"] = failures
    layers["read_only_mounts"] = True
    try:
        layers["python_under_tmp"] = build_root(root)
    except OSError as e:
        layers["error"] = f"cannot build the minimal root: {e}"
        return layers
    layers["minimal_root"] = layers["pid_namespace"] = layers["drop_privileges"] = True
    return layers


def fresh_pid_namespace_for_next_child(own_pid_ns: int) -> None:
    """Make the next fork() PID 1 of a new namespace. unshare(CLONE_NEWPID) works once per process,
    so the parent first points its children back at its own namespace (setns), then unshares again."""
    setns(own_pid_ns, CLONE_NEWPID)
    unshare(CLONE_NEWPID)


# ----------------------------------------------------------------------------- once per process
def limit(resource_id: int, value: int) -> None:
    try:
        resource.setrlimit(resource_id, (value, value))
    except (ValueError, OSError):
        pass


def pivot_into(root: str) -> None:
    """Once, in the zygote: make the minimal root this process's / and detach the host's tree entirely.

    A mount namespace of its own first: pivot_root moves every process of the namespace it runs in.
    A proc of the current PID namespace goes on /proc: the kernel lets a user namespace mount a new
    proc only where one is already fully visible. Each candidate covers it with its own.
    """
    unshare(CLONE_NEWNS)
    mount("proc", os.path.join(root, "proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    os.chdir(root)
    if SYS_PIVOT_ROOT is None:
        raise OSError(f"pivot_root: unknown syscall number on {platform.machine()}")
    _check(_libc.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")


def enter_jail(scratch_bytes: int, under_tmp: list[list[str]]) -> None:
    """In a candidate (PID 1 of a fresh PID namespace, forked by the pivoted zygote): a private copy of
    the minimal mount tree, a fresh /proc of its own PID namespace and a fresh size-capped /tmp (with
    the Python trees that live under /tmp bound back in, read-only)."""
    unshare(CLONE_NEWNS)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch_bytes},mode=1777")
    for staged, original in under_tmp:
        _bind_read_only(staged, original)
    os.chdir("/tmp")


def drop_privileges(as_root: bool) -> None:
    """uid/gid nobody when the evaluator runs as root; otherwise (user namespace) no capabilities at all."""
    cap = 0
    while prctl(PR_CAPBSET_DROP, cap) == 0:
        cap += 1
    if as_root:
        os.setgroups([])
        os.setgid(NOBODY_GID)
        os.setuid(NOBODY_UID)
    else:
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        data = (ctypes.c_uint32 * 6)()
        _check(_libc.capset(header, data), "capset")
    _check(prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")


# ----------------------------------------------------------------------------- seccomp: no new namespaces
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
_AUDIT_ARCH_X86_64 = 0xC000003E
_NAMESPACE_FLAGS = 0x7E020080  # CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
_SYSCALLS_X86_64 = {"unshare": 272, "setns": 308, "clone": 56, "clone3": 435}


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def _namespace_filter() -> list[tuple[int, int, int, int]]:
    """BPF for seccomp: unshare, setns and clone with a namespace flag fail with EPERM; clone3 (whose
    flags a filter cannot read) fails with ENOSYS, so libc falls back to clone; another ABI is killed."""
    ld_abs, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    eperm, enosys = 0x00050000 | 1, 0x00050000 | 38
    calls = _SYSCALLS_X86_64
    return [
        (ld_abs, 0, 0, 4),                        # 0: arch
        (jeq, 1, 0, _AUDIT_ARCH_X86_64),          # 1
        (ret, 0, 0, kill),                        # 2
        (ld_abs, 0, 0, 0),                        # 3: syscall number
        (jge, 7, 0, 0x40000000),                  # 4: x32 numbers -> 12
        (jeq, 6, 0, calls["unshare"]),            # 5 -> 12
        (jeq, 5, 0, calls["setns"]),              # 6 -> 12
        (jeq, 3, 0, calls["clone3"]),             # 7 -> 11
        (jeq, 0, 4, calls["clone"]),              # 8: clone -> 9, anything else -> 13
        (ld_abs, 0, 0, 16),                       # 9: clone's flags (low 32 bits of args[0])
        (jset, 1, 2, _NAMESPACE_FLAGS),           # 10: any namespace flag -> 12, else -> 13
        (ret, 0, 0, enosys),                      # 11
        (ret, 0, 0, eperm),                       # 12
        (ret, 0, 0, allow),                       # 13
    ]


def forbid_new_namespaces() -> bool:
    """Install the filter (needs no_new_privs, set by drop_privileges). False where it does not apply."""
    if platform.machine() != "x86_64":
        return False
    program = _namespace_filter()
    filters = (_SockFilter * len(program))(*[_SockFilter(*instruction) for instruction in program])
    fprog = _SockFprog(len(program), filters)
    _check(_libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog),
                       ctypes.c_ulong(0), ctypes.c_ulong(0)), "seccomp")
    return True
