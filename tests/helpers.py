"""What tests share besides fixtures: the settings the command line would build from this
environment, and scripts/ run as the Makefile runs them."""

import sys

from qwen_humaneval.config import REPO_ROOT
from qwen_humaneval.settings import Settings

SETTINGS = Settings.from_environ()
CACHE = SETTINGS.cache_dir  # datasets, expected outputs, models: shared with `make all`, as before


def script_command(name: str, *args, python: str | None = None) -> list[str]:
    """The command line that runs scripts/<name>, as the Makefile does."""
    return [python or sys.executable, str(REPO_ROOT / "scripts" / name), *map(str, args)]
