"""Run every strategy on a full dataset, evaluate each on every dataset that judges it (HumanEval:
HumanEval and HumanEval+; MBPP+: its base and plus inputs), and compare (or compare runs already
made: compare_folders).

Resumable: each strategy's generation and evaluations resume where they stopped. Writes
output/compare/<strategy>/..., output/compare.md, output/compare.json and output/compare.png. Needs
a running server (`make compare` starts and stops one); the hidden tests are used only by
evaluation.
"""

import json
from pathlib import Path

from . import config
from .datasets import DEFAULT, score_columns
from .evaluation import evaluate
from .generation import run_generation
from .jsonl_io import read_jsonl, sample_keys
from .manifest import read_manifest
from .paired import compare_runs, task_scores
from .reporting import base_results, summarize
from .settings import Settings
from .strategies import STRATEGIES, sampling_for


def column_results(folder: Path, dataset: str) -> dict[str, list[dict]]:
    """Each score column's verdicts, from the run folder's results files."""
    columns = {}
    for title, spec, base_only in score_columns(dataset):
        results = [r for _, r in read_jsonl(folder / spec.results_name)]
        columns[title] = base_results(results) if base_only else results
    return columns


def plot(rows: list[dict], titles: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    low, high = titles[0], titles[-1]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in rows:
        cost = row["completion_tokens"] / 1000
        ax.scatter(cost, row["scores_pct"][low], marker="o", color="tab:blue")
        ax.scatter(cost, row["scores_pct"][high], marker="s", color="tab:orange")
        ax.plot(
            [cost, cost],
            [row["scores_pct"][high], row["scores_pct"][low]],
            color="grey",
            linewidth=0.8,
        )
        ax.annotate(
            row["strategy"],
            (cost, row["scores_pct"][low]),
            textcoords="offset points",
            xytext=(5, 4),
        )
    ax.scatter([], [], marker="o", color="tab:blue", label=f"{low} pass@1")
    ax.scatter([], [], marker="s", color="tab:orange", label=f"{high} pass@1")
    ax.margins(x=0.15)  # room for the labels of the outermost points
    ax.set_xlabel(f"completion tokens for {rows[0]['tasks']} tasks (thousands)")
    ax.set_ylabel("pass@1 (%)")
    ax.set_title("Qwen2.5-Coder-1.5B-Instruct Q4_K_M: score against cost")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def write_outputs(rows: list[dict], titles: list[str], out: Path) -> str:
    names = " / ".join(titles)
    lines = [
        "# Strategies compared",
        "",
        "Same server, model and evaluation for every row; pass@1 from one greedy answer per task "
        "(codet picks one of its sampled candidates). Hidden tests are used only to score.",
        "",
        "Against the first row, paired by task: fixed/broken, exact McNemar p and the paired "
        f"bootstrap 95% interval of the difference in points ({names}).",
        "",
        f"| strategy | {' | '.join(f'{t} pass@1' for t in titles)} | wall time | prompt tokens | "
        "completion tokens | requests | fixed / broken | McNemar p | difference, 95% CI |",
        "|---|" + "---|" * len(titles) + "---|---|---|---|---|---|---|",
    ]
    for r in rows:
        wall = f"{r['wall_seconds'] / 60:.1f} min" if r["wall_seconds"] else "?"
        paired = [r["vs_first"][t] for t in titles]
        percents = " | ".join(f"{r['scores_pct'][t]:.2f}%" for t in titles)
        lines.append(
            f"| {r['strategy']} | {percents} | {wall} | {r['prompt_tokens']:,} | "
            f"{r['completion_tokens']:,} | {r['requests']} | "
            + " ; ".join(f"{len(p['fixed'])}/{len(p['broken'])}" for p in paired)
            + " | "
            + " ; ".join(f"{p['mcnemar_p']:.3g}" for p in paired)
            + " | "
            + " ; ".join(
                f"{p['difference']:+.1f} [{p['ci95'][0]:+.1f}, {p['ci95'][1]:+.1f}]" for p in paired
            )
            + " |"
        )
    lines.append("")
    for r in rows[1:]:
        first = r["vs_first"][titles[0]]
        lines.append(
            f"- {r['strategy']} on {titles[0]}: fixed {', '.join(first['fixed']) or 'none'}; "
            f"broken {', '.join(first['broken']) or 'none'}"
        )
    md = "\n".join(lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.md").write_text(md)
    (out / "compare.json").write_text(
        json.dumps([{k: v for k, v in r.items() if k != "scores"} for r in rows], indent=2) + "\n"
    )
    plot(rows, titles, out / "compare.png")
    return md


def run_row(label: str, folder: Path, first: dict | None, dataset: str = DEFAULT) -> dict:
    """One table row from a run's folder (solutions.jsonl and each judging dataset's results file),
    paired against `first` (the first row's per-task scores; None: this row is the first)."""
    solutions = folder / "solutions.jsonl"
    records = [r for _, r in read_jsonl(solutions)]
    solution_records = dict(zip(sample_keys(records), records))
    columns = column_results(folder, dataset)
    summaries = {title: summarize(results, solution_records) for title, results in columns.items()}
    runs = {title: task_scores(results) for title, results in columns.items()}
    stats = (read_manifest(solutions) or {}).get("stats", {})
    any_summary = next(iter(summaries.values()))
    first = first or runs
    return {
        "strategy": label,
        "scores_pct": {title: summary["success_rate"] for title, summary in summaries.items()},
        "tasks": any_summary["tasks"],
        "wall_seconds": stats.get("wall_seconds_total", stats.get("wall_seconds")),
        "prompt_tokens": any_summary["prompt_tokens"],
        "completion_tokens": any_summary["completion_tokens"],
        "requests": any_summary["requests"],
        "vs_first": {title: compare_runs(first[title], runs[title]) for title in runs},
        "scores": runs,
    }


def compare(
    settings: Settings,
    base_url: str = config.BASE_URL,
    strategies: tuple[str, ...] = tuple(STRATEGIES),
    limit: int = 0,
    candidates: int | None = None,
    dataset: str = DEFAULT,
) -> list[dict]:
    """Generate with each strategy (resuming) into settings.output_dir/compare/<strategy>, evaluate
    on every judging dataset, write the table (settings.output_dir/compare.md, .json, .png) after
    each."""
    out = settings.output_dir / "compare"
    titles = [title for title, _, _ in score_columns(dataset)]
    judges = list(dict.fromkeys(spec for _, spec, _ in score_columns(dataset)))
    rows = []
    for strategy in strategies:
        folder = out / strategy
        folder.mkdir(parents=True, exist_ok=True)
        solutions = folder / "solutions.jsonl"
        print(f"== {strategy}", flush=True)
        sampling = sampling_for(strategy, dataset, candidates=candidates)
        run_generation(
            [base_url],
            settings,
            solutions,
            strategy=strategy,
            sampling=sampling,
            limit=limit,
            dataset=dataset,
        )
        for judge in judges:
            evaluate(
                solutions,
                folder / judge.results_name,
                cache_dir=settings.cache_dir,
                dataset=judge.name,
            )
        rows.append(run_row(strategy, folder, rows[0]["scores"] if rows else None, dataset))
        # after every strategy, so that a stopped run still leaves its table
        md = write_outputs(rows, titles, settings.output_dir)
    print(md)
    return rows


def compare_folders(folders: list[Path], out: Path) -> list[dict]:
    """The same table over runs already generated and evaluated (`make compare RUNS=...`), written
    into out: each row is named by its strategy (from the manifest) and folder; the first row is the
    reference and names the dataset."""
    rows, dataset = [], None
    for folder in folders:
        settings = (read_manifest(folder / "solutions.jsonl") or {}).get("settings") or {}
        dataset = dataset or settings.get("dataset", DEFAULT)
        needed = [
            "solutions.jsonl",
            *dict.fromkeys(spec.results_name for _, spec, _ in score_columns(dataset)),
        ]
        for name in needed:
            if not (folder / name).exists():
                raise FileNotFoundError(
                    f"{folder / name}: missing (run make eval report on it for every dataset)"
                )
        label = f"{settings.get('strategy') or '?'} (`{folder}`)"
        rows.append(run_row(label, folder, rows[0]["scores"] if rows else None, dataset))
    md = write_outputs(rows, [title for title, _, _ in score_columns(dataset)], out)
    print(md)
    return rows
