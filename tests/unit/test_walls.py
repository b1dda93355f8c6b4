"""The package's walls: serving and building never load torch, transformers or training code,
and building loads nothing of serving, Kafka or the worker. Checked in clean processes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pipeline


def loaded_after_importing(modules: list[str], watched: tuple[str, ...]) -> list[str]:
    """Which of `watched` (modules or packages) a fresh interpreter holds after importing
    `modules`."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in {watched!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def package_modules(*excluded: str) -> list[str]:
    root = Path(pipeline.__file__).parent
    names = [
        ".".join(("pipeline", *path.relative_to(root).with_suffix("").parts))
        for path in sorted(root.rglob("*.py"))
    ]
    return [
        name.removesuffix(".__init__")
        for name in names
        if not name.startswith(excluded) and name != "pipeline.__main__"
    ]


WALLED_OFF = ("pipeline.train", "pipeline.bench", "pipeline.nlp.hf")  # need the train extra


def test_serving_and_building_never_import_torch_transformers_or_training() -> None:
    modules = package_modules(*WALLED_OFF)
    assert {"pipeline.build.graph", "pipeline.nlp.e5.sessions", "pipeline.worker.agents"} <= set(
        modules
    )
    assert loaded_after_importing(modules, ("torch", "transformers", "peft", *WALLED_OFF)) == []


def test_building_knows_nothing_of_serving() -> None:
    building = [m for m in package_modules() if m.startswith("pipeline.build")]
    assert "pipeline.build.export" in building
    serving = ("pipeline.nlp", "pipeline.worker", "pipeline.kafka", "pipeline.app", "faust")
    assert loaded_after_importing(building, serving) == []


def test_no_serving_file_is_over_400_lines() -> None:
    """A newcomer reads a serving module in one sitting (training's dataset readers excepted)."""
    root = Path(pipeline.__file__).parent
    walled_off = tuple(Path(*name.split(".")[1:]) for name in WALLED_OFF)
    lengths = {
        str(path.relative_to(root)): len(path.read_text().splitlines())
        for path in root.rglob("*.py")
        if not any(path.relative_to(root).with_suffix("").is_relative_to(w) for w in walled_off)
    }
    assert "worker/agents.py" in lengths and len(lengths) > 40
    assert {name: n for name, n in lengths.items() if n > 400} == {}
