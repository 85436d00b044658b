#!/usr/bin/env python3
"""mbr-exec's choice over runs already generated: a greedy run and a sampled run -> one solution per
task."""

import sys

from qwen_humaneval.cli.select_candidates import main

if __name__ == "__main__":
    sys.exit(main())
