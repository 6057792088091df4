"""The examples of docs/using-in-your-pipeline.md run as written."""

import re
from pathlib import Path

import numpy as np
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "using-in-your-pipeline.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_both_examples():
    assert len(EXAMPLES) == 2


@pytest.mark.parametrize("code", [
    pytest.param(EXAMPLES[0], id="escgan-pipeline-cross-validate", marks=pytest.mark.slow),  # 3 GAN fits, ~25 s
    pytest.param(EXAMPLES[1], id="svm-grid-search"),
])
def test_example_runs(code, capsys):
    namespace = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    if "scores" in namespace:
        assert len(namespace["scores"]["test_score"]) == 3 and np.isfinite(namespace["scores"]["test_score"]).all()
    else:
        assert namespace["search"].best_params_["C"] in (0.1, 1.0, 10.0) and namespace["search"].best_score_ > 0.5
    assert capsys.readouterr().out
