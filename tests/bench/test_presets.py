"""Presets resolve to exactly the values docs/presets.md cites, per dataset; --set and --dry-run work on them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bench import presets
from bench.cli import main
from bench.config import flatten, to_dict
from bench.errors import ConfigError
from bench.registry import DATASETS

DOC = Path(__file__).resolve().parents[2] / "docs" / "presets.md"
SKIPPED = "(as deap)"


def doc_tables() -> dict[str, list[tuple[str, str, str, str]]]:
    """Preset name -> its table rows (dataset, field, value, source) from docs/presets.md."""
    tables, current = {}, None
    for line in DOC.read_text().splitlines():
        if m := re.match(r"^### (\S+)$", line):
            current = m.group(1)
            tables[current] = []
        elif line.startswith("## "):  # a new section: the preset tables are over
            current = None
        elif current and line.startswith("| ") and not line.startswith(("| dataset", "|---")):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            tables[current].append(tuple(cells))
    return tables


TABLES = doc_tables()


def expected(preset: str, dataset: str) -> dict[str, object]:
    """Field -> value the doc table says ``preset`` sets on ``dataset`` (its own rows over the ``all`` rows)."""
    rows = [r for r in TABLES[preset] if r[1] != SKIPPED]
    out = {field: yaml.safe_load(value) for where, field, value, _ in rows if where == "all"}
    out.update({field: yaml.safe_load(value) for where, field, value, _ in rows if where == dataset})
    return out


def test_the_doc_has_a_table_per_preset_and_every_row_cites_a_source():
    assert set(TABLES) == set(presets.names()) == {"escgan-paper", "de3dgan-paper"}
    for preset, rows in TABLES.items():
        for where, field, value, source in rows:
            assert where == "all" or where in DATASETS.names(), (preset, where)
            assert field == SKIPPED or source, f"{preset} {field}: no source cited"
        assert {r[0] for r in rows if r[1] == SKIPPED} | {"deap"} >= set(DATASETS.names()) - {"seed"}


@pytest.mark.parametrize("preset", ["escgan-paper", "de3dgan-paper"])
@pytest.mark.parametrize("dataset", ["synthetic", "deap", "seed", "amigos"])
def test_each_preset_resolves_on_each_dataset_to_the_cited_values(preset, dataset):
    (study,) = presets.build_studies(preset, cli={"datasets": [dataset]})
    resolved = flatten(to_dict(study))
    want = expected(preset, dataset)
    for field, value in want.items():
        if field == "datasets":
            continue  # the one asked for here; the table gives the preset's default
        assert resolved[field] == value, f"{preset} on {dataset}: {field} is {resolved[field]!r}, docs say {value!r}"
    # And the other way round: everything the preset file sets for this dataset has a row.
    spec = presets.load(preset)
    set_here = flatten(presets.merge(spec["study"], spec["datasets"].get(dataset) or {}))
    assert set(set_here) <= set(want), f"{preset}: rows missing in docs/presets.md for {set(set_here) - set(want)}"
    assert study.preset == preset


def test_the_preset_default_datasets_match_the_table():
    for preset in presets.names():
        (study,) = presets.build_studies(preset)
        assert list(study.datasets) == expected(preset, "deap")["datasets"]


def test_set_and_options_override_a_preset_and_datasets_with_other_settings_become_separate_studies():
    studies = presets.build_studies("escgan-paper", sets=["method.escgan.mixup=false", "features.ddof=1"],
                                    cli={"datasets": ["synthetic", "deap", "seed"], "profile": "quick"})
    assert [s.datasets for s in studies] == [("synthetic", "deap"), ("seed",)]
    deap, seed = studies
    assert deap.profile == seed.profile == "quick"
    assert deap.method["escgan"]["mixup"] is False and seed.method["escgan"]["mixup"] is False
    assert deap.features.ddof == 1 and deap.features.de_of == "std"
    assert seed.features.source == "de_LDS" and seed.features.window_norm == "minmax-bands"
    assert seed.method_config("escgan").filter_threshold == 2.0 and deap.method_config("escgan").filter_threshold == 0.0
    # --set wins over the preset's per-dataset section too
    (seed,) = presets.build_studies("escgan-paper", sets=["method.escgan.filter_threshold=1.5"], cli={"datasets": ["seed"]})
    assert seed.method_config("escgan").filter_threshold == 1.5


def test_an_unknown_preset_names_the_known_ones():
    with pytest.raises(ConfigError, match="escgan-paper"):
        presets.build_studies("escgan")


def test_dry_run_prints_the_resolved_study_and_planned_cells_without_reading_data(capsys, monkeypatch):
    import datasets.pipeline

    def no_data(*a, **k):
        raise AssertionError("--dry-run read data")

    monkeypatch.setattr(datasets.pipeline, "prepare", no_data)
    assert main(["run", "--preset", "de3dgan-paper", "--datasets", "synthetic", "--classifiers", "sa-st-net,svm",
                 "--tasks", "valence", "--dry-run"]) == 0
    out = capsys.readouterr().out
    study = yaml.safe_load("\n".join(line for line in out.splitlines() if not line.startswith("#")))
    assert study["preset"] == "de3dgan-paper" and study["labels"]["comparison"] == ">"
    assert study["method"]["de3dgan"]["runs"] == "trial" and study["epoch_metrics"] == 100
    plan = [line for line in out.splitlines() if line.startswith("#   ")]
    # 5 folds x the default seeds 0 and 1
    assert any(re.search(r"none\s+sa-st-net\s+default\s+10 cells\s+run", line) for line in plan)
    assert any(re.search(r"de3dgan\s+sa-st-net\s+paper\s+10 cells\s+run", line) for line in plan)
    assert any(re.search(r"de3dgan\s+svm\s+paper\s+10 cells\s+not-applicable: the de3dgan paper recipe fine-tunes "
                         r"sa-st-net's fc1 features; svm has none", line) for line in plan)
    assert "# total: 30 cells to compute, 1 pairs not-applicable" in out


def test_bench_list_shows_the_presets(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "presets" in out and "escgan-paper" in out and "de3dgan-paper" in out
