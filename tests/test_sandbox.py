"""Containment: every attack here runs for real in the sandbox; nothing is mocked.

Each attack is written so that it would pass if it worked: a verdict of "failed" (or a host left
untouched) is the proof that it did not.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import CACHE
from sandbox_helpers import MODES, TIMEOUT, fresh_tmp, judged, run, script

from qwen_humaneval.sandbox.pool import SandboxPool


def test_layers_reported_active(pool):
    for layer in (
        "network",
        "read_only_mounts",
        "pid_namespace",
        "minimal_root",
        "drop_privileges",
    ):
        assert pool.layers[layer], layer


def test_pass_and_fail(pool):
    assert run(pool, "assert 1 + 1 == 2")["result"] == "passed"
    assert run(pool, "assert 1 + 1 == 3, 'math'")["result"] == "failed: AssertionError: math"
    assert run(pool, "def f(:\n  pass")["result"].startswith("failed: SyntaxError")


@pytest.mark.parametrize(
    "program",
    [
        "while True: pass",
        "import time\ntime.sleep(60)",
        "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nsignal.alarm(0)\ntime.sleep(60)",
        "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.setitimer(signal.ITIMER_REAL, 0)\nwhile True: pass",
    ],
)
def test_timeouts_are_enforced_from_outside(pool, program):
    start = time.monotonic()
    verdict = run(pool, program)
    assert verdict["result"] == "timed out"
    assert time.monotonic() - start < TIMEOUT + 1.5


@pytest.mark.parametrize(
    "program, expected",
    [
        ("import sys\nsys.exit(0)", "failed: SystemExit"),
        ("import os\nos._exit(0)", "failed: exited with code 0"),
        ("raise KeyboardInterrupt", "failed: KeyboardInterrupt"),
        ("raise SystemExit", "failed: SystemExit"),
    ],
)
def test_exits_are_failures_never_passes(pool, program, expected):
    assert run(pool, program + "\nassert False")["result"].startswith(expected)
    assert run(pool, program)["result"].startswith(expected)


def test_memory_cap_holds_even_when_code_lifts_it(pool):
    big = "x = bytearray(3 << 30)"
    assert run(pool, big)["result"] == "failed: MemoryError"
    lift = (
        "import resource\ntry:\n    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "except (ValueError, OSError):\n    pass\n" + big
    )
    assert run(pool, lift)["result"] == "failed: MemoryError"


def test_segfault_from_deep_recursion_is_a_failure_and_the_pool_goes_on(pool):
    program = "import sys\nsys.setrecursionlimit(10**7)\ndef r(n):\n    return sorted([1, 2], key=lambda x: r(n + 1))\nr(0)"
    verdict = run(pool, program, timeout=10)
    assert verdict["result"] == "failed: killed by signal SIGSEGV"
    assert run(pool, "assert True")["result"] == "passed"


@pytest.mark.parametrize(
    "attack",
    [
        "import os\nos.kill(os.getppid(), 9)",
        "import os\nos.killpg(os.getpgid(0), 9)",
        "import os\nos.kill(0, 9)",
        "import os\nos.kill(-1, 9)",
        "import posix\nposix.kill(posix.getppid(), 9)",
        "import os\nfor p in os.listdir('/proc'):\n    if p.isdigit():\n        try:\n            os.kill(int(p), 9)\n        except OSError:\n            pass",
        "import os, signal\nos.kill(1, signal.SIGKILL)",
    ],
)
def test_killing_parent_group_or_worker_loses_nothing(pool, attack):
    """The sample's own verdict reflects its own tests; the run goes on and every verdict
    arrives."""
    jobs = [
        (i, script(attack + "\nassert False, 'wrong'" if i == 1 else f"assert {i} == {i}"))
        for i in range(6)
    ]
    verdicts = dict(pool.run(jobs, timeout=TIMEOUT))
    assert sorted(verdicts) == list(range(6))
    assert verdicts[1]["result"] != "passed"
    assert all(verdicts[i]["result"] == "passed" for i in (0, 2, 3, 4, 5))


def test_evaluator_survives_parent_kill_attack(tmp_path):
    """A pool of workers, a killer among ordinary samples: the evaluator itself must live on."""
    with SandboxPool(1, CACHE) as p:
        worker_pids = [proc.pid for proc, _ in p._procs]
        jobs = [
            ("a", script("import os\nos.kill(os.getppid(), 9)\nos.killpg(0, 9)")),
            ("b", script("assert True")),
        ]
        verdicts = list(p.run(jobs, timeout=TIMEOUT))
        assert len(verdicts) == 2
        assert all(Path(f"/proc/{pid}").exists() for pid in worker_pids)
        assert dict(verdicts)["b"]["result"] == "passed"


def _pids_named(marker: str) -> list[int]:
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{p}/cmdline").read_bytes():
                    found.append(int(p))
            except OSError:
                pass
    return found


EVALUATOR = """
import sys
from pathlib import Path
from qwen_humaneval.sandbox.pool import SandboxPool
from sandbox_helpers import script
with SandboxPool(1, Path(sys.argv[1])) as pool:
    print(pool._base, [proc.pid for proc, _ in pool._procs][0], flush=True)
    pool.execute(script("while True:\\n    pass"), 600)
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("killed", ["evaluator", "worker"])
def test_nothing_runs_on_after_the_evaluator_or_its_worker_is_killed(killed, mode):
    """An evaluator killed mid-job (Ctrl-C twice, the OOM killer, `kill -9`) or a worker killed
    under it leaves no sandbox process behind: once a candidate in an endless loop kept a core busy
    for 11 minutes after its evaluator was killed (setuid had cleared its parent-death signal, and
    the worker waited out the job's deadline for nobody)."""
    evaluator = subprocess.Popen(
        [sys.executable, "-c", EVALUATOR, str(CACHE)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent,
        env={
            **os.environ,
            "PYTHONPATH": str(Path(__file__).parent),
            "QHE_SANDBOX_USERNS": "1" if mode == "user-namespace" else "",
        },
    )
    base, worker = evaluator.stdout.readline().split()
    try:
        deadline = time.monotonic() + 30
        while len(_pids_named(base)) < 4 and time.monotonic() < deadline:  # worker, zygote, judge,
            time.sleep(0.2)  # candidate
        assert len(_pids_named(base)) >= 4, "the endless job never started"
        time.sleep(1)
        running = set(_pids_named(base))
        os.kill(evaluator.pid if killed == "evaluator" else int(worker), 9)
        # (a killed worker is replaced by the evaluator: its new processes may run)
        deadline = time.monotonic() + 15
        while running & set(_pids_named(base)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert running & set(_pids_named(base)) == set()
    finally:
        evaluator.kill()
        evaluator.wait()
        for pid in _pids_named(base):
            os.kill(pid, 9)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize(
    "spawn",
    [
        "import subprocess\nsubprocess.Popen(['sleep', '{marker}'], start_new_session=True)",
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.execvp('sleep', ['sleep', '{marker}'])\n    os._exit(0)\ntime.sleep(0.2)",
        "import os\npid = os.fork()\nif pid == 0:\n    os.execvp('sleep', ['sleep', '{marker}'])",
    ],
)
def test_children_grandchildren_and_daemons_are_gone(pool, spawn):
    marker = f"{7000 + os.getpid() % 1000}.{len(spawn)}"
    verdict = run(pool, spawn.format(marker=marker))
    assert verdict["result"] == "passed"
    assert _pids_named(f"sleep\0{marker}") == []


def test_children_die_on_timeout_too(pool):
    marker = "6123.5"
    verdict = run(
        pool,
        f"import subprocess, time\nsubprocess.Popen(['sleep', '{marker}'], start_new_session=True)\ntime.sleep(60)",
    )
    assert verdict["result"] == "timed out"
    assert _pids_named(f"sleep\0{marker}") == []


def test_no_network_not_even_loopback(pool):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    accepted = []
    listener.settimeout(3)

    def accept():
        try:
            accepted.append(listener.accept())
        except OSError:
            pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    program = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\ns.sendall(b'hi')"
    verdict = run(pool, program)
    t.join(4)
    listener.close()
    assert verdict["result"].startswith("failed: OSError") or verdict["result"].startswith(
        "failed: ConnectionRefused"
    )
    assert accepted == []


def test_no_writes_outside_scratch(pool, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("original")
    os.chmod(tmp_path, 0o777)  # even a world-writable directory is out of reach
    attacks = [
        f"open({str(victim)!r}, 'w').write('pwned')",
        f"import os\nos.chmod({str(victim)!r}, 0o777)",
        f"import os\nos.remove({str(victim)!r})",
        f"open({str(tmp_path / 'new.txt')!r}, 'w').write('x')",
        f"import shutil\nshutil.rmtree({str(tmp_path)!r})",
        "open('/root/.qhe_pwned', 'w').write('x')",
    ]
    for attack in attacks:
        assert run(pool, attack)["result"].startswith("failed:"), attack
    assert victim.read_text() == "original"
    assert oct(victim.stat().st_mode & 0o777) != oct(0o777)
    assert not (tmp_path / "new.txt").exists()
    assert not Path("/root/.qhe_pwned").exists()


def test_scratch_dir_is_writable_and_private(pool):
    program = "open('notes.txt', 'w').write('hello')\nassert open('notes.txt').read() == 'hello'"
    assert run(pool, program)["result"] == "passed"
    # the next sample gets a fresh, empty directory
    assert (
        run(
            pool, f"import os\nassert sorted(os.listdir('.')) == {fresh_tmp(pool)}, os.listdir('.')"
        )["result"]
        == "passed"
    )


def test_output_flood_is_discarded(pool):
    program = "import sys\nfor _ in range(20000):\n    sys.stdout.write('x' * 10000)\n    sys.stderr.write('y' * 10000)"
    verdict = run(pool, program, timeout=10)
    assert verdict["result"] == "passed"


WITHOUT_NAMESPACES = ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin"]
UNSANDBOXED_RUN = """
from qwen_humaneval.sandbox.pool import SandboxPool
from qwen_humaneval.settings import Settings
jobs = [(name, {"kind": "script", "solution": code}) for name, code in (("a", "assert 1 + 1 == 2"), ("b", "assert 1 + 1 == 3"))]
with SandboxPool(1, Settings.from_environ().cache_dir) as pool:
    for _, verdict in pool.run(jobs, timeout=5):
        print(verdict["result"])
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="needs root and setpriv to take CAP_SYS_ADMIN away",
)
@pytest.mark.parametrize("mode", ["refused", "allowed unsandboxed", "user namespace"])
def test_without_cap_sys_admin(mode):
    """A root process without CAP_SYS_ADMIN cannot create namespaces as root: the evaluator refuses
    to run unprotected, unless told to (QHE_ALLOW_UNSANDBOXED), or sandboxes in a user namespace
    (QHE_SANDBOX_USERNS)."""
    env = {
        **os.environ,
        "QHE_ALLOW_UNSANDBOXED": "1" if mode == "allowed unsandboxed" else "",
        "QHE_SANDBOX_USERNS": "1" if mode == "user namespace" else "",
    }
    proc = subprocess.run(
        [*WITHOUT_NAMESPACES, sys.executable, "-c", UNSANDBOXED_RUN],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if mode == "refused":
        assert proc.returncode != 0 and "cannot sandbox evaluations here" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split("\n")[:2] == ["passed", "failed: AssertionError"], proc.stdout


# --------------------------------------------------------------------------- the judge out of reach
DOUBLE = "def f(x):\n    return x * 2\n"
SECRET_TEST = "def check(candidate):\n    assert candidate(21) == 42, 'SECRET-7f3a'\n\ncheck(f)\n"

FIND_SECRET = '''
import gc, sys

def _search():
    """Every string reachable by introspection: frames up the stack and in every thread, gc, fds."""
    seen = []
    frame = sys._getframe()
    while frame is not None:
        seen += [repr(frame.f_locals), repr(frame.f_globals.keys()), frame.f_code.co_filename]
        frame = frame.f_back
    for frame in sys._current_frames().values():
        while frame is not None:
            seen.append(repr(frame.f_locals))
            frame = frame.f_back
    for obj in gc.get_objects():
        try:
            seen.append(repr(obj)[:10000])
        except Exception:
            pass
    import os
    for fd in range(0, 256):
        try:
            os.set_blocking(fd, False)
            seen.append(os.read(fd, 65536).decode(errors="replace"))
        except OSError:
            pass
        try:
            os.set_blocking(fd, True)
        except OSError:
            pass
    return "\\n".join(seen)


def f(x):
    text = _search()
    # Joined here, after the search, so that the markers are not constants of this very code.
    for marker in ("".join(["SECRET-", "7f3a"]), "".join(["{marker_head}", "{marker_tail}"])):
        if marker in text:
            return x * 2  # the right answer, but only if the test was found
    return None
'''


def finder(head: str, tail: str) -> str:
    return FIND_SECRET.replace("{marker_head}", head).replace("{marker_tail}", tail)


def test_honest_solution_passes_and_wrong_one_fails(pool):
    assert run(pool, judged(DOUBLE, SECRET_TEST))["result"] == "passed"
    assert (
        run(pool, judged("def f(x):\n    return x + 2\n", SECRET_TEST))["result"]
        == "failed: AssertionError: SECRET-7f3a"
    )


def test_candidate_cannot_find_the_hidden_tests_by_introspection(pool):
    """Frame walking, sys._current_frames, gc and reading every fd: the tests are not in its
    process."""
    verdict = run(pool, judged(finder("check(candid", "ate)"), SECRET_TEST), timeout=10)
    assert verdict["result"] == "failed: AssertionError: SECRET-7f3a"


def test_the_search_finds_a_secret_that_is_in_its_process(pool):
    """Control for the two tests around it: the same search does find what its own process holds."""
    solution = finder("check(candid", "ate)") + "\n_kept = ''.join(['SECRET-', '7f3a'])\n"
    assert run(pool, judged(solution, SECRET_TEST), timeout=10)["result"] == "passed"


def plus_job(
    folder: Path, solution: str, inputs: list, outputs: list, times: list | None = None
) -> dict:
    """A HumanEval+ job whose expected outputs the judge reads from a file, as jobs.ExpectedOutputs
    writes it."""
    import marshal

    path = folder / f"expected-{len(list(folder.glob('expected-*')))}.marshal"
    data = {
        "inputs": [marshal.dumps(i) for i in inputs],
        "outputs": [marshal.dumps(o) for o in outputs],
        "times": times or [0.001] * len(inputs),
    }
    path.write_bytes(marshal.dumps(data))
    return {
        "kind": "plus",
        "solution": solution,
        "entry_point": "f",
        "atol": 0.0,
        "expected_file": str(path),
        "time_factor": 4.0,
        "min_time": 1.0,
    }


def test_candidate_cannot_find_the_expected_outputs(pool, tmp_path):
    """HumanEval+: the expected outputs (here a secret string) live in the judge, never in the
    candidate."""
    solution = finder("OUT-91", "c2").replace(
        "return x * 2", "return ''.join(['OUT-91', 'c2-', str(x)])"
    )
    job = plus_job(
        tmp_path, solution, [[1], [2]], [{"value": "OUT-91c2-1"}, {"value": "OUT-91c2-2"}]
    )
    assert (
        run(pool, job, timeout=10)["result"]
        == "failed: AssertionError: input #0: expected 'OUT-91c2-1', got None"
    )
    honest = {**job, "solution": "def f(x):\n    return 'OUT-91c2-' + str(x)\n"}
    assert run(pool, honest)["result"] == "passed"


def test_reference_solution_runs_in_a_process_of_its_own(pool, tmp_path):
    """The reference's outputs come from an 'outputs' job; a later candidate finds no trace of
    them."""
    from qwen_humaneval.sandbox import wire

    reference = {
        "kind": "outputs",
        "solution": "def f(x):\n    return 'REF-55d0-' + str(x)\n",
        "entry_point": "f",
        "inputs": wire.encode_value([[1], [2]]),
    }
    verdict = run(pool, reference)
    outputs = [{"value": wire.decode_value(o["value"])} for o in verdict["outputs"]]
    assert (
        outputs == [{"value": "REF-55d0-1"}, {"value": "REF-55d0-2"}] and len(verdict["times"]) == 2
    )
    solution = finder("REF-55", "d0").replace(
        "return x * 2", "return ''.join(['REF-55', 'd0-', str(x)])"
    )
    job = plus_job(tmp_path, solution, [[1], [2]], outputs, verdict["times"])
    assert run(pool, job, timeout=10)["result"].startswith("failed: AssertionError: input #0")


def test_an_output_too_large_to_travel_is_compared_by_its_digest(pool, tmp_path):
    """Mbpp/255's shape: an output of more than a million parts comes back as a digest, from the
    reference and from the candidate; the same output passes, a different one or another type fails,
    and base_passed says how far it got."""
    from qwen_humaneval.sandbox import wire

    big = "def f(n):\n    return [(i, 'x') for i in range(n)]\n"
    reference = {
        "kind": "outputs",
        "solution": big,
        "entry_point": "f",
        "inputs": wire.encode_value([[3], [600_000]]),
    }
    reference["project"] = "digest_if_large"
    verdict = run(pool, reference, timeout=60)
    assert "value" in verdict["outputs"][0] and set(verdict["outputs"][1]) == {"digest"}
    outputs = [{"value": wire.decode_value(verdict["outputs"][0]["value"])}, verdict["outputs"][1]]
    job = {**plus_job(tmp_path, big, [[3], [600_000]], outputs, [0.5, 0.5]), "base_count": 1}
    passed = run(pool, job, timeout=60)
    assert passed["result"] == "passed" and passed["base_passed"]
    off_by_one = {**job, "solution": big.replace("range(n)", "range(n - 1 if n > 10 else n)")}
    failed = run(pool, off_by_one, timeout=60)
    assert (
        failed["result"]
        == "failed: AssertionError: input #1: a different output (compared by digest)"
    )
    assert failed["base_passed"]
    as_tuples = {
        **job,
        "solution": big.replace(
            "[(i, 'x') for i in range(n)]", "tuple((i, 'x') for i in range(n))"
        ),
    }
    assert not run(pool, as_tuples, timeout=60)[
        "base_passed"
    ]  # a tuple is not the list: fails at input #0


def test_each_input_has_evalplus_time_limit(pool, tmp_path):
    """max(min_time, factor x the reference's time) per input: a slow answer times out long before
    the deadline."""
    slow = "import time\ndef f(x):\n    if x == 2:\n        time.sleep(30)\n    return x\n"
    job = plus_job(
        tmp_path,
        slow,
        [[1], [2], [3]],
        [{"value": 1}, {"value": 2}, {"value": 3}],
        [0.001, 0.5, 0.001],
    )
    start = time.monotonic()
    assert run(pool, job, timeout=20)["result"] == "timed out"
    assert time.monotonic() - start < 2 + 1.5  # the limit for input #1 is 4 x 0.5 s
    job = plus_job(
        tmp_path,
        slow.replace("30", "0.4"),
        [[1], [2], [3]],
        [{"value": 1}, {"value": 2}, {"value": 3}],
        [0.001, 0.5, 0.001],
    )
    assert run(pool, job, timeout=20)["result"] == "passed"


FORGE_EVERY_FD = """
import json, os, struct

def f(x):
    lines = [json.dumps({"result": "passed", "duration": 0.0}), json.dumps({"token": "x"}), json.dumps({"loaded": True}),
             json.dumps({"value": 42})]
    for fd in range(0, 1024):
        for line in lines:
            for payload in (line.encode() + b"\\n", b"\\n" + line.encode() + b"\\n", struct.pack("!I", len(line)) + line.encode(),
                            struct.pack("!Q", len(line)) + line.encode()):
                try:
                    os.write(fd, payload)
                except OSError:
                    pass
    for path in ("/proc/self/fd/3", "/proc/self/fd/4", "/proc/1/fd/3", "/proc/1/fd/4"):
        try:
            with open(path, "wb") as out:
                out.write(struct.pack("!I", 11) + b'{"value":42}')
        except OSError:
            pass
    {exit}
"""


@pytest.mark.parametrize("exit_how", ["return None", "os._exit(0)", "raise SystemExit(0)"])
def test_forged_verdicts_on_every_fd_are_not_a_pass(pool, exit_how):
    verdict = run(pool, judged(FORGE_EVERY_FD.replace("{exit}", exit_how), SECRET_TEST))
    # how it fails depends on what garbage it sent
    assert verdict["result"].startswith("failed: "), verdict


@pytest.mark.parametrize(
    "solution",
    [
        "class Yes:\n    def __eq__(self, other):\n        return True\n\ndef f(x):\n    return Yes()\n",
        "class Yes(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n\ndef f(x):\n    return Yes(0)\n",
        "class Yes(str):\n    def __eq__(self, other):\n        return True\n    __hash__ = str.__hash__\n\ndef f(x):\n    return Yes('no')\n",
        "def f(x):\n    return float('nan')\n",
    ],
)
def test_objects_that_equal_anything_arrive_as_plain_data(pool, solution):
    """The judge receives builtin values only: an __eq__ written by the candidate never runs in the
    judge."""
    assert run(pool, judged(solution, SECRET_TEST))["result"].startswith("failed:")


def test_candidate_exceptions_keep_their_class_name_and_message(pool):
    solution = "class Mine(Exception):\n    pass\n\ndef f(x):\n    if x > 0:\n        raise ValueError('negative only')\n    raise Mine('custom')\n"
    test = "def check(c):\n    try:\n        c(1)\n    except ValueError as e:\n        assert str(e) == 'negative only'\n    c(-1)\n\ncheck(f)\n"
    assert run(pool, judged(solution, test))["result"] == "failed: Mine: custom"
    assert (
        run(pool, judged("def f(x):\n    return {}[x]\n", "f(5)\n"))["result"]
        == "failed: KeyError: 5"
    )


def test_types_survive_the_proxy(pool):
    """int vs float vs bool, tuple vs list, sets, dicts, None and big ints reach the tests as they
    were returned."""
    solution = (
        "def f(kind):\n    return {'int': 1, 'float': 1.0, 'bool': True, 'tuple': (1, [2]), 'list': [1, (2,)], "
        "'set': {1, 2}, 'dict': {(1, 2): None}, 'big': 3 ** 200, 'none': None, 'inf': float('-inf')}[kind]\n"
    )
    test = (
        "def check(c):\n    assert type(c('int')) is int and type(c('float')) is float and "
        "c('bool') is True\n    assert c('tuple') == (1, [2]) and c('list') == [1, (2,)] and "
        "c('tuple') != [1, [2]]\n    assert c('set') == {1, 2} and c('dict') == {(1, 2): None} and "
        "c('big') == 3 ** 200\n    assert c('none') is None and c('inf') == "
        "float('-inf')\n\ncheck(f)\n"
    )
    assert run(pool, judged(solution, test))["result"] == "passed"


def test_test_helpers_come_from_the_prompt_not_the_candidate(pool):
    """HumanEval/38-style: the test calls a helper the prompt defines; a solution redefining it does
    not change it."""
    prompt = "def encode(s):\n    return s[::-1]\n\ndef decode(s):\n    '''Undo encode.'''\n"
    test = "def check(candidate):\n    assert candidate(encode('abc')) == 'abc'\n\ncheck(decode)\n"
    honest = prompt + "    return s[::-1]\n"
    cheat = "def encode(s):\n    return s\n\ndef decode(s):\n    return s\n"
    assert (
        run(pool, judged(honest, test, entry_point="decode", prompt=prompt))["result"] == "passed"
    )
    assert run(pool, judged(cheat, test, entry_point="decode", prompt=prompt))["result"].startswith(
        "failed: AssertionError"
    )


# --------------------------------------------------------------------- nothing of the host in reach
def test_filesystem_unix_socket_of_the_host_is_out_of_reach(pool, tmp_path):
    os.chmod(tmp_path, 0o777)
    path = str(tmp_path / "agent.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o777)
    listener.listen(5)
    listener.settimeout(3)
    for where in (path, "/tmp/" + os.path.basename(str(tmp_path)) + "/agent.sock"):
        program = f"import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({where!r})\ns.sendall(b'hi')"
        assert run(pool, program)["result"].startswith("failed: FileNotFoundError"), where
    with pytest.raises(OSError):
        listener.accept()
    listener.close()


def test_abstract_unix_socket_of_the_host_is_out_of_reach(pool):
    name = f"\0qhe-test-{os.getpid()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(name)
    listener.listen(5)
    listener.settimeout(3)
    program = (
        f"import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({name!r})\ns.sendall(b'hi')"
    )
    assert run(pool, program)["result"].startswith("failed: ConnectionRefusedError")
    with pytest.raises(OSError):
        listener.accept()
    listener.close()


def test_no_host_tmp_run_shm_or_home(pool):
    """/tmp and /dev/shm are the candidate's own, fresh and empty: what it writes there never
    reaches the host's."""
    marker = Path(f"/dev/shm/qhe-{os.getpid()}")
    program = (
        "import os\nassert not os.path.exists('/run') and not os.path.exists('/var') and not "
        "os.path.exists('/home')\nassert not os.path.exists('/etc') and os.listdir('/dev/shm') == "
        f"[]\nassert sorted(os.listdir('/tmp')) == {fresh_tmp(pool)} and os.getcwd() == "
        "'/tmp'\nassert sorted(os.listdir('/dev')) == ['fd', 'full', 'null', 'random', 'shm', "
        f"'stderr', 'stdin', 'stdout', 'urandom', 'zero']\nopen({str(marker)!r}, 'w').write('x')\n"
    )
    assert run(pool, program)["result"] == "passed"
    assert not marker.exists()


def test_private_proc_shows_only_the_candidates_own_processes(pool):
    program = (
        "import os, subprocess\nchild = subprocess.Popen(['sleep', '5'])\npids = sorted(int(p) "
        "for p in os.listdir('/proc') if p.isdigit())\nassert pids == [1, child.pid], "
        "pids\nassert open('/proc/1/cmdline').read() != ''\nassert os.getuid() "
        f"{'>=' if pool.layers['root'] else '=='} "
        f"{1 << 30 if pool.layers['root'] else os.getuid()}\nstatus = "
        "open('/proc/self/status').read()\nassert 'CapEff:\\t0000000000000000' in status and "
        "'CapBnd:\\t0000000000000000' in status, status\nassert 'NoNewPrivs:\\t1' in status\n"
    )
    assert run(pool, program)["result"] == "passed"


def test_no_privileges_left(pool):
    """No capabilities: mounting, chroot, chown and setuid all fail, in both modes."""
    program = (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nassert libc.mount(b'tmpfs', "
        "b'/tmp', b'tmpfs', 0, None) != 0\nfor attempt in (lambda: os.chroot('/tmp'), lambda: "
        "os.chown('/tmp', 123, 123), lambda: os.setuid(123)):\n    try:\n        attempt()\n    "
        "except OSError:\n        pass\n    else:\n        raise AssertionError('a privileged call "
        "worked')\n"
    )
    assert run(pool, program)["result"] == "passed"


def test_no_new_namespaces_but_processes_and_threads_work(pool):
    """A seccomp filter: unshare, setns and clone with a namespace flag fail (so no user namespace
    of its own, with capabilities inside), while fork, threads and subprocesses still work."""
    program = (
        "import ctypes, os, subprocess, threading\nlibc = ctypes.CDLL(None, use_errno=True)\nfor "
        "flags in (0x10000000, 0x00020000, 0x40000000, 0x20000000, 0x10000000 | 0x00020000, "
        "0x00000080):\n    assert libc.unshare(flags) != 0 and ctypes.get_errno() == 1, "
        "flags\nassert libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0) == -1 and ctypes.get_errno() "
        "== 1\nassert libc.setns(0, 0) == -1\ndone = []\nt = threading.Thread(target=lambda: "
        "done.append(1))\nt.start()\nt.join()\nassert done == [1]\nassert "
        "subprocess.run(['true']).returncode == 0\npid = os.fork()\nif pid == 0:\n    "
        "os._exit(7)\nassert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 7\n"
    )
    assert run(pool, program)["result"] == "passed"


def test_root_is_read_only_and_python_works(pool):
    program = (
        "import os, sys, json, subprocess\nfor path in ('/usr/qhe', '/qhe', sys.prefix + '/qhe', "
        "'/dev/qhe'):\n    try:\n        open(path, 'w')\n    except OSError:\n        pass\n    "
        "else:\n        raise AssertionError(path + ' is writable')\nassert "
        "subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True, "
        "text=True).stdout == '42\\n'\n"
    )
    assert run(pool, program, timeout=10)["result"] == "passed"


def test_works_from_a_python_installed_under_tmp(tmp_path):
    """A checkout (and its .venv) under /tmp: each candidate's fresh /tmp must not hide the
    interpreter."""
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "qhe.pth").write_text(str(Path(__file__).resolve().parent.parent) + "\n")
    program = UNSANDBOXED_RUN.replace(
        '"assert 1 + 1 == 2"', "\"import sys, json; assert sys.prefix.startswith('/tmp/')\""
    )
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QHE_ALLOW_UNSANDBOXED": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["passed", "failed: AssertionError"], (
        proc.stdout + proc.stderr
    )
