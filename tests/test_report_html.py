"""output/report.html in a real headless Chromium (Debian's package; `make browser` installs it)."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import CACHE

from qwen_humaneval.datasets import load_problems
from qwen_humaneval.evaluation import evaluate
from qwen_humaneval.reporting import write_report

PLUS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "humanevalplus"
    / "HumanEvalPlus-v0.1.10.jsonl.gz"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium here: `make browser` installs Debian's package"
)


def dump_dom(page, fragment: str, profile) -> str:
    """The page's DOM after its scripts ran, with the network closed: any fetch would fail and be
    counted."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
        "--proxy-server=127.0.0.1:9",
        f"--user-data-dir={profile}",
        "--dump-dom",
        f"file://{page}{fragment}",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


def body(dom: str) -> dict:
    tag = re.search(r"<body([^>]*)>", dom).group(1)
    return dict(re.findall(r'data-(\w+)="([^"]*)"', tag))


def shown(dom: str) -> list[str]:
    return re.findall(r'<details class="task[^"]*" data-task="([^"]+)"(?![^>]*hidden)', dom)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Two real evaluations of all 164 tasks: the reference solutions, and the same with 10 tasks
    broken."""
    tmp = tmp_path_factory.mktemp("report")
    problems = load_problems("humaneval", CACHE)
    runs = {}
    for name, broken in (
        ("before", {f"HumanEval/{i}" for i in range(10)}),
        ("after", {f"HumanEval/{i}" for i in range(5, 15)}),
    ):
        folder = tmp / name
        folder.mkdir()
        records = [
            {
                "task_id": t,
                "completion": "    return None\n" if t in broken else p["canonical_solution"],
                "raw": f"raw answer for {t} <script>alert(1)</script>",
            }
            for t, p in problems.items()
        ]
        (folder / "solutions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        evaluate(folder / "solutions.jsonl", folder / "results.jsonl", cache_dir=CACHE)
        runs[name] = folder
    # the same answers judged by HumanEval+: the report shows both scores side by side
    if PLUS.exists():
        mp = pytest.MonkeyPatch()
        mp.setenv("HUMANEVALPLUS_PATH", str(PLUS))
        evaluate(
            runs["after"] / "solutions.jsonl",
            runs["after"] / "results_humanevalplus.jsonl",
            dataset="humanevalplus",
            cache_dir=CACHE,
        )
        mp.undo()
    write_report(
        runs["after"] / "results.jsonl",
        runs["after"] / "solutions.jsonl",
        "humaneval",
        CACHE,
        baseline=runs["before"] / "results.jsonl",
    )
    return runs["after"] / "report.html", tmp / "profile"


def test_report_loads_every_task_offline_and_flips_come_first(report):
    page, profile = report
    dom = dump_dom(page, "", profile)
    facts = body(dom)
    assert facts["tasks"] == "164" and facts["shown"] == "164" and facts["resources"] == "0"
    tasks = shown(dom)
    flips = [f"HumanEval/{i}" for i in (0, 1, 2, 3, 4, 10, 11, 12, 13, 14)]
    assert sorted(tasks[:10]) == sorted(flips) and len(set(tasks)) == 164
    # answers are shown as text, never parsed as markup: escaped in the page, and no script element
    # but the page's two
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom and dom.count("</script>") == 2
    assert "154/164 tasks passed" in dom and "10 flipped" in dom


def test_report_filters_work_in_the_browser(report):
    page, profile = report
    failed = shown(dump_dom(page, "#failed", profile))
    assert sorted(failed, key=lambda t: int(t.split("/")[1])) == [
        f"HumanEval/{i}" for i in range(15)
    ]
    flipped = shown(dump_dom(page, "#flipped", profile))
    # broken in both runs: failed, not flipped
    assert len(flipped) == 10 and "HumanEval/7" not in flipped
    wrong = shown(dump_dom(page, "#kind=wrong answer (assertion)", profile))
    assert wrong and set(wrong) <= set(failed)
    assert body(dump_dom(page, "#kind=no such kind", profile))["shown"] == "0"


def test_the_overview_comes_first_with_scores_interval_and_failure_chart(report):
    """Above the fold: model, strategy, dataset; pass@1 with its 95% interval (HumanEval beside
    HumanEval+ when both were judged); the failure kinds drawn as SVG bars. Each collapsed row names
    its failure kind."""
    page, profile = report
    dom = dump_dom(page, "", profile)
    overview = dom[dom.index('<section id="overview"') : dom.index("</section>")]
    assert dom.index('<section id="overview"') < dom.index("<details")
    # these solutions were written by hand, with no generation manifest
    assert "unknown model" in overview
    assert 'data-label="HumanEval"' in overview and "93.90%" in overview and "95% CI" in overview
    bars = re.findall(r'<rect[^>]*data-kind="([^"]+)"', overview)
    assert bars and "wrong answer (assertion)" in bars and "passed" not in bars
    assert re.search(
        r'data-task="HumanEval/5".*?<span class="kind">\(wrong answer \(assertion\)\)</span>', dom
    )
    if not PLUS.exists():
        pytest.skip(
            "../shared/data/humanevalplus is not beside this checkout: the HumanEval+ score is not shown"
        )
    assert overview.index('data-label="HumanEval"') < overview.index('data-label="HumanEval+"')
