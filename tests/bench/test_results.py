import math

from bench.results import CellStore, ResultRow, results_table


def row(**kw):
    kw = {"status": "ok", **kw}
    return ResultRow(study="s", dataset="synthetic", task="valence", protocol="trial-kfold", method="none",
                     classifier="svm", seed=0, fold="fold-0", leaky=False, cell_key="abc",
                     metrics={"accuracy": 0.5, "auroc": math.nan}, times={"train_s": 1.0}, confusion=[[1, 0], [0, 1]], **kw)


def test_a_cell_record_round_trips_including_nan(tmp_path):
    store = CellStore(tmp_path)
    store.save(row())
    back = store.load("abc")
    assert back.metrics["accuracy"] == 0.5 and math.isnan(back.metrics["auroc"])
    assert back.confusion == [[1, 0], [0, 1]]
    assert store.load("missing") is None


def test_an_unreadable_record_counts_as_not_done(tmp_path):
    store = CellStore(tmp_path)
    store.save(row())
    store.path("abc").write_text("{truncated")
    assert store.load("abc") is None


def test_the_table_has_one_column_per_metric_and_time():
    table = results_table([row()])
    assert {"accuracy", "auroc", "train_s", "status", "leaky"} <= set(table.columns)
    assert "confusion" not in table.columns


def test_a_record_written_with_the_old_status_name_reads_back_with_todays(tmp_path):
    store = CellStore(tmp_path)
    store.save(row(status="n/a"))  # as earlier versions wrote it: "n/a", checksummed as such
    assert '"status": "n/a"' in store.path("abc").read_text()
    assert store.load("abc").status == "not-applicable"
    # renaming it by hand is an edit the checksum refuses, as for any other field
    store.path("abc").write_text(store.path("abc").read_text().replace('"n/a"', '"not-applicable"'))
    assert store.load("abc") is None
