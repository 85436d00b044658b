"""The command line: one module per stage, each a `main()` that parses its arguments and calls one
function of the package. scripts/<name>.py and the console scripts in pyproject.toml both run these.
"""

import functools
import subprocess
import sys

from ..artifacts import ArtifactError
from ..client import ServerError
from ..jsonl_io import InputError
from ..sandbox.pool import SandboxError
from ..server import ServerStartError

EXPECTED = (InputError, ServerError, ServerStartError, ArtifactError, SandboxError, OSError)


def handled(main):
    """The one error handler: an expected failure (bad input, a server gone, a missing or wrong
    file, a sandbox that cannot run) is a line on stderr and exit code 1; Ctrl-C is 130 (every stage
    resumes where it stopped)."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs) or 0
        except KeyboardInterrupt:
            print("\ninterrupted: run it again to continue where it stopped", file=sys.stderr)
            return 130
        except EXPECTED as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        except subprocess.CalledProcessError as e:
            print(
                f"error: {' '.join(map(str, e.cmd[:3]))} failed with exit code {e.returncode}",
                file=sys.stderr,
            )
            return 1

    return wrapper
