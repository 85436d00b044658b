"""Running this project's own scripts (scripts/*.py) as subprocesses, the way the Makefile does."""

import subprocess
import sys

from . import config

SCRIPTS_DIR = config.REPO_ROOT / "scripts"


def script_command(name: str, *args, python: str | None = None) -> list[str]:
    return [python or sys.executable, str(SCRIPTS_DIR / name), *map(str, args)]


def run_script(name: str, *args, env: dict | None = None, check: bool = True, python: str | None = None):
    """Run scripts/<name> with this interpreter (or python); raises CalledProcessError when check and it fails."""
    return subprocess.run(script_command(name, *args, python=python), env=env, check=check)
