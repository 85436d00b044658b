"""Namespaces, a minimal root, a seccomp filter and dropping privileges: the kernel calls behind the sandbox.

Two levels:
- isolate_worker(): once per worker. Own mount, network, IPC and UTS namespaces (no interface up, so
  no TCP and no abstract unix socket of the host; no SysV or POSIX IPC object of the host; hostname
  "sandbox"), every host mount remounted read-only for the judge, and a minimal root built on a
  tmpfs: /usr and the Python installation bound read-only with every site-packages directory in them
  covered by an empty one (only the packages candidates may import bound back), a /dev with null,
  zero, full, random and urandom, empty mount points for /proc, /tmp and /dev/shm.
- pivot_into(): once per worker, in the zygote that forks the candidates: pivot_root into the
  minimal root and detach the host's tree entirely (no /tmp, /run, /dev/shm, home directory or unix
  socket file of the host exists there any more).
- enter_jail() and drop_privileges(): once per candidate, which is PID 1 of a fresh PID namespace:
  fresh mount, IPC, UTS and cgroup namespaces (a private copy of the minimal mount tree; whatever IPC
  object it makes dies with it), a fresh /proc, size-capped tmpfs on /tmp and /dev/shm, then a uid of
  its own (as root) or no capabilities (in a user namespace), a fresh session keyring, no_new_privs,
  and install_syscall_filter(): seccomp, Docker's default denials and no new namespaces.
Stdlib only: runs inside the sandbox worker (`python -I`).
"""

import ctypes
import glob
import os
import platform
import resource
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
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
HOSTNAME = b"sandbox"
# Where an installation keeps third-party packages, below a tree bound into the root (/usr included:
# Debian's dist-packages, /usr/local's site-packages in the python images).
SITE_PACKAGES = (
    "lib*/python*/site-packages",
    "lib*/python*/dist-packages",
    "lib/python3/dist-packages",
    "local/lib*/python*/site-packages",
    "local/lib*/python*/dist-packages",
)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


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


def _cover(target: str, keep: list[str] = ()) -> None:
    """An empty read-only directory over target, with the directories in keep (inside it) bound back."""
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
    for source in keep:
        _bind_read_only(source, os.path.join(target, os.path.basename(source)))
    mount(None, target, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _in_root(root: str, binds: list[tuple[str, str]], path: str) -> str | None:
    """Where a host path shows in the root, through binds ([host tree, where it is bound]); None if it does not."""
    real = os.path.realpath(path)
    for host, inside in binds:
        if real == host or real.startswith(host + "/"):
            return root + inside + real[len(host) :]
    return None


def _hide_site_packages(root: str, binds: list[tuple[str, str]], packages: list[str]) -> list[str]:
    """Cover every site-packages directory of the bound trees; bind back the package directories of
    packages (absolute paths) that live in one. Returns the directories covered (host paths)."""
    covered = []
    for host, _ in binds:
        for pattern in SITE_PACKAGES:
            for found in sorted(glob.glob(os.path.join(host, pattern))):
                real = os.path.realpath(found)
                target = _in_root(root, binds, real)
                if real in covered or target is None or not os.path.isdir(target):
                    continue
                _cover(target, [p for p in packages if os.path.dirname(p) == real])
                covered.append(real)
    return covered


def _hide(root: str, binds: list[tuple[str, str]], paths: list[str]) -> list[str]:
    """Cover each of paths that the root shows (a directory with an empty one, a file with an empty file)."""
    hidden = []
    for path in paths:
        target = _in_root(root, binds, path)
        if target is None or not os.path.lexists(target):
            continue
        if os.path.isdir(target):
            _cover(target)
        else:
            mount(os.path.join(root, EMPTY_FILE), target, None, MS_BIND)
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        hidden.append(os.path.realpath(path))
    return hidden


STAGING = "/.under-tmp"
EMPTY_FILE = ".empty"


def build_root(root: str, packages: list[str] = (), hide: list[str] = ()) -> dict:
    """The minimal root every candidate pivots into (see the module docstring). packages: directories of
    packages candidates may import (each inside a site-packages directory); hide: paths to cover if the
    root shows them (the datasets, caches and checkout when they live under a bound tree).

    A Python tree that lives under /tmp (a checkout in /tmp, say) would be hidden by each candidate's
    fresh /tmp: it is staged elsewhere in the root and bound back by enter_jail. Returns those
    [staged, original] pairs ('python_under_tmp') and the directories covered."""
    os.makedirs(root, exist_ok=True)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = "/" + top
        if os.path.islink(host):
            os.symlink(os.readlink(host), os.path.join(root, top))
        elif os.path.isdir(host):
            _bind_read_only(host, os.path.join(root, top))
    _bind_read_only("/usr", os.path.join(root, "usr"))
    under_tmp, binds = [], [("/usr", "/usr")]
    for tree in _python_trees():
        if tree.startswith("/tmp/"):
            staged = f"{STAGING}/{len(under_tmp)}"
            _bind_read_only(tree, root + staged)
            under_tmp.append([staged, tree])
            binds.append((tree, staged))
        else:
            _bind_read_only(tree, root + tree)
            binds.append((tree, tree))
    binds += [
        (os.path.realpath("/" + top), "/" + top)
        for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
        if os.path.isdir("/" + top) and not os.path.islink("/" + top)
    ]
    open(os.path.join(root, EMPTY_FILE), "w").close()
    covered = _hide_site_packages(root, binds, [os.path.realpath(p) for p in packages])
    hidden = _hide(root, binds, list(hide))
    dev = os.path.join(root, "dev")
    os.makedirs(os.path.join(dev, "shm"), mode=0o755)
    for name in DEVICES:
        target = os.path.join(dev, name)
        open(target, "a").close()
        mount("/dev/" + name, target, None, MS_BIND)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, os.path.join(dev, name))
    for empty in ("proc", "tmp"):
        os.makedirs(os.path.join(root, empty), mode=0o755)
    mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return {"python_under_tmp": under_tmp, "site_packages_covered": covered, "hidden": hidden}


def isolate_worker(root: str, as_root: bool, packages: list[str] = (), hide: list[str] = ()) -> dict:
    """Own mount, network, IPC and UTS namespaces for this worker, the host's mounts read-only, and the
    minimal root (build_root: packages, hide).

    Returns which layers are active, so the evaluator can report them.
    """
    layers = {
        "root": as_root,
        "user_namespace": False,
        "network": False,
        "ipc_namespace": False,
        "uts_namespace": False,
        "read_only_mounts": False,
        "pid_namespace": False,
        "minimal_root": False,
        "drop_privileges": False,
        "seccomp": False,
    }
    uid, gid = os.geteuid(), os.getegid()
    private = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    try:
        if layers["root"]:
            unshare(private)
        else:
            unshare(private | CLONE_NEWUSER)
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
        _check(_libc.sethostname(HOSTNAME, len(HOSTNAME)), "sethostname")
        layers["network"] = layers["ipc_namespace"] = layers["uts_namespace"] = True
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
        layers.update(build_root(root, packages, hide))
    except OSError as e:
        layers["error"] = f"cannot build the minimal root: {e}"
        return layers
    layers["minimal_root"] = layers["pid_namespace"] = layers["drop_privileges"] = True
    layers["cgroup_namespace"] = _can_unshare(CLONE_NEWCGROUP)
    layers["seccomp"] = SYSCALLS is not None
    layers["uid_per_candidate"] = as_root
    return layers


def _can_unshare(flag: int) -> bool:
    """Whether a child of this process can make a namespace of that kind (cgroup namespaces need Linux 4.6
    and, in a user namespace, a kernel that allows them there): probed once, so no candidate fails on it."""
    child = os.fork()
    if child == 0:
        os._exit(0 if _libc.unshare(flag) == 0 else 1)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) == 0


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
    _check(_libc.syscall(ctypes.c_long(SYS_PIVOT_ROOT), b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")


def enter_jail(scratch_bytes: int, under_tmp: list[list[str]], cgroup: bool) -> None:
    """In a candidate (PID 1 of a fresh PID namespace, forked by the pivoted zygote): fresh mount, IPC,
    UTS (and cgroup) namespaces, a fresh /proc of its own PID namespace, fresh size-capped tmpfs on
    /tmp and /dev/shm (with the Python trees that live under /tmp bound back in, read-only)."""
    unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (CLONE_NEWCGROUP if cgroup else 0))
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch_bytes},mode=1777")
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"size={scratch_bytes},mode=1777")
    for staged, original in under_tmp:
        _bind_read_only(staged, original)
    os.chdir("/tmp")


KEYCTL_JOIN_SESSION_KEYRING = 1


def drop_privileges(as_root: bool, uid: int = NOBODY_UID) -> None:
    """uid/gid `uid` when the evaluator runs as root; otherwise (user namespace) no capabilities at all.
    Then a fresh session keyring of its own: none inherited from the evaluator."""
    cap = 0
    while prctl(PR_CAPBSET_DROP, cap) == 0:
        cap += 1
    if as_root:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    else:
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        data = (ctypes.c_uint32 * 6)()
        _check(_libc.capset(header, data), "capset")
    # Where an outer filter (Docker's) already denies keyrings, there is no keyring to leave behind.
    _libc.syscall(ctypes.c_long(SYS_KEYCTL), ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING), None)
    _check(prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")


# ----------------------------------------------------------------------------- seccomp
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
_AUDIT_ARCH_X86_64 = 0xC000003E
_NAMESPACE_FLAGS = 0x7E020080  # CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
# What Docker's default profile denies a container without added capabilities, by x86-64 number.
# New system calls (numbers above the table's last) fail with ENOSYS, as in an allowlist.
_DENIED_X86_64 = {
    "keyrings": {"add_key": 248, "request_key": 249, "keyctl": 250},
    "io_uring": {"io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427},
    "tracing and other processes' memory": {
        "ptrace": 101,
        "process_vm_readv": 310,
        "process_vm_writev": 311,
        "kcmp": 312,
        "pidfd_getfd": 438,
    },
    "kernel surface": {
        "userfaultfd": 323,
        "bpf": 321,
        "perf_event_open": 298,
        "personality": 135,
        "lookup_dcookie": 212,
        "fanotify_init": 300,
        "memfd_secret": 447,
    },
    "mounts and filesystems": {
        "mount": 165,
        "umount2": 166,
        "pivot_root": 155,
        "chroot": 161,
        "open_tree": 428,
        "move_mount": 429,
        "fsopen": 430,
        "fsconfig": 431,
        "fsmount": 432,
        "fspick": 433,
        "mount_setattr": 442,
        "open_by_handle_at": 304,
        "name_to_handle_at": 303,
        "quotactl": 179,
        "quotactl_fd": 443,
        "nfsservctl": 180,
        "swapon": 167,
        "swapoff": 168,
        "acct": 163,
        "sysfs": 139,
        "ustat": 136,
        "uselib": 134,
    },
    "the machine": {
        "kexec_load": 246,
        "kexec_file_load": 320,
        "reboot": 169,
        "init_module": 175,
        "finit_module": 313,
        "delete_module": 176,
        "create_module": 174,
        "get_kernel_syms": 177,
        "query_module": 178,
        "syslog": 103,
        "_sysctl": 156,
        "vhangup": 153,
        "iopl": 172,
        "ioperm": 173,
        "sethostname": 170,
        "setdomainname": 171,
        "settimeofday": 164,
        "clock_settime": 227,
        "clock_adjtime": 305,
        "adjtimex": 159,
    },
    "memory policy": {"mbind": 237, "set_mempolicy": 238, "migrate_pages": 256, "move_pages": 279},
    "namespaces": {"unshare": 272, "setns": 308},
}
_LAST_KNOWN_X86_64 = 469  # file_setattr, Linux 6.17
SYS_KEYCTL = 250 if platform.machine() == "x86_64" else 219
SYSCALLS = (
    {name: nr for group in _DENIED_X86_64.values() for name, nr in group.items()}
    if platform.machine() == "x86_64"
    else None
)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def _syscall_filter() -> list[tuple[int, int, int, int]]:
    """BPF for seccomp: every call of the table fails with EPERM, clone with a namespace flag too;
    clone3 (whose flags a filter cannot read) and numbers past the table fail with ENOSYS, so libc
    falls back to clone; another ABI (x32, i386) is killed."""
    ld_abs, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    eperm, enosys = 0x00050000 | 1, 0x00050000 | 38
    denied = sorted(set(SYSCALLS.values()))
    head = [
        (ld_abs, 0, 0, 4),  # arch
        (jeq, 1, 0, _AUDIT_ARCH_X86_64),
        (ret, 0, 0, kill),
        (ld_abs, 0, 0, 0),  # syscall number
        (jge, 0, 1, 0x40000000),  # x32 numbers
        (ret, 0, 0, kill),
        (jeq, 0, 1, 435),  # clone3
        (ret, 0, 0, enosys),
        (jge, 0, 1, _LAST_KNOWN_X86_64 + 1),  # not known yet
        (ret, 0, 0, enosys),
        (jeq, 0, 2, 56),  # clone: its flags (low 32 bits of args[0])
        (ld_abs, 0, 0, 16),
        (jset, len(denied) + 1, len(denied), _NAMESPACE_FLAGS),  # -> EPERM or allow, past the body
    ]
    # After the head: one test per denied number (a match jumps to the EPERM return), then allow, EPERM.
    body = [(jeq, len(denied) - i, 0, nr) for i, nr in enumerate(denied)]
    return head + body + [(ret, 0, 0, allow), (ret, 0, 0, eperm)]


def install_syscall_filter() -> bool:
    """Install the filter (needs no_new_privs, set by drop_privileges). False where it is not built (not x86-64)."""
    if SYSCALLS is None:
        return False
    program = _syscall_filter()
    filters = (_SockFilter * len(program))(*[_SockFilter(*instruction) for instruction in program])
    fprog = _SockFprog(len(program), filters)
    _check(
        _libc.prctl(
            PR_SET_SECCOMP,
            ctypes.c_ulong(SECCOMP_MODE_FILTER),
            ctypes.byref(fprog),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
        ),
        "seccomp",
    )
    return True
