"""Print the success rate (and pass@k) of an evaluated run; write report.md and report.json next to
it."""

import argparse
import sys
from pathlib import Path

from ..datasets import DATASETS, DEFAULT, dataset
from ..paired import describe
from ..reporting import write_report
from ..settings import Settings
from . import handled


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--results",
        type=Path,
        default=None,
        help="default: output/results.jsonl (results_<dataset>.jsonl for others)",
    )
    ap.add_argument(
        "--solutions", type=Path, default=None, help="default: solutions.jsonl beside the results"
    )
    ap.add_argument("--dataset", default=DEFAULT, choices=DATASETS)
    ap.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another run's results on the same tasks: print the paired comparison (flips, "
        "McNemar, bootstrap CI)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="report basename (default: report next to the results)",
    )
    return ap


@handled
def main() -> int:
    args = parser().parse_args()
    settings = Settings.from_environ()
    args.results = args.results or settings.output_dir / dataset(args.dataset).results_name
    if not args.results.exists():
        print(f"error: {args.results}: no such file (run `make eval` first)", file=sys.stderr)
        return 1
    summary, path = write_report(
        args.results,
        args.solutions or args.results.with_name("solutions.jsonl"),
        args.dataset,
        settings.cache_dir,
        args.out,
        baseline=args.baseline,
    )
    print_summary(summary, args.baseline)
    print(f"Report: {path} (browse: {path.with_suffix('.html')})")
    return 0


def print_summary(summary: dict, baseline: Path | None) -> None:
    """The original workflow's two lines; then pass@k, base scores, failures and the pairing."""
    unjudged = summary["infrastructure_tasks"]
    if unjudged:
        print(
            f"WARNING: {len(unjudged)} tasks could not be judged on this machine (infrastructure: "
            "the reference solution failed here, the sandbox did, or the prompt did not fit the "
            f"context); the score covers the other {summary['tasks']}: "
            f"{', '.join(unjudged[:10])}{' ...' if len(unjudged) > 10 else ''}",
            file=sys.stderr,
        )
    samples = summary["samples_per_task"]
    suffix = "" if samples <= 1 else f" (solved by at least one of {samples} samples)"
    print(
        "Evaluation completed. Successful tasks: "
        f"{summary['solved_tasks']}/{summary['tasks']}{suffix}"
    )
    print(
        f"Success rate: {summary['success_rate']:.2f}%"
        + ("" if samples <= 1 else " (pass@1, unbiased estimate)")
    )
    for k, v in summary.items():
        if k.startswith("pass@") and samples > 1:
            print(f"{k}: {v:.2f}%")
    if "base" in summary:
        base = summary["base"]
        print(
            f"{base['title']}: {base['solved_tasks']}/{base['tasks']} ({base['success_rate']:.2f}%)"
        )
    failures = {k: v for k, v in summary["failure_kinds"].items() if k != "passed"}
    if failures:
        print("Failures: " + ", ".join(f"{k} {v}" for k, v in failures.items()))
    if "paired" in summary:
        print(f"Against {baseline}: {describe(summary['paired'])}")
