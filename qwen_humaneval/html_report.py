"""output/report.html: one self-contained page to browse a run (or two runs side by side).

Every task with its prompt, the model's raw answer, the extracted completion, the verdict and its
error; above them what a reader wants first (model, strategy, dataset, date; pass@1 with its 95%
interval, HumanEval beside HumanEval+ when both were judged; the failure kinds as a bar chart drawn
in inline SVG); filters for failed tasks, flipped tasks and failure kinds. No network: the data is
embedded as JSON, the script and style are inline, and the page counts the resources it loaded (0)
in its <body data-resources> for the browser test. The page reads its initial filter from the URL
fragment (#failed, #flipped, #kind=<kind>), so a filtered view can be linked.
"""

import html
import json
from pathlib import Path

from .failures import failure_kind

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>__TITLE__</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } .summary { margin-bottom: 1em; }
.controls { position: sticky; top: 0; background: #fff; padding: .5em 0; border-bottom: 1px solid #ddd; }
details.task { border: 1px solid #ddd; border-radius: 4px; margin: .4em 0; padding: .3em .6em; }
details.task > summary { cursor: pointer; }
.pass { color: #11772b; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; } .infra { color: #8a5a00; font-weight: 600; }
.flip { background: #fff4d6; } .runs { display: grid; grid-template-columns: repeat(var(--runs), 1fr); gap: 1em; }
pre { background: #f6f8fa; padding: .5em; overflow-x: auto; white-space: pre-wrap; font-size: 12px; }
.label { font-size: 12px; color: #555; margin-top: .4em; }
#overview { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; margin-bottom: 1em; }
#overview .meta { width: 100%; color: #555; }
.score { border: 1px solid #ddd; border-radius: 6px; padding: .5em 1em; min-width: 9em; }
.score .value { font-size: 1.8em; font-weight: 600; } .score .ci { font-size: 12px; color: #555; }
.kind { font-size: 12px; color: #555; }
</style></head>
<body data-resources="-1">
<h1>__TITLE__</h1>
<section id="overview"></section>
<div class="summary" id="summary"></div>
<div class="controls">
 <label>Show <select id="filter">
  <option value="all">all tasks</option><option value="failed">failed tasks</option>
  <option value="flipped">flipped between the runs</option></select></label>
 <label>failure kind <select id="kind"><option value="">any</option></select></label>
 <span id="count"></span>
</div>
<div id="tasks"></div>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
const runs = data.runs, tasks = data.tasks;
document.documentElement.style.setProperty("--runs", runs.length);
const el = (tag, attrs, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
};
const verdictClass = v => v.category === "infrastructure" ? "infra" : (v.passed ? "pass" : "fail");
const verdictText = v => v.category === "infrastructure" ? "not judged" : (v.passed ? "passed" : "failed");
document.getElementById("summary").textContent = runs.map(r => `${r.name}: ${r.passed}/${r.judged} tasks passed` +
  (r.unjudged ? `, ${r.unjudged} not judged (infrastructure)` : "")).join(" | ") +
  (runs.length > 1 ? ` | ${tasks.filter(t => t.flipped).length} flipped` : "");
const overview = data.overview;
if (overview) {
  const box = document.getElementById("overview");
  box.append(el("div", {class: "meta"}, `${overview.model} · ${overview.strategy} · ${overview.dataset}` +
    (overview.date ? ` · ${overview.date}` : "")));
  for (const s of overview.scores) box.append(el("div", {class: "score", "data-label": s.label},
    el("div", {class: "label"}, `${s.label} pass@1`), el("div", {class: "value"}, `${s.pass_at_1.toFixed(2)}%`),
    el("div", {class: "ci"}, `95% CI ${s.ci95[0].toFixed(1)}-${s.ci95[1].toFixed(1)}% over ${s.tasks} tasks`)));
  const failures = Object.entries(overview.failure_kinds);
  if (failures.length) {  // failure kinds as bars, drawn here: the page loads nothing
    const ns = "http://www.w3.org/2000/svg", row = 18, width = 420, most = Math.max(...failures.map(f => f[1]));
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("id", "kinds-chart");
    svg.setAttribute("width", width);
    svg.setAttribute("height", row * failures.length);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "failure kinds");
    failures.forEach(([kind, n], i) => {
      const bar = document.createElementNS(ns, "rect");
      for (const [k, v] of Object.entries({x: 200, y: i * row + 3, height: row - 6, width: Math.max(1, 180 * n / most),
        fill: "#b3261e", "data-kind": kind})) bar.setAttribute(k, v);
      const text = document.createElementNS(ns, "text");
      for (const [k, v] of Object.entries({x: 0, y: i * row + row - 5, "font-size": 12})) text.setAttribute(k, v);
      text.textContent = `${kind}: ${n}`;
      svg.append(text, bar);
    });
    box.append(el("div", {}, el("div", {class: "label"}, "failure kinds"), svg));
  }
}
const kinds = [...new Set(tasks.flatMap(t => t.runs.map(v => v.kind)))].sort();
for (const k of kinds) document.getElementById("kind").append(el("option", {value: k}, k));
if (runs.length < 2) document.querySelector('#filter option[value="flipped"]').remove();
const list = document.getElementById("tasks");
for (const t of tasks) {
  const head = el("summary", {}, t.task_id + " ");
  t.runs.forEach((v, i) => head.append(el("span", {class: verdictClass(v)}, (runs.length > 1 ? runs[i].name + ": " : "") + verdictText(v) + " ")));
  const failedKinds = [...new Set(t.runs.filter(v => !v.passed).map(v => v.kind))];
  if (failedKinds.length) head.append(el("span", {class: "kind"}, `(${failedKinds.join(", ")})`));
  const columns = el("div", {class: "runs"});
  t.runs.forEach((v, i) => columns.append(el("div", {},
    el("div", {class: "label"}, `${runs[i].name}: ${verdictText(v)} (${v.kind})`),
    el("pre", {class: "error"}, v.result),
    el("div", {class: "label"}, "extracted completion"), el("pre", {}, v.completion),
    el("div", {class: "label"}, "raw answer"), el("pre", {}, v.raw))));
  const node = el("details", {class: "task" + (t.flipped ? " flip" : ""), "data-task": t.task_id,
    "data-failed": String(t.runs.some(v => !v.passed && v.category !== "infrastructure")),
    "data-flipped": String(t.flipped), "data-kinds": JSON.stringify(t.runs.map(v => v.kind))},
    head, el("div", {class: "label"}, "prompt"), el("pre", {}, t.prompt), columns);
  list.append(node);
}
function apply() {
  const filter = document.getElementById("filter").value, kind = document.getElementById("kind").value;
  let shown = 0;
  for (const node of list.children) {
    const visible = (filter === "all" || node.dataset[filter] === "true") &&
      (!kind || JSON.parse(node.dataset.kinds).includes(kind));
    node.hidden = !visible;
    shown += visible;
  }
  document.getElementById("count").textContent = `${shown} of ${tasks.length} tasks shown`;
  document.body.dataset.shown = shown;
  location.hash = filter === "all" && !kind ? "" : (kind ? "kind=" + encodeURIComponent(kind) : filter);
}
const hash = decodeURIComponent(location.hash.slice(1));
if (hash.startsWith("kind=")) {  // a link may name a kind this run does not have: it shows no task
  const select = document.getElementById("kind");
  if (![...select.options].some(o => o.value === hash.slice(5))) select.append(el("option", {value: hash.slice(5)}, hash.slice(5)));
  select.value = hash.slice(5);
}
else if (["failed", "flipped"].includes(hash)) document.getElementById("filter").value = hash;
document.getElementById("filter").onchange = apply;
document.getElementById("kind").onchange = apply;
apply();
document.body.dataset.tasks = tasks.length;
document.body.dataset.resources = performance.getEntriesByType("resource").length;
</script>
</body></html>
"""


def _run_view(results: list[dict], solutions: dict[tuple, dict]) -> dict[str, dict]:
    """Per task, the first sample's verdict with its answer."""
    view = {}
    for r in results:
        if r["task_id"] in view:
            continue
        solution = solutions.get((r["task_id"], r["completion_id"]), {})
        view[r["task_id"]] = {
            "passed": bool(r["passed"]),
            "category": r.get("category", "passed" if r["passed"] else "model"),
            "result": r.get("result", ""),
            "kind": failure_kind(r.get("result", ""), solution or None, r.get("category")),
            "completion": solution.get("solution") or solution.get("completion", ""),
            "raw": solution.get("raw", ""),
        }
    return view


def write_html(
    path: Path,
    title: str,
    problems: dict,
    runs: list[tuple[str, list[dict], dict]],
    overview: dict | None = None,
) -> Path:
    """runs: (name, results, solutions keyed by (task_id, sample)); with two runs, flipped tasks
    come first. overview: what the page shows above the tasks (reporting.overview)."""
    views = [(name, _run_view(results, solutions)) for name, results, solutions in runs]
    missing = {
        "passed": False,
        "category": "missing",
        "result": "no result",
        "kind": "no result",
        "completion": "",
        "raw": "",
    }
    task_ids = [t for t in problems if any(t in view for _, view in views)]
    tasks = []
    for task_id in task_ids:
        verdicts = [view.get(task_id, missing) for _, view in views]
        judged = [v for v in verdicts if v["category"] != "infrastructure"]
        flipped = (
            len(views) > 1
            and len(judged) == len(verdicts)
            and len({v["passed"] for v in judged}) > 1
        )
        tasks.append(
            {
                "task_id": task_id,
                "prompt": problems[task_id]["prompt"],
                "flipped": flipped,
                "runs": verdicts,
            }
        )
    tasks.sort(key=lambda t: not t["flipped"])  # stable: flips first, then dataset order
    summary = [
        {
            "name": name,
            "passed": sum(v["passed"] and v["category"] != "infrastructure" for v in view.values()),
            "judged": sum(v["category"] != "infrastructure" for v in view.values()),
            "unjudged": sum(v["category"] == "infrastructure" for v in view.values()),
        }
        for name, view in views
    ]
    data = json.dumps({"runs": summary, "tasks": tasks, "overview": overview}).replace("</", "<\\/")
    path.write_text(PAGE.replace("__TITLE__", html.escape(title)).replace("__DATA__", data))
    return path
