"""seccomp: what Docker's default profile denies a container, and no new namespaces, for every
candidate. Stdlib only: runs inside the sandbox worker (`python -I`).
"""

import ctypes
import platform

from .kernel import check, libc

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
_AUDIT_ARCH_X86_64 = 0xC000003E
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
_NAMESPACE_FLAGS = 0x7E020080
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
SYSCALLS = (
    {name: nr for group in _DENIED_X86_64.values() for name, nr in group.items()}
    if platform.machine() == "x86_64"
    else None
)


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


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
    # After the head: one test per denied number (a match jumps to the EPERM return), then allow,
    # EPERM.
    body = [(jeq, len(denied) - i, 0, nr) for i, nr in enumerate(denied)]
    return head + body + [(ret, 0, 0, allow), (ret, 0, 0, eperm)]


def install_syscall_filter() -> bool:
    """Install the filter (needs no_new_privs, set by drop_privileges). False where it is not built
    (not x86-64)."""
    if SYSCALLS is None:
        return False
    program = _syscall_filter()
    filters = (_SockFilter * len(program))(*[_SockFilter(*instruction) for instruction in program])
    fprog = _SockFprog(len(program), filters)
    check(
        libc.prctl(
            PR_SET_SECCOMP,
            ctypes.c_ulong(SECCOMP_MODE_FILTER),
            ctypes.byref(fprog),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
        ),
        "seccomp",
    )
    return True
