"""Results in, tables out: leaderboards (and, as the project grows, statistics, plots and HTML).

Reads only the tidy results table (:func:`bench.results.results_table`); never imports training
code.
"""
