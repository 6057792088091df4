"""The packages form one-way layers: a module imports only from its own layer or the layers below.

    core  <-  components (datasets, methods, classifiers)  <-  evaluation  <-  reports  <-  app

Read from the source with :mod:`ast` (imports inside functions count too), so a backwards import
fails here before anyone runs it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bench", "datasets", "methods", "reports")
LAYERS = {
    "core": ("bench", "bench.errors", "bench.registry", "bench.config", "bench.components", "bench.seeding",
             "bench.lazy", "bench.estimator", "bench.policy", "bench.standardisation", "bench.urls", "bench.integrity", "bench.study_lock"),
    "components": ("datasets", "methods", "bench.classifiers"),
    "evaluation": ("bench.protocols", "bench.metrics", "bench.quality", "bench.fold_quality",
                   "bench.quality_files", "bench.attacks", "bench.robustness", "bench.gate", "bench.results",
                   "bench.fit_cache", "bench.summary", "bench.testing", "bench.epoch_scores", "bench.hard_case"),
    "reports": ("reports",),
    "app": ("bench.__main__", "bench.study", "bench.context", "bench.cell", "bench.executor", "bench.executor_ray",
            "bench.schedule", "bench.runner",
            "bench.tracking", "bench.tuning", "bench.preflight", "bench.presets", "bench.dry_run", "bench.cli"),
}
ORDER = list(LAYERS)


def layer_of(module: str) -> str:
    """The layer of a module: that of the longest prefix listed in :data:`LAYERS`."""
    best = max((prefix for names in LAYERS.values() for prefix in names
                if module == prefix or module.startswith(prefix + ".")), key=len, default=None)
    if best is None:
        raise AssertionError(f"{module} is in no layer; add it to LAYERS in {Path(__file__).name}")
    return next(layer for layer, names in LAYERS.items() if best in names)


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(path: Path) -> set[str]:
    """Every project module ``path`` imports (absolute imports, at any depth of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def backwards(module: str, path: Path, known: set[str]) -> list[str]:
    """The imports of ``module`` that reach a higher layer."""
    own = ORDER.index(layer_of(module))
    return sorted(f"{module} ({ORDER[own]}) imports {name} ({layer_of(name)})"
                  for name in imports(path) if name in known and ORDER.index(layer_of(name)) > own)


ALL = modules()


@pytest.mark.parametrize("module", sorted(ALL))
def test_imports_point_down_the_layers(module):
    assert not backwards(module, ALL[module], set(ALL)), "\n".join(backwards(module, ALL[module], set(ALL)))


def test_the_check_sees_a_backwards_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from bench.runner import run_study\n")
    assert backwards("bench.metrics", bad, set(ALL)) == ["bench.metrics (evaluation) imports bench.runner (app)"]


OWN_IMPORTER = {"ray": "bench.executor_ray"}
"""Optional third-party packages and the one module that may import each."""


def third_party(path: Path) -> set[str]:
    """The top-level names of every module ``path`` imports (at any depth of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(OWN_IMPORTER))
def test_an_optional_package_is_imported_by_its_own_module_only(package):
    importers = sorted(module for module, path in ALL.items() if package in third_party(path))
    assert importers == [OWN_IMPORTER[package]]
