"""Run every strategy on a full dataset (HumanEval, or MBPP+), evaluate each on every dataset that
judges it, and compare (resumable)."""

import argparse
from pathlib import Path

from .. import config
from ..compare import compare, compare_folders
from ..datasets import DEFAULT
from ..generation import GENERATION_DATASETS
from ..settings import Settings
from ..strategies import STRATEGIES
from . import handled


@handled
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base-url", default=config.BASE_URL)
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--dataset", default=DEFAULT, choices=GENERATION_DATASETS)
    ap.add_argument(
        "--candidates",
        "--codet-candidates",
        type=int,
        default=None,
        help="sampled candidates per task (default: each strategy's own)",
    )
    ap.add_argument(
        "--runs",
        default="",
        help="comma-separated folders of runs already evaluated on both datasets: only the table, "
        "no server (the first row is the reference)",
    )
    args = ap.parse_args()
    settings = Settings.from_environ()
    if args.runs:
        compare_folders(
            [Path(f.strip()) for f in args.runs.split(",") if f.strip()], settings.output_dir
        )
        return 0
    strategies = tuple(args.strategies.split(","))
    compare(settings, args.base_url, strategies, args.limit, args.candidates, args.dataset)
    return 0
