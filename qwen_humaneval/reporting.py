"""Summaries of a results file: success rate, pass@k, failure kinds, cost."""

import json
from collections import Counter
from pathlib import Path

from .datasets import dataset as get_dataset
from .datasets import score_columns
from .failures import failure_kind
from .html_report import write_html
from .jsonl_io import read_jsonl, sample_keys
from .manifest import read_manifest, write_manifest
from .paired import bootstrap_interval, compare_runs, describe, task_scores
from .passk import mean_pass_at_k


def summarize(results: list[dict], solutions: dict[tuple, dict] | None = None) -> dict:
    """Scores over the judged tasks: a task the evaluation could not judge (its reference failed
    here, the sandbox failed) is listed under infrastructure_tasks and counts neither for nor
    against the model."""
    solutions = solutions or {}
    unjudged = sorted({r["task_id"] for r in results if r.get("category") == "infrastructure"})
    per_task: dict[str, list[bool]] = {}
    kinds = Counter()
    for r in results:
        kinds[
            failure_kind(
                r.get("result", ""),
                solutions.get((r["task_id"], r["completion_id"])),
                r.get("category"),
            )
        ] += 1
        if r["task_id"] not in unjudged:
            per_task.setdefault(r["task_id"], []).append(bool(r["passed"]))
    counts = [(len(v), sum(v)) for v in per_task.values()]
    samples = min((n for n, _ in counts), default=0)
    pass_at = {}
    for k in (1, 5, 10, 20, 100):
        if k <= samples:
            pass_at[f"pass@{k}"] = round(100 * mean_pass_at_k(counts, k), 2)
    solved = sum(c > 0 for _, c in counts)
    chosen = [solutions[key] for key in solutions if key[0] in per_task]
    return {
        "tasks": len(per_task),
        "infrastructure_tasks": unjudged,
        "samples_per_task": samples,
        "solved_tasks": solved,
        "success_rate": round(100 * solved / len(per_task), 2)
        if per_task and samples == 1
        else pass_at.get("pass@1", 0.0),
        **pass_at,
        "failure_kinds": dict(kinds.most_common()),
        "prompt_tokens": sum(s.get("prompt_tokens", 0) for s in chosen),
        "completion_tokens": sum(s.get("completion_tokens", 0) for s in chosen),
        "requests": sum(s.get("requests", 1) for s in chosen),
    }


def markdown(summary: dict, dataset: str, generate_manifest: dict | None) -> str:
    lines = [f"# Report: {dataset}", ""]
    if summary["infrastructure_tasks"]:
        lines += [
            f"**{len(summary['infrastructure_tasks'])} tasks could not be judged on this machine** "
            "(their reference solution failed here, the sandbox did, or the prompt did not fit "
            f"the server's context): {', '.join(summary['infrastructure_tasks'])}. They are left "
            "out of the score, not counted as the model's failures.",
            "",
        ]
    lines += [
        f"- Successful tasks: {summary['solved_tasks']}/{summary['tasks']}",
        f"- Success rate: {summary['success_rate']:.2f}%",
    ]
    lines += [f"- {k}: {v:.2f}%" for k, v in summary.items() if k.startswith("pass@")]
    if "base" in summary:
        base = summary["base"]
        lines += [
            f"- {base['title']}: {base['solved_tasks']}/{base['tasks']} "
            f"({base['success_rate']:.2f}%)"
        ]
    if generate_manifest and generate_manifest.get("settings", {}).get("left_out"):
        left_out = generate_manifest["settings"]["left_out"]
        lines += [f"- Left out: {len(left_out['tasks'])} tasks ({left_out['why']})"]
    lines += [
        f"- Tokens: {summary['prompt_tokens']} prompt, {summary['completion_tokens']} completion, "
        f"{summary['requests']} requests"
    ]
    if generate_manifest:
        s = generate_manifest.get("settings", {})
        stats = generate_manifest.get("stats", {})
        lines += [
            f"- Generation: strategy {s.get('strategy')}, style {s.get('style')}, temperature "
            f"{s.get('temperature')}, seed {s.get('seed')}, {stats.get('wall_seconds')} s wall"
        ]
        launch = generate_manifest.get("server_launch") or {}
        if launch:
            lines += [
                f"- Server: {launch.get('backend')} {launch.get('build', {}).get('version', '')}, "
                f"model {Path(str(launch.get('model_file', ''))).name} (sha256 "
                f"{launch.get('model_sha256', '')[:16]}...)"
            ]
    if "paired" in summary:
        lines += [f"- Against {summary['paired']['baseline']}: {describe(summary['paired'])}"]
    lines += ["", "| outcome | samples |", "|---|---|"]
    lines += [f"| {kind} | {n} |" for kind, n in summary["failure_kinds"].items()]
    return "\n".join(lines) + "\n"


def load_results(path: Path) -> list[dict]:
    return [
        r
        for _, r in read_jsonl(
            path, required={"task_id": str, "completion_id": int, "passed": bool}
        )
    ]


def load_solutions(path: Path) -> dict[tuple, dict]:
    if not path.exists():
        return {}
    records = [r for _, r in read_jsonl(path, required={"task_id": str})]
    return dict(zip(sample_keys(records), records))


def base_results(results: list[dict]) -> list[dict]:
    """The verdicts on the base inputs alone, from a differential dataset's results (its
    'base_passed' facts)."""
    return [{**r, "passed": bool(r.get("base_passed"))} for r in results]


def score_with_interval(results: list[dict]) -> dict:
    """pass@1 over the judged tasks, in percent, with its 95% bootstrap interval over tasks."""
    scores = list(task_scores(results).values())
    low, high = bootstrap_interval(scores)
    mean = sum(scores) / len(scores) if scores else 0.0
    return {
        "pass_at_1": round(100 * mean, 2),
        "ci95": [round(100 * low, 2), round(100 * high, 2)],
        "tasks": len(scores),
    }


def overview(
    results_path: Path,
    results: list[dict],
    summary: dict,
    generate_manifest: dict | None,
    dataset: str,
) -> dict:
    """What a reader wants first: which model, strategy, dataset and when; pass@1 with its interval,
    beside the paired base/plus score when both were judged; the failure kinds."""
    settings = (generate_manifest or {}).get("settings", {})
    scores = []
    # each from its own results file, when judged
    for title, other, base_only in score_columns(dataset):
        path = results_path if other.name == dataset else results_path.with_name(other.results_name)
        if other.name == dataset or path.exists():
            judged = results if other.name == dataset else load_results(path)
            scores.append(
                {
                    "label": title,
                    **score_with_interval(base_results(judged) if base_only else judged),
                }
            )
    return {
        "model": settings.get("model", "unknown model"),
        "strategy": settings.get("strategy", "unknown strategy"),
        "dataset": dataset,
        "date": (generate_manifest or {}).get("written_at", ""),
        "scores": scores,
        "failure_kinds": {k: n for k, n in summary["failure_kinds"].items() if k != "passed"},
    }


def write_report(
    results_path: Path,
    solutions_path: Path,
    dataset: str,
    cache_dir: Path,
    out: Path | None = None,
    baseline: Path | None = None,
) -> tuple[dict, Path]:
    """Summarize an evaluated run; write <out>.md, <out>.json and <out>.html (default: report next
    to the results; the page shows each task's prompt, from the dataset in cache_dir). baseline:
    another run's results on the same tasks, compared task by task (paired.compare_runs) and shown
    beside this run in the HTML page, flipped tasks first."""
    results = load_results(results_path)
    solutions = load_solutions(solutions_path)
    summary = summarize(results, solutions)
    runs = [(results_path.parent.name or "this run", results, solutions)]
    if baseline is not None:
        baseline_results = load_results(baseline)
        summary["paired"] = compare_runs(task_scores(baseline_results), task_scores(results))
        summary["paired"]["baseline"] = str(baseline)
        runs.insert(
            0,
            (
                f"baseline ({baseline.parent.name})",
                baseline_results,
                load_solutions(baseline.with_name("solutions.jsonl")),
            ),
        )
    generate_manifest = read_manifest(solutions_path)
    spec = get_dataset(dataset)
    if spec.base_title:
        summary["base"] = {"title": spec.base_title, **summarize(base_results(results), solutions)}
    base = out or results_path.with_name(spec.report_name)
    base.with_suffix(".md").write_text(markdown(summary, dataset, generate_manifest))
    report = {
        "dataset": dataset,
        "summary": summary,
        "generate": generate_manifest,
        "evaluate": read_manifest(results_path),
    }
    base.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    write_html(
        base.with_suffix(".html"),
        f"{dataset}: {results_path}",
        spec.load(cache_dir),
        runs,
        overview(results_path, results, summary, generate_manifest, dataset),
    )
    write_manifest(
        base.with_suffix(".json"), "report", {"dataset": dataset, "results": str(results_path)}
    )
    return summary, base.with_suffix(".md")
