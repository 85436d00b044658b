"""The real thing: llama-server built by `make setup`, the real Qwen GGUF, real HTTP, real sandbox.

Takes a few minutes on 2 cores. Runs in `make test`; `make test-unit` skips it.
"""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from helpers import CACHE, SETTINGS, script_command

from qwen_humaneval.strategies import STRATEGIES

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script(name: str, *args, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        script_command(name, *args), capture_output=True, text=True, env=env, timeout=900
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{name} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    out = tmp_path_factory.mktemp("output")
    port = free_port()
    env = {**os.environ, "OUTPUT_DIR": str(out)}
    script("start_server.py", "--port", port, "--slots", 2, env=env)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "port": port, "out": out, "env": env}
    finally:
        script("stop_server.py", env=env)


def test_serve_generate_evaluate_report(server):
    out, env = server["out"], server["env"]
    solutions, results = out / "solutions.jsonl", out / "results.jsonl"
    script("generate.py", "--base-url", server["url"], "--limit", 3, "--output", solutions, env=env)
    records = [json.loads(line) for line in solutions.read_text().splitlines()]
    assert [r["task_id"] for r in records] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    for r in records:
        assert r["completion"].strip(), r
        assert r["completion_tokens"] > 0 and r["prompt_tokens"] > 0 and r["latency"] > 0
        assert r["finish_reason"] in ("stop", "length")
    manifest = json.loads((out / "solutions.jsonl.manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert (
        manifest["server_launch"]["model_sha256"]
        == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    )
    assert manifest["settings"]["temperature"] == 0.0 and manifest["settings"]["seed"] == 1234

    script("evaluate.py", "--solutions", solutions, "--results", results, env=env)
    verdicts = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(verdicts) == 3
    evaluated = json.loads((out / "results.jsonl.manifest.json").read_text())
    assert (
        evaluated["settings"]["dataset"] == "humaneval" and evaluated["sandbox_layers"]["network"]
    )
    report = script("report.py", "--results", results, env=env).stdout
    passed = sum(v["passed"] for v in verdicts)
    assert f"Evaluation completed. Successful tasks: {passed}/3" in report
    assert passed >= 2, report  # these three are easy: the model solves them greedily


MBPPPLUS = ROOT.parent / "shared" / "data" / "mbppplus" / "MbppPlus-v0.1.0.jsonl"


def test_mbppplus_through_every_stage(server):
    """Three MBPP+ tasks: their own prompts, the program after them, EvalPlus's base and plus
    verdicts."""
    if not MBPPPLUS.exists():
        pytest.skip(
            "../shared/data/mbppplus is not beside this checkout (set MBPPPLUS_PATH to run MBPP+)"
        )
    out = server["out"] / "mbppplus"
    out.mkdir()
    env = {**server["env"], "MBPPPLUS_PATH": str(MBPPPLUS)}
    solutions, results = out / "solutions.jsonl", out / "results_mbppplus.jsonl"
    script(
        "generate.py",
        "--base-url",
        server["url"],
        "--dataset",
        "mbppplus",
        "--limit",
        3,
        "--output",
        solutions,
        env=env,
    )
    records = [json.loads(line) for line in solutions.read_text().splitlines()]
    assert [r["task_id"] for r in records] == ["Mbpp/2", "Mbpp/3", "Mbpp/4"]
    # the program, after the prompt's docstring
    assert "def similar_elements(" in records[0]["completion"]
    script(
        "evaluate.py",
        "--solutions",
        solutions,
        "--results",
        results,
        "--dataset",
        "mbppplus",
        env=env,
    )
    verdicts = [json.loads(line) for line in results.read_text().splitlines()]
    assert all("base_passed" in v for v in verdicts) and all(
        v["base_passed"] for v in verdicts if v["passed"]
    )
    report = script(
        "report.py",
        "--results",
        results,
        "--solutions",
        solutions,
        "--dataset",
        "mbppplus",
        env=env,
    )
    passed, base = sum(v["passed"] for v in verdicts), sum(v["base_passed"] for v in verdicts)
    assert (
        f"Successful tasks: {passed}/3" in report.stdout
        and f"MBPP+ base: {base}/3" in report.stdout
    )
    assert base >= 2, report.stdout  # easy ones: the model solves them greedily
    assert (out / "report_mbppplus.html").exists()


def test_resume_repairs_and_completes_without_duplicates(server):
    out, env = server["out"], server["env"]
    solutions = out / "resume.jsonl"
    script("generate.py", "--base-url", server["url"], "--limit", 2, "--output", solutions, env=env)
    first = solutions.read_text().splitlines()
    # A crash in the middle of writing the second record, then a rerun asking for 4 tasks.
    solutions.write_text(first[0] + "\n" + first[1][:40])
    manifest = out / "resume.jsonl.manifest.json"
    settings = json.loads(manifest.read_text())
    script("generate.py", "--base-url", server["url"], "--limit", 4, "--output", solutions, env=env)
    records = [json.loads(line) for line in solutions.read_text().splitlines()]
    assert [r["task_id"] for r in records] == [f"HumanEval/{i}" for i in range(4)]
    assert solutions.read_text().splitlines()[0] == first[0]  # kept, not regenerated
    # Regenerated with the same request seed. (The answer itself may differ: batching on a
    # multi-slot server changes the arithmetic; see Reproducibility in the README.)
    assert records[1]["seed"] == json.loads(first[1])["seed"] and records[1]["completion"].strip()
    assert settings["settings"]["strategy"] == "baseline"


def test_interrupted_run_keeps_its_time_for_the_resumed_total(server):
    out, env = server["out"], server["env"]
    solutions = out / "interrupted.jsonl"
    proc = subprocess.Popen(
        [
            *script_command("generate.py"),
            "--base-url",
            server["url"],
            "--limit",
            "6",
            "--concurrency",
            "1",
            "--output",
            str(solutions),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A suite started in the background inherits SIGINT ignored, and so would the child: Ctrl-C
        # as a terminal sends it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 120
    while time.time() < deadline and not (
        solutions.exists() and solutions.read_text().count("\n") >= 1
    ):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "run again to resume" in stderr
    stopped = json.loads((out / "interrupted.jsonl.manifest.json").read_text())
    kept = len(solutions.read_text().splitlines())
    assert stopped["status"] == "interrupted" and stopped["stats"]["samples"] == kept < 6
    assert stopped["stats"]["wall_seconds_total"] > 0
    script(
        "generate.py",
        "--base-url",
        server["url"],
        "--limit",
        6,
        "--concurrency",
        1,
        "--output",
        solutions,
        env=env,
    )
    finished = json.loads((out / "interrupted.jsonl.manifest.json").read_text())
    assert finished["status"] == "complete" and finished["stats"]["samples"] == 6
    expected_total = stopped["stats"]["wall_seconds_total"] + finished["stats"]["wall_seconds"]
    assert finished["stats"]["wall_seconds_total"] == pytest.approx(expected_total, abs=0.2)


def test_resume_with_other_settings_is_refused(server):
    out, env = server["out"], server["env"]
    solutions = out / "settings.jsonl"
    script("generate.py", "--base-url", server["url"], "--limit", 1, "--output", solutions, env=env)
    proc = script(
        "generate.py",
        "--base-url",
        server["url"],
        "--limit",
        1,
        "--output",
        solutions,
        "--temperature",
        0.5,
        env=env,
        check=False,
    )
    assert proc.returncode == 1 and "temperature: 0.0 -> 0.5" in proc.stderr
    assert len(solutions.read_text().splitlines()) == 1


def test_unreachable_server_is_a_clear_error(tmp_path):
    env = {**os.environ, "OUTPUT_DIR": str(tmp_path)}
    proc = script(
        "generate.py",
        "--base-url",
        f"http://127.0.0.1:{free_port()}",
        "--limit",
        1,
        "--output",
        tmp_path / "s.jsonl",
        env=env,
        check=False,
    )
    assert proc.returncode == 1
    assert "cannot reach an OpenAI-compatible server" in proc.stderr
    assert not (tmp_path / "s.jsonl").exists()


def test_port_in_use_is_refused(server, tmp_path):
    env = {**os.environ, "OUTPUT_DIR": str(tmp_path)}
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        proc = script("start_server.py", "--port", blocker.getsockname()[1], env=env, check=False)
    assert proc.returncode == 1 and "already in use" in proc.stderr


def leaked_lines(problem: dict, traffic: list[tuple[str, dict | str]]) -> list[str]:
    """Lines of the hidden tests or of the reference solution that appear in a request before the
    model wrote them itself. The model may write such a line on its own (`for _ in range(100):`
    in a Newton loop for HumanEval/32) and a strategy may show the model its own code again: that
    is no leak. A line sent before any answer carried it came from somewhere else."""
    secret = [
        line.strip()
        for line in (problem["test"] + "\n" + problem["canonical_solution"]).splitlines()
    ]
    secret = [
        line
        for line in secret
        if len(line) > 12
        and line not in problem["prompt"]
        and not line.startswith(("def check(candidate)", "METADATA", "'author'", "'dataset'"))
    ]
    written_by_model, leaked = "", []
    for kind, item in traffic:
        if kind == "received":
            written_by_model += "\n" + item
            continue
        sent = "\n".join(m["content"] for m in item["messages"])
        leaked += [
            line
            for line in secret
            if line in sent and line not in written_by_model and line not in leaked
        ]
    return leaked


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_strategies_run_and_never_send_hidden_tests(server, strategy, tmp_path):
    from qwen_humaneval.client import ChatClient
    from qwen_humaneval.datasets import load_problems
    from qwen_humaneval.extract import is_stub
    from qwen_humaneval.generation import generate
    from qwen_humaneval.strategies import Sampling

    problems = load_problems("humaneval", CACHE)
    # HumanEval/2: docstring examples give checks; HumanEval/32's prompt has a helper (poly) the
    # answer needs.
    subset = {t: problems[t] for t in ("HumanEval/2", "HumanEval/32")}
    client = ChatClient([server["url"]], "qwen2.5-coder-1.5b-instruct")
    client.record_traffic = True
    sampling = Sampling(max_tokens=400, candidates=2, codet_tests=3, repair_rounds=1)
    stats = generate(
        subset,
        client,
        tmp_path / "s.jsonl",
        strategy=strategy,
        sampling=sampling,
        concurrency=2,
        recorded={"strategy": strategy},
        cache_dir=CACHE,
    )
    assert stats["samples"] == 2
    for record in map(json.loads, (tmp_path / "s.jsonl").read_text().splitlines()):
        problem = subset[record["task_id"]]
        # cot once returned reasoning without code for HumanEval/2: every strategy must end with a
        # function.
        assert not is_stub(problem["prompt"], record["completion"], problem["entry_point"]), (
            strategy,
            record["raw"],
        )
    assert any(kind == "sent" for kind, _ in client.traffic), "no request recorded"
    for task_id, problem in subset.items():
        assert leaked_lines(problem, client.traffic) == [], (
            f"{strategy} sent hidden test code for {task_id}"
        )


def test_the_leak_audit_catches_what_the_model_did_not_write():
    """leaked_lines can fail: the hidden tests in a request are caught, unless and only after the
    model's own answer carried the same line (CI once failed on HumanEval/32's
    `for _ in range(100):`, written by the model in a Newton loop and shown to it again)."""
    from qwen_humaneval.datasets import load_problems

    problem = load_problems("humaneval", CACHE)["HumanEval/32"]
    line = "for _ in range(100):"
    assert line in problem["test"]
    request = {"messages": [{"role": "user", "content": f"Which is right?\n    {line}\n"}]}
    model_code = f"def find_zero(xs):\n    {line}\n        pass\n"
    assert leaked_lines(problem, [("sent", request)]) == [line]
    assert leaked_lines(problem, [("received", model_code), ("sent", request)]) == []
    assert leaked_lines(problem, [("sent", request), ("received", model_code)]) == [line]
    whole_test = {"messages": [{"role": "user", "content": problem["test"]}]}
    rest = leaked_lines(problem, [("received", model_code), ("sent", whole_test)])
    assert line not in rest and "rng = random.Random(42)" in rest


def test_samples_come_from_one_prefill_with_their_own_seeds(server):
    """SAMPLES>1: one request with `n` per task (split by the server's 2 slots), sample s drawn with
    seed + s, each a real independent sample: the server is asked for each and they differ."""
    out, env = server["out"], server["env"]
    solutions = out / "samples.jsonl"
    script(
        "generate.py",
        "--base-url",
        server["url"],
        "--limit",
        1,
        "--samples",
        4,
        "--temperature",
        1.0,
        "--output",
        solutions,
        env=env,
    )
    records = [json.loads(line) for line in solutions.read_text().splitlines()]
    assert [r["sample"] for r in records] == [0, 1, 2, 3]
    assert [r["seed"] - records[0]["seed"] for r in records] == [0, 1, 2, 3]
    # 2 slots: two requests of n=2; the prompt is counted on the first answer of each request
    assert sum(r["requests"] for r in records) == 2
    assert [r["prompt_tokens"] > 0 for r in records] == [True, False, True, False]
    assert all(r["completion_tokens"] > 0 for r in records)
    assert len({r["raw"] for r in records}) > 1, (
        "four samples at temperature 1.0 came back identical"
    )
    manifest = json.loads((out / "samples.jsonl.manifest.json").read_text())
    assert manifest["settings"]["one_prefill"] is True


def test_the_small_model_and_a_gguf_of_ones_own(tmp_path):
    """MODEL=qwen2.5-coder-0.5b-instruct serves the pinned 0.5B; MODEL_PATH serves any GGUF (hashed,
    recorded)."""
    from qwen_humaneval import config

    pin = config.MODELS["qwen2.5-coder-0.5b-instruct"]
    small = {**os.environ, "OUTPUT_DIR": str(tmp_path / "small"), "MODEL": pin.name}
    script("fetch_model.py", env=small)
    own = tmp_path / "mine.gguf"
    own.symlink_to(SETTINGS.model_file(pin))
    for env, name in (
        (small, pin.name),
        ({**os.environ, "OUTPUT_DIR": str(tmp_path / "own"), "MODEL_PATH": str(own)}, "mine"),
    ):
        port = free_port()
        script("start_server.py", "--port", port, "--slots", 1, env=env)
        try:
            script(
                "generate.py",
                "--base-url",
                f"http://127.0.0.1:{port}",
                "--limit",
                1,
                "--output",
                Path(env["OUTPUT_DIR"]) / "s.jsonl",
                env=env,
            )
        finally:
            script("stop_server.py", env=env)
        manifest = json.loads((Path(env["OUTPUT_DIR"]) / "s.jsonl.manifest.json").read_text())
        assert manifest["server_launch"]["model_sha256"] == pin.sha256
        assert manifest["settings"]["model"] == name and manifest["servers"][0]["models"] == [name]
    proc = script(
        "start_server.py",
        "--port",
        free_port(),
        env={**os.environ, "OUTPUT_DIR": str(tmp_path), "MODEL_PATH": str(tmp_path / "s")},
        check=False,
    )
    assert proc.returncode == 1 and "no such file" in proc.stderr


def test_speculative_decoding_with_the_draft_model(tmp_path):
    """--spec draft: this llama.cpp ignores -md unless --spec-type names a draft; the log shows it
    drafting."""
    env = {**os.environ, "OUTPUT_DIR": str(tmp_path)}
    port = free_port()
    script("start_server.py", "--port", port, "--slots", 1, "--spec", "draft", env=env)
    try:
        script(
            "generate.py",
            "--base-url",
            f"http://127.0.0.1:{port}",
            "--limit",
            1,
            "--output",
            tmp_path / "s.jsonl",
            env=env,
        )
    finally:
        script("stop_server.py", env=env)
    launch = json.loads((tmp_path / "server.json").read_text())
    assert launch["spec"] == "draft" and launch["draft_file"].endswith(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    )
    assert "draft acceptance" in (tmp_path / "server.log").read_text()
