"""Fine-tuning: the rejection filter with the real sandbox, and the whole LoRA -> GGUF ->
llama-server round trip on a tiny randomly initialised Qwen2-shaped model (real tokenizer, real
converter, quantizer and server).

The round trip needs .venv-finetune (`make finetune-venv`, part of `make test`), the 0.5B's GGUF
(for Qwen's tokenizer) and llama.cpp's tools; it takes about a minute here.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests
from helpers import CACHE, SETTINGS, script_command

from qwen_humaneval import config, prompts
from qwen_humaneval.evaluation import evaluate
from qwen_humaneval.finetune import finetune_python, select_examples, to_gguf, training_example

ROOT = Path(__file__).resolve().parent.parent

# An MBPP-shaped training problem, written here so that the filter test needs no dataset file.
PROBLEM = {
    "task_id": "Mbpp/9001",
    "entry_point": "square_sum",
    "prompt": '"""\nWrite a function to sum the squares of a list.\nYour code should pass these tests:\n'
    'assert square_sum([1, 2]) == 5\nassert square_sum([]) == 0\n"""\n',
    "canonical_solution": "def square_sum(xs):\n    return sum(x * x for x in xs)\n",
    "test": "assert square_sum([1, 2]) == 5\nassert square_sum([]) == 0\nassert square_sum([3]) == 9\n",
}
RIGHT = "def square_sum(xs):\n    return sum(x * x for x in xs)\n"
RIGHT_REFORMATTED = (
    "def square_sum(xs):\n    # the squares, added up\n    return sum(x*x for x in xs)\n"
)
RIGHT_OTHER = "def square_sum(xs):\n    total = 0\n    for x in xs:\n        total += x ** 2\n    return total\n"
WRONG = "def square_sum(xs):\n    return sum(xs) ** 2\n"  # passes the first shown assert only


def filtered(tmp_path, completions: list[str], per_task: int) -> list[dict]:
    samples = [
        {"task_id": PROBLEM["task_id"], "sample": n, "completion": c}
        for n, c in enumerate(completions)
    ]
    tmp_path.mkdir(exist_ok=True)
    solutions = tmp_path / "solutions.jsonl"
    solutions.write_text("".join(json.dumps(s) + "\n" for s in samples))
    problems = {PROBLEM["task_id"]: PROBLEM}
    results = evaluate(
        solutions,
        tmp_path / "results.jsonl",
        dataset="mbpp-train",
        problems=problems,
        selfcheck_cache=tmp_path / "selfcheck",
        cache_dir=CACHE,
    )
    return select_examples(problems, samples, results, per_task)


def test_only_passing_distinct_samples_are_kept(tmp_path):
    examples = filtered(tmp_path, [WRONG, RIGHT, RIGHT_REFORMATTED, RIGHT_OTHER], per_task=2)
    assert [e["target"] for e in examples] == [
        RIGHT + "```",
        RIGHT_OTHER + "```",
    ]  # the reformatted twin is dropped


def test_per_task_caps_and_nothing_passing_gives_nothing(tmp_path):
    assert len(filtered(tmp_path / "a", [RIGHT, RIGHT_OTHER], per_task=1)) == 1
    assert filtered(tmp_path / "b", [WRONG, WRONG.replace("** 2", "* 2")], per_task=2) == []


def test_a_training_example_is_the_request_the_student_will_get():
    example = training_example(PROBLEM, RIGHT)
    messages, prefill = prompts.direct(PROBLEM["prompt"], "prefill", PROBLEM["entry_point"])
    assert example["messages"] == messages and example["prefill"] == prefill
    # the answer closes the prefilled fence, as at generation time
    assert example["target"] == RIGHT + "```"


@pytest.mark.integration
def test_lora_then_gguf_then_served(tmp_path):
    try:
        python = finetune_python()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    from qwen_humaneval.model_fetch import ensure_model

    gguf = ensure_model(config.MODELS["qwen2.5-coder-0.5b-instruct"], SETTINGS)
    base = tmp_path / "tiny"
    subprocess.run(
        [python, str(ROOT / "tests" / "tiny_qwen2.py"), str(gguf), str(base)],
        check=True,
        capture_output=True,
    )
    data = tmp_path / "train.jsonl"
    data.write_text(
        "".join(
            json.dumps(training_example(PROBLEM, c)) + "\n"
            for c in (RIGHT, RIGHT_OTHER, RIGHT_REFORMATTED)
        )
    )
    merged = tmp_path / "merged"
    proc = subprocess.run(
        script_command(
            "train_lora.py",
            "--base",
            base,
            "--data",
            data,
            "--out",
            merged,
            "--max-steps",
            2,
            "--accumulation",
            2,
            python=python,
        ),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    training = json.loads((merged / "training.json").read_text())
    assert training["examples"] == 3 and training["steps"] == 2 and len(training["losses"]) == 2
    changed = subprocess.run(
        [
            python,
            "-c",
            (
                "import sys; from safetensors.torch import load_file as f; a, b = f(sys.argv[1]), "
                "f(sys.argv[2]); print(sum(int((a[k].float() - b[k].float()).abs().max() > 0) for "
                "k in a if k.endswith('proj.weight')), sum(k.endswith('proj.weight') for k in a))"
            ),
            str(base / "model.safetensors"),
            str(merged / "model.safetensors"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    moved, projections = map(int, changed.stdout.split())
    assert projections == 14 and moved > 0  # the merged LoRA deltas reached the weights

    quantized = to_gguf(merged, tmp_path / "tiny-q4_k_m.gguf", CACHE)
    assert (
        quantized.read_bytes()[:4] == b"GGUF" and not (tmp_path / "tiny-q4_k_m.f16.gguf").exists()
    )
    env = {**os.environ, "OUTPUT_DIR": str(tmp_path / "out"), "MODEL_PATH": str(quantized)}
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        script_command("start_server.py", "--port", port, "--slots", 1),
        env=env,
        check=True,
        capture_output=True,
    )
    try:
        reply = requests.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            timeout=60,
            json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
        ).json()
    finally:
        subprocess.run(script_command("stop_server.py"), env=env, check=True, capture_output=True)
    assert reply["model"] == "tiny-q4_k_m" and reply["usage"]["completion_tokens"] == 4
