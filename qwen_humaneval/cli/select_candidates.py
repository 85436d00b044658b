"""mbr-exec's choice over runs already generated: a greedy run and a sampled run -> one solution per
task."""

import argparse
from pathlib import Path

from .. import config
from ..select_runs import select_from_runs
from ..settings import Settings
from . import handled


@handled
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--greedy",
        type=Path,
        required=True,
        help="solutions of a greedy run (SAMPLES=1, temperature 0)",
    )
    ap.add_argument(
        "--samples", type=Path, required=True, help="solutions of a sampled run (SAMPLES=k)"
    )
    ap.add_argument(
        "--output",
        type=Path,
        required=True,
        help="the chosen solutions (then make eval report SOLUTIONS=...)",
    )
    ap.add_argument(
        "--candidates",
        type=int,
        default=config.CANDIDATES,
        help="samples per task taken from --samples",
    )
    ap.add_argument(
        "--inputs",
        type=int,
        default=config.MBR_INPUTS,
        help="mutated inputs besides the docstring's",
    )
    args = ap.parse_args()
    cache_dir = Settings.from_environ().cache_dir
    select_from_runs(
        args.greedy, args.samples, args.output, args.candidates, args.inputs, cache_dir=cache_dir
    )
    return 0
