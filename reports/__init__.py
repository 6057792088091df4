"""Results in, tables out: the leaderboard, comparison tables, statistics, plots and the report.

Reads only the tidy results table (:func:`bench.results.results_table`, or an MLflow experiment
through :func:`bench.tracking.read_results`) and the run's ``quality/`` files; never imports
training code. Modules: ``leaderboard`` (the one aggregation), ``tables`` (format-free tables),
``render`` (Markdown/LaTeX/HTML), ``stats`` (Wilcoxon vs none, Holm, Friedman, Nemenyi),
``plots`` (matplotlib, headless), ``spectra`` (the quality file format), ``report`` (all of it).
"""
