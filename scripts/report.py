#!/usr/bin/env python3
"""Print the success rate (and pass@k) of an evaluated run; write report.md and report.json next to
it."""

import sys

from qwen_humaneval.cli.report import main

if __name__ == "__main__":
    sys.exit(main())
