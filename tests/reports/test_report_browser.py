"""The HTML report opened in headless Chromium (marked ``browser``: ``make test-browser`` installs Debian's ``chromium``).

The screenshot is kept as ``test-artifacts/report-screenshot.png`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from reports.report import build, to_html
from tests.browser import browse, chromium_path
from tests.reports.fixtures import results, with_quality, with_robustness, write_quality_files

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SCORES = {("none", "svm"): [0.60, 0.62, 0.55, 0.70, 0.66, 0.58], ("smote", "svm"): [0.65, 0.61, 0.60, 0.78, 0.70, 0.59],
          ("noise", "svm"): [0.61, 0.66, 0.56, 0.72, 0.69, 0.60]}
COUNT_DECODED = ("<script>addEventListener('load', () => { document.body.dataset.decoded = "
                 "[...document.images].filter(i => i.complete && i.naturalWidth > 0).length; });</script></body>")


pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def chromium() -> str:
    return chromium_path()


class Page(HTMLParser):
    """Counts what the rendered DOM holds."""

    def __init__(self) -> None:
        super().__init__()
        self.tables, self.captions, self.images, self.strong, self.underlined, self.decoded = 0, [], [], 0, 0, None
        self._caption = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tables += tag == "table"
        self.strong += tag == "strong"
        self.underlined += tag == "u"
        self._caption = tag == "caption"
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "body":
            self.decoded = attrs.get("data-decoded")

    def handle_data(self, data):
        if self._caption:
            self.captions.append(data)
            self._caption = False


def test_the_html_report_renders_in_headless_chromium(chromium, tmp_path):
    frame = with_quality(with_robustness(results(SCORES)))
    write_quality_files(tmp_path, frame[frame["method"] == "smote"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build(frame, "bench report — browser test", "http://127.0.0.1:5000/#/experiments/1", tmp_path)
    page = to_html(report)
    ARTIFACTS.mkdir(exist_ok=True)
    html_path = ARTIFACTS / "report.html"
    html_path.write_text(page, encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", COUNT_DECODED), encoding="utf-8")

    dumped = browse(chromium, tmp_path / "profile-dom", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = Page()
    dom.feed(dumped.stdout)
    n_tables = sum(kind == "table" for kind, _ in report.blocks)
    n_figures = sum(kind == "figure" for kind, _ in report.blocks)
    assert dom.tables == n_tables >= 7
    assert any(c.startswith("Leaderboard — synthetic / valence / trial-kfold") for c in dom.captions)
    assert any(c.startswith("accuracy under pgd") for c in dom.captions)
    assert dom.strong > 0 and dom.underlined > 0
    assert len(dom.images) == n_figures >= 5 and all(s.startswith("data:image/png;base64,") for s in dom.images)
    assert dom.decoded == str(n_figures)  # every image decoded by the browser, none broken

    shot = ARTIFACTS / "report-screenshot.png"
    shot.unlink(missing_ok=True)
    taken = browse(chromium, tmp_path / "profile-shot", "--hide-scrollbars", "--window-size=1280,3000",
                   f"--screenshot={shot}", html_path.as_uri())
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (3000, 1280) and shot.stat().st_size > 50_000
    rows_with_ink = (pixels.min(axis=(1, 2)) < 0.5).mean()
    assert rows_with_ink > 0.3  # text, tables and figures down the page, not a blank or error page
    assert len(np.unique(pixels.reshape(-1, 3).round(2), axis=0)) > 200  # coloured plots, not only text
    assert re.search(r"\bERR_", taken.stderr) is None
