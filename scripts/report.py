#!/usr/bin/env python3
"""Print the success rate (and pass@k) of an evaluated run; write report.md and report.json next to it."""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qwen_humaneval import config  # noqa: E402
from qwen_humaneval.jsonl_io import InputError, read_jsonl  # noqa: E402
from qwen_humaneval.manifest import read_manifest, write_manifest  # noqa: E402
from qwen_humaneval.reporting import summarize  # noqa: E402


def load(path: Path, required: dict) -> list[dict]:
    return [record for _, record in read_jsonl(path, required=required)]


def markdown(summary: dict, dataset: str, generate_manifest: dict | None) -> str:
    lines = [f"# HumanEval report ({dataset})", "",
             f"- Successful tasks: {summary['solved_tasks']}/{summary['tasks']}",
             f"- Success rate: {summary['success_rate']:.2f}%"]
    lines += [f"- {k}: {v:.2f}%" for k, v in summary.items() if k.startswith("pass@")]
    lines += [f"- Tokens: {summary['prompt_tokens']} prompt, {summary['completion_tokens']} completion, {summary['requests']} requests"]
    if generate_manifest:
        s = generate_manifest.get("settings", {})
        stats = generate_manifest.get("stats", {})
        lines += [f"- Generation: strategy {s.get('strategy')}, style {s.get('style')}, temperature {s.get('temperature')}, "
                  f"seed {s.get('seed')}, {stats.get('wall_seconds')} s wall"]
        launch = generate_manifest.get("server_launch") or {}
        if launch:
            lines += [f"- Server: {launch.get('backend')} {launch.get('build', {}).get('version', '')}, model "
                      f"{Path(str(launch.get('model_file', ''))).name} (sha256 {launch.get('model_sha256', '')[:16]}...)"]
    lines += ["", "| outcome | samples |", "|---|---|"]
    lines += [f"| {kind} | {n} |" for kind, n in summary["failure_kinds"].items()]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", type=Path, default=config.OUTPUT_DIR / "results.jsonl")
    ap.add_argument("--solutions", type=Path, default=None, help="default: solutions.jsonl beside the results")
    ap.add_argument("--dataset", default="humaneval")
    ap.add_argument("--out", type=Path, default=None, help="report basename (default: report next to the results)")
    args = ap.parse_args()
    args.solutions = args.solutions or args.results.with_name("solutions.jsonl")
    if not args.results.exists():
        print(f"error: {args.results}: no such file (run `make eval` first)", file=sys.stderr)
        return 1
    try:
        results = load(args.results, {"task_id": str, "completion_id": int, "passed": bool})
        solutions = {}
        if args.solutions.exists():
            per_task = {}
            for record in load(args.solutions, {"task_id": str}):
                n = per_task.get(record["task_id"], 0)
                per_task[record["task_id"]] = n + 1
                solutions[(record["task_id"], n)] = record
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    summary = summarize(results, solutions)
    generate_manifest = read_manifest(args.solutions)
    base = args.out or args.results.with_name("report" if args.dataset == "humaneval" else f"report_{args.dataset}")
    md = markdown(summary, args.dataset, generate_manifest)
    base.with_suffix(".md").write_text(md)
    report = {"dataset": args.dataset, "summary": summary, "generate": generate_manifest,
              "evaluate": read_manifest(args.results)}
    base.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    write_manifest(base.with_suffix(".json"), "report", {"dataset": args.dataset, "results": str(args.results)})

    samples = summary["samples_per_task"]
    suffix = "" if samples <= 1 else f" (solved by at least one of {samples} samples)"
    print(f"Evaluation completed. Successful tasks: {summary['solved_tasks']}/{summary['tasks']}{suffix}")
    print(f"Success rate: {summary['success_rate']:.2f}%" + ("" if samples <= 1 else " (pass@1, unbiased estimate)"))
    for k, v in summary.items():
        if k.startswith("pass@") and samples > 1:
            print(f"{k}: {v:.2f}%")
    failures = {k: v for k, v in summary["failure_kinds"].items() if k != "passed"}
    if failures:
        print("Failures: " + ", ".join(f"{k} {v}" for k, v in failures.items()))
    print(f"Report: {base.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
