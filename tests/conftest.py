"""Every test runs with its own cache folder and no data folder from the environment.

The synthetic dataset's generated files are the exception: one folder per test run, shared by every
test's cache (``<cache>/synthetic`` links to it), so a config's files are written once per run. They
are a pure function of the config, written atomically, and no test modifies them.
"""

import pytest


@pytest.fixture(scope="session")
def synthetic_files(tmp_path_factory):
    """The test run's folder of generated synthetic datasets."""
    return tmp_path_factory.mktemp("synthetic")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch, synthetic_files):
    cache = tmp_path_factory.mktemp("cache")
    (cache / "synthetic").symlink_to(synthetic_files, target_is_directory=True)
    monkeypatch.setenv("BENCH_CACHE_DIR", str(cache))
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db")
