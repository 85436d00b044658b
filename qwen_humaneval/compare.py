"""Run every strategy on the full HumanEval, evaluate each on HumanEval and HumanEval+, and compare
(or compare runs already made: compare_folders).

Resumable: each strategy's generation and evaluations resume where they stopped. Writes
output/compare/<strategy>/..., output/compare.md, output/compare.json and output/compare.png.
Needs a running server (`make compare` starts and stops one); the hidden tests are used only by evaluation.
"""

import json
from pathlib import Path

from . import config
from .jsonl_io import read_jsonl, sample_keys
from .manifest import read_manifest
from .paired import compare_runs, task_scores
from .reporting import summarize
from .scripts import run_script
from .strategies import STRATEGIES


def scores(path: Path) -> dict[str, float]:
    return task_scores([r for _, r in read_jsonl(path)])


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in rows:
        cost = row["completion_tokens"] / 1000
        ax.scatter(cost, row["humaneval"], marker="o", color="tab:blue")
        ax.scatter(cost, row["humanevalplus"], marker="s", color="tab:orange")
        ax.plot([cost, cost], [row["humanevalplus"], row["humaneval"]], color="grey", linewidth=0.8)
        ax.annotate(row["strategy"], (cost, row["humaneval"]), textcoords="offset points", xytext=(5, 4))
    ax.scatter([], [], marker="o", color="tab:blue", label="HumanEval pass@1")
    ax.scatter([], [], marker="s", color="tab:orange", label="HumanEval+ pass@1")
    ax.margins(x=0.15)  # room for the labels of the outermost points
    ax.set_xlabel("completion tokens for 164 tasks (thousands)")
    ax.set_ylabel("pass@1 (%)")
    ax.set_title("Qwen2.5-Coder-1.5B-Instruct Q4_K_M: score against cost")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def write_outputs(rows: list[dict]) -> str:
    lines = [
        "# Strategies compared",
        "",
        "Same server, model and evaluation for every row; pass@1 from one greedy answer per task "
        "(codet picks one of its sampled candidates). Hidden tests are used only to score.",
        "",
        "Against the first row, paired by task: fixed/broken, exact McNemar p and the paired bootstrap 95% "
        "interval of the difference in points (HumanEval / HumanEval+).",
        "",
        "| strategy | HumanEval pass@1 | HumanEval+ pass@1 | wall time | prompt tokens | completion tokens | requests "
        "| fixed / broken | McNemar p | difference, 95% CI |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        wall = f"{r['wall_seconds'] / 60:.1f} min" if r["wall_seconds"] else "?"
        he, plus = r["vs_first"]["humaneval"], r["vs_first"]["humanevalplus"]
        lines.append(
            f"| {r['strategy']} | {r['humaneval']:.2f}% | {r['humanevalplus']:.2f}% | {wall} "
            f"| {r['prompt_tokens']:,} | "
            f"{r['completion_tokens']:,} | {r['requests']} | {len(he['fixed'])}/{len(he['broken'])} ; "
            f"{len(plus['fixed'])}/{len(plus['broken'])} | {he['mcnemar_p']:.3g} ; {plus['mcnemar_p']:.3g} | "
            f"{he['difference']:+.1f} [{he['ci95'][0]:+.1f}, {he['ci95'][1]:+.1f}] ; "
            f"{plus['difference']:+.1f} [{plus['ci95'][0]:+.1f}, {plus['ci95'][1]:+.1f}] |"
        )
    lines.append("")
    for r in rows[1:]:
        he = r["vs_first"]["humaneval"]
        lines.append(
            f"- {r['strategy']} on HumanEval: fixed {', '.join(he['fixed']) or 'none'}; "
            f"broken {', '.join(he['broken']) or 'none'}"
        )
    md = "\n".join(lines) + "\n"
    config.OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    (config.OUTPUT_DIR / "compare.md").write_text(md)
    (config.OUTPUT_DIR / "compare.json").write_text(
        json.dumps([{k: v for k, v in r.items() if k != "scores"} for r in rows], indent=2) + "\n"
    )
    plot(rows, config.OUTPUT_DIR / "compare.png")
    return md


def run_row(label: str, folder: Path, first: dict | None) -> dict:
    """One table row from a run's folder (solutions.jsonl, results.jsonl, results_humanevalplus.jsonl),
    paired against `first` (the first row's per-task scores; None: this row is the first)."""
    solutions = folder / "solutions.jsonl"
    records = [r for _, r in read_jsonl(solutions)]
    solution_records = dict(zip(sample_keys(records), records))
    he = summarize([r for _, r in read_jsonl(folder / "results.jsonl")], solution_records)
    plus = summarize([r for _, r in read_jsonl(folder / "results_humanevalplus.jsonl")], solution_records)
    stats = (read_manifest(solutions) or {}).get("stats", {})
    runs = {
        "humaneval": scores(folder / "results.jsonl"),
        "humanevalplus": scores(folder / "results_humanevalplus.jsonl"),
    }
    first = first or runs
    return {
        "strategy": label,
        "humaneval": he["success_rate"],
        "humanevalplus": plus["success_rate"],
        "tasks": he["tasks"],
        "wall_seconds": stats.get("wall_seconds_total", stats.get("wall_seconds")),
        "prompt_tokens": he["prompt_tokens"],
        "completion_tokens": he["completion_tokens"],
        "requests": he["requests"],
        "vs_first": {name: compare_runs(first[name], runs[name]) for name in runs},
        "scores": runs,
    }


def compare(
    base_url: str = config.BASE_URL,
    strategies: tuple[str, ...] = tuple(STRATEGIES),
    limit: int = 0,
    candidates: int | None = None,
) -> list[dict]:
    """Generate with each strategy (resuming), evaluate on both datasets, write the table after each."""
    out = config.OUTPUT_DIR / "compare"
    rows = []
    for strategy in strategies:
        folder = out / strategy
        folder.mkdir(parents=True, exist_ok=True)
        solutions = folder / "solutions.jsonl"
        print(f"== {strategy}", flush=True)
        run_script(
            "generate.py",
            "--base-url",
            base_url,
            "--strategy",
            strategy,
            "--output",
            solutions,
            "--limit",
            limit,
            *(("--candidates", candidates) if candidates else ()),
        )
        run_script("evaluate.py", "--solutions", solutions, "--results", folder / "results.jsonl")
        run_script(
            "evaluate.py",
            "--solutions",
            solutions,
            "--results",
            folder / "results_humanevalplus.jsonl",
            "--dataset",
            "humanevalplus",
        )
        rows.append(run_row(strategy, folder, rows[0]["scores"] if rows else None))
        md = write_outputs(rows)  # after every strategy, so a stopped run still leaves its table
    print(md)
    return rows


def compare_folders(folders: list[Path]) -> list[dict]:
    """The same table over runs already generated and evaluated on both datasets (`make compare RUNS=...`):
    each row is named by its strategy (from the manifest) and folder; the first row is the reference."""
    rows = []
    for folder in folders:
        for name in ("solutions.jsonl", "results.jsonl", "results_humanevalplus.jsonl"):
            if not (folder / name).exists():
                raise FileNotFoundError(
                    f"{folder / name}: missing (run make eval report, and DATASET=humanevalplus, on it)"
                )
        strategy = ((read_manifest(folder / "solutions.jsonl") or {}).get("settings") or {}).get("strategy")
        rows.append(run_row(f"{strategy or '?'} (`{folder}`)", folder, rows[0]["scores"] if rows else None))
    md = write_outputs(rows)
    print(md)
    return rows
