"""Model selection, llama-server's command line, the quiet build and the prompt layouts (no server
needed)."""

import ast
import os
import subprocess
from pathlib import Path

import pytest
from helpers import CACHE, SETTINGS, script_command

from qwen_humaneval import config, prompts, server
from qwen_humaneval.artifacts import ArtifactError
from qwen_humaneval.datasets import load_problems
from qwen_humaneval.llama_build import BuildError, run_logged
from qwen_humaneval.model_fetch import own_model, resolve


def test_every_pinned_model_is_complete_and_the_default_comes_first():
    assert (
        config.DEFAULT_MODEL == "qwen2.5-coder-1.5b-instruct"
        and config.DRAFT_MODEL in config.MODELS
    )
    for name, pin in config.MODELS.items():
        assert (
            pin.name == name
            and len(pin.sha256) == 64
            and pin.size > 0
            and "{n}" in pin.part_package
        )
    assert config.MODELS["qwen2.5-coder-0.5b-instruct"].sha256.startswith("1d9614638d18")


def test_unknown_model_and_bad_model_path_are_clear_errors(tmp_path):
    with pytest.raises(ArtifactError, match="unknown model 'qwen-9000'.*MODEL_PATH"):
        resolve(SETTINGS, "qwen-9000")
    with pytest.raises(ArtifactError, match="no such file"):
        own_model(tmp_path / "missing.gguf")
    not_gguf = tmp_path / "weights.bin"
    not_gguf.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ArtifactError, match="not a GGUF file"):
        own_model(not_gguf)


def test_a_gguf_of_ones_own_is_hashed_once_and_rehashed_when_it_changes(tmp_path):
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(b"GGUF" + b"\0" * 100)
    path, first = own_model(mine)
    assert path == mine and len(first) == 64 and (tmp_path / "mine.gguf.verified").exists()
    assert own_model(mine)[1] == first
    mine.write_bytes(b"GGUF" + b"\1" * 100)
    assert own_model(mine)[1] != first


def test_llama_command_names_the_draft_model_with_its_spec_type():
    common = dict(
        alias="qwen",
        host="127.0.0.1",
        port=1,
        slots=4,
        threads=2,
        ctx_per_slot=2048,
        flash_attn="off",
        ubatch_size=256,
        extra=["--foo"],
    )
    plain = server.llama_command(
        Path("llama-server"), Path("m.gguf"), spec="none", draft=None, **common
    )
    assert "--spec-type" not in plain and plain[-1] == "--foo"
    assert (
        plain[plain.index("--flash-attn") + 1] == "off"
        and plain[plain.index("--ctx-size") + 1] == "8192"
    )
    drafted = server.llama_command(
        Path("llama-server"), Path("m.gguf"), spec="draft", draft=Path("d.gguf"), **common
    )
    assert (
        drafted[drafted.index("--spec-type") + 1] == "draft-simple"
        and drafted[drafted.index("--model-draft") + 1] == "d.gguf"
    )
    ngram = server.llama_command(
        Path("llama-server"), Path("m.gguf"), spec="ngram-mod", draft=None, **common
    )
    assert ngram[ngram.index("--spec-type") + 1] == "ngram-mod" and "--model-draft" not in ngram


def test_the_build_shows_progress_and_keeps_its_output_in_the_log(tmp_path, capsys):
    log = tmp_path / "build.log"
    noisy = "for i in 1 2 3 4; do echo \"[$i/4] Building CXX object ggml$i.o\"; echo 'warning: x' ; done"
    run_logged(["bash", "-c", noisy], log, "compile")
    assert [line[:5] for line in log.read_text().splitlines() if line.startswith("[")] == [
        "[1/4]",
        "[2/4]",
        "[3/4]",
        "[4/4]",
    ]
    # only the progress bar reaches the terminal
    assert "Building CXX object" not in capsys.readouterr().out
    with pytest.raises(BuildError, match=f"compile failed \\(exit 3\\); full log: {log}") as error:
        run_logged(["bash", "-c", "echo 'error: no such header'; exit 3"], log, "compile")
    assert "error: no such header" in str(error.value)


def test_signature_layout_sends_the_problem_once_and_its_answers_complete_the_full_prompt():
    """For every HumanEval task: the prefill is the prompt's code up to the def line plus a one-line
    docstring, the problem appears once in the request, and a body written after that prefill,
    appended to the full prompt, is a valid program defining the entry point."""
    for task_id, problem in load_problems("humaneval", CACHE).items():
        prompt, entry_point = problem["prompt"], problem["entry_point"]
        messages, prefill = prompts.direct(prompt, "signature", entry_point)
        assert prefill.endswith(prompts.SIGNATURE_DOCSTRING) and f"def {entry_point}(" in prefill, (
            task_id
        )
        header = prefill.removeprefix("```python\n").removesuffix(prompts.SIGNATURE_DOCSTRING)
        assert prompt.startswith(header) and len(header) < len(prompt), task_id
        assert prompt.strip() in messages[-1]["content"]
        program = prompt + "    return None\n"
        tree = ast.parse(program)
        assert any(isinstance(n, ast.FunctionDef) and n.name == entry_point for n in tree.body), (
            task_id
        )
    twice = prompts.direct(prompt, "prefill", entry_point)
    assert len(twice[1]) > len(prefill)


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="unknown prompt style"):
        prompts.direct("def f():\n", "poetry", "f")


def test_the_command_line_takes_its_folders_and_model_from_the_environment(tmp_path):
    """The Makefile's variables reach the package only through the command line's Settings."""
    env = {
        **os.environ,
        "QHE_CACHE_DIR": str(tmp_path / "cache"),
        "MODEL_PATH": str(tmp_path / "mine.gguf"),
    }
    where = subprocess.run(
        script_command("build_llama_server.py", "--print-path"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(
        str(tmp_path / "cache" / "llama.cpp")
    ) and where.stdout.strip().endswith("llama-server")
    (tmp_path / "mine.gguf").write_bytes(b"GGUF" + b"\0" * 64)
    fetched = subprocess.run(
        script_command("fetch_model.py"), env=env, capture_output=True, text=True, check=True
    )
    assert f"model verified: {tmp_path / 'mine.gguf'}" in fetched.stdout
    (tmp_path / "mine.gguf").unlink()
    missing = subprocess.run(
        script_command("fetch_model.py"), env=env, capture_output=True, text=True
    )
    assert (
        missing.returncode == 1
        and "MODEL_PATH=" in missing.stderr
        and "Traceback" not in missing.stderr
    )
