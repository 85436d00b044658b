"""Evaluate solutions against HumanEval's (or HumanEval+'s) hidden tests in a sandbox -> results
JSONL."""

import argparse
import sys
from pathlib import Path

from .. import config
from ..datasets import DATASETS, DEFAULT, dataset
from ..evaluation import evaluate
from ..settings import Settings
from . import handled


@handled
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--solutions", type=Path, default=None, help="default: OUTPUT_DIR/solutions.jsonl"
    )
    ap.add_argument(
        "--results",
        type=Path,
        default=None,
        help="default: output/results.jsonl (results_humanevalplus.jsonl for HumanEval+)",
    )
    ap.add_argument("--dataset", default=DEFAULT, choices=DATASETS)
    ap.add_argument(
        "--timeout", type=float, default=None, help="seconds per sample (default: adaptive)"
    )
    ap.add_argument(
        "--workers", type=int, default=None, help="sandbox workers (default: number of cores)"
    )
    ap.add_argument(
        "--memory-gb",
        type=float,
        default=config.SANDBOX_MEMORY_BYTES / (1 << 30),
        help="address-space cap per sample",
    )
    ap.add_argument(
        "--verbose",
        action="store_true",
        help="print a line per sample, as the original run_eval.sh did",
    )
    args = ap.parse_args()
    settings = Settings.from_environ()
    args.solutions = args.solutions or settings.output_dir / "solutions.jsonl"
    results = args.results or settings.output_dir / dataset(args.dataset).results_name
    timeout = args.timeout
    if not args.solutions.exists():
        print(f"error: {args.solutions}: no such file (run `make generate` first)", file=sys.stderr)
        return 1
    try:
        records = evaluate(
            args.solutions,
            results,
            cache_dir=settings.cache_dir,
            dataset=args.dataset,
            timeout=timeout,
            workers=args.workers,
            memory_bytes=int(args.memory_gb * (1 << 30)),
            verbose=args.verbose,
        )
    except OSError as e:
        print(f"error: writing {results}: {e.strerror or e}", file=sys.stderr)
        return 1
    passed = sum(r["passed"] for r in records)
    print(f"{results}: {passed}/{len(records)} samples passed ({args.dataset})")
    return 0
