"""Namespaces and dropping privileges, around the minimal root (rootfs.py) and the filter
(seccomp.py).

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
  fresh mount, IPC, UTS and cgroup namespaces (a private copy of the minimal mount tree; whatever
  IPC object it makes dies with it), a fresh /proc, size-capped tmpfs on /tmp and /dev/shm, then a
  uid of its own (as root) or no capabilities (in a user namespace), a fresh session keyring,
  no_new_privs, and install_syscall_filter(): seccomp, Docker's default denials and no new
  namespaces. Stdlib only: runs inside the sandbox worker (`python -I`).
"""

import ctypes
import os
import platform
import resource
import signal

from . import seccomp
from .kernel import (
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    MNT_DETACH,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    NOBODY_UID,
    PR_CAPBSET_DROP,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG,
    SYS_KEYCTL,
    SYS_PIVOT_ROOT,
    bind_read_only,
    check,
    libc,
    mount,
    mount_points,
    prctl,
    remount_read_only,
    setns,
    unshare,
    write_file,
)
from .rootfs import build_root

HOSTNAME = b"sandbox"


def isolate_worker(
    root: str, as_root: bool, packages: list[str] = (), hide: list[str] = ()
) -> dict:
    """Own mount, network, IPC and UTS namespaces for this worker, the host's mounts read-only, and
    the minimal root (build_root: packages, hide).

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
            write_file("/proc/self/setgroups", "deny")
            write_file("/proc/self/uid_map", f"0 {uid} 1")
            write_file("/proc/self/gid_map", f"0 {gid} 1")
            layers["user_namespace"] = True
            # Become PID 1 of a namespace this user namespace owns, so that setns() back into it is
            # allowed between candidates (see fresh_pid_namespace_for_next_child).
            unshare(CLONE_NEWPID)
            child = os.fork()
            if child:
                _, status = os.waitpid(child, 0)
                os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
            # the worker is this child: it dies with the process the evaluator started
            check(prctl(PR_SET_PDEATHSIG, signal.SIGKILL), "pdeathsig")
        check(libc.sethostname(HOSTNAME, len(HOSTNAME)), "sethostname")
        layers["network"] = layers["ipc_namespace"] = layers["uts_namespace"] = True
    except OSError as e:
        layers["error"] = f"namespaces unavailable: {e}"
        return layers
    layers.update(host_mounts_read_only())
    try:
        layers.update(build_root(root, packages, hide))
    except OSError as e:
        layers["error"] = f"cannot build the minimal root: {e}"
        return layers
    layers["minimal_root"] = layers["pid_namespace"] = layers["drop_privileges"] = True
    layers["cgroup_namespace"] = _can_unshare(CLONE_NEWCGROUP)
    layers["seccomp"] = seccomp.SYSCALLS is not None
    layers["uid_per_candidate"] = as_root
    return layers


def host_mounts_read_only() -> dict:
    """Every mount this worker sees, made private and read-only (those that refuse are named)."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    failures = []
    for point in sorted(set(mount_points()), key=len):
        try:
            remount_read_only(point)
        except OSError:
            failures.append(point)
    return {"read_only_mounts": True, **({"writable_mounts": failures} if failures else {})}


def _can_unshare(flag: int) -> bool:
    """Whether a child of this process can make a namespace of that kind (cgroup namespaces need
    Linux 4.6 and, in a user namespace, a kernel that allows them there): probed once, so no
    candidate fails on it."""
    child = os.fork()
    if child == 0:
        os._exit(0 if libc.unshare(flag) == 0 else 1)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) == 0


def fresh_pid_namespace_for_next_child(own_pid_ns: int) -> None:
    """Make the next fork() PID 1 of a new namespace. unshare(CLONE_NEWPID) works once per process,
    so the parent first points its children back at its own namespace (setns), then unshares again.
    """
    setns(own_pid_ns, CLONE_NEWPID)
    unshare(CLONE_NEWPID)


def limit(resource_id: int, value: int) -> None:
    try:
        resource.setrlimit(resource_id, (value, value))
    except (ValueError, OSError):
        pass


def pivot_into(root: str) -> None:
    """Once, in the zygote: make the minimal root this process's / and detach the host's tree
    entirely.

    A mount namespace of its own first: pivot_root moves every process of the namespace it runs in.
    A proc of the current PID namespace goes on /proc: the kernel lets a user namespace mount a new
    proc only where one is already fully visible. Each candidate covers it with its own.
    """
    unshare(CLONE_NEWNS)
    mount("proc", os.path.join(root, "proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    os.chdir(root)
    if SYS_PIVOT_ROOT is None:
        raise OSError(f"pivot_root: unknown syscall number on {platform.machine()}")
    check(libc.syscall(ctypes.c_long(SYS_PIVOT_ROOT), b".", b"."), "pivot_root")
    check(libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")


def enter_jail(scratch_bytes: int, under_tmp: list[list[str]], cgroup: bool) -> None:
    """In a candidate (PID 1 of a fresh PID namespace, forked by the pivoted zygote): fresh mount,
    IPC, UTS (and cgroup) namespaces, a fresh /proc of its own PID namespace, fresh size-capped
    tmpfs on /tmp and /dev/shm (with the Python trees that live under /tmp bound back in,
    read-only)."""
    unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (CLONE_NEWCGROUP if cgroup else 0))
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch_bytes},mode=1777")
    mount(
        "tmpfs",
        "/dev/shm",
        "tmpfs",
        MS_NOSUID | MS_NODEV | MS_NOEXEC,
        f"size={scratch_bytes},mode=1777",
    )
    for staged, original in under_tmp:
        bind_read_only(staged, original)
    os.chdir("/tmp")


KEYCTL_JOIN_SESSION_KEYRING = 1


def drop_privileges(as_root: bool, uid: int = NOBODY_UID) -> None:
    """uid/gid `uid` when the evaluator runs as root; otherwise (user namespace) no capabilities at
    all. Then a fresh session keyring of its own: none inherited from the evaluator."""
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
        check(libc.capset(header, data), "capset")
    # A change of credentials clears the parent-death signal fork_child set: without it again, a
    # candidate (or the judge) outlives a killed evaluator, an endless loop spinning for minutes.
    check(prctl(PR_SET_PDEATHSIG, signal.SIGKILL), "pdeathsig")
    # Where an outer filter (Docker's) already denies keyrings, there is no keyring to leave behind.
    if SYS_KEYCTL is not None:
        libc.syscall(ctypes.c_long(SYS_KEYCTL), ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING), None)
    check(prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
