from pathlib import Path

import bench
import datasets

REPO = Path(__file__).resolve().parents[1]


def test_datasets_is_this_repositorys_package_not_hugging_faces():
    assert Path(datasets.__file__).resolve().is_relative_to(REPO)
    assert Path(bench.__file__).resolve().is_relative_to(REPO)
