"""Running one of this package's modules with another interpreter: the fine-tuning and vLLM
environments have torch and transformers, which the main environment does not."""

import os
import subprocess
import sys

from . import config


def run_module(module: str, *args, python: str | None = None) -> None:
    """python -m qwen_humaneval.<module> args, finding this package in the checkout whatever the
    interpreter; raises CalledProcessError when it fails."""
    paths = [str(config.REPO_ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    subprocess.run(
        [python or sys.executable, "-m", f"qwen_humaneval.{module}", *map(str, args)],
        env=env,
        check=True,
    )
