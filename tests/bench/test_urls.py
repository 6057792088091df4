"""Credentials masked in URLs and free text; store URLs compared by the database they name."""

from __future__ import annotations

import logging

import optuna
import pytest

from bench.config import to_yaml
from bench.study import StudyConfig
from bench.urls import MaskingFilter, database_file, mask_text, mask_url, masked, same_store, sqlite_holds


@pytest.mark.parametrize("url, shown", [
    ("http://user:s3cret@host:5000", "http://user:***@host:5000"),
    ("postgresql+psycopg2://bob:pa@ss@db.example/optuna", "postgresql+psycopg2://bob:***@db.example/optuna"),
    ("mysql://root:pa%40ss@localhost/db", "mysql://root:***@localhost/db"),
    ("sqlite:///x.db?password=s3cret&timeout=3", "sqlite:///x.db?password=***&timeout=3"),
    ("https://host/api?token=abc", "https://host/api?token=***"),
    ("http://host:5000/a@b", "http://host:5000/a@b"),
    ("sqlite:///mlflow.db", "sqlite:///mlflow.db"),
])
def test_mask_url_hides_the_secret_and_nothing_else(url, shown):
    assert mask_url(url) == shown


def test_mask_text_masks_urls_inside_messages_even_unparsable_ones():
    text = "could not parse 'postgresql//user:s3cret@host/db' nor http://u:s3cret@h at 12:30"
    assert "s3cret" not in mask_text(text) and "user:***@host" in mask_text(text) and "12:30" in mask_text(text)
    assert masked({"a": ["http://u:s3cret@h"], "n": 3}) == {"a": ["http://u:***@h"], "n": 3}


def test_stored_yaml_of_a_config_never_holds_the_password():
    config = StudyConfig(tracking_uri="http://user:s3cret@host:5000")
    assert "s3cret" not in to_yaml(config) and "user:***@host" in to_yaml(config)
    assert config.resolved_tracking_uri == "http://user:s3cret@host:5000"  # kept in memory for the client


def test_log_records_are_masked():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "cannot reach %s", ("http://u:s3cret@h",), None)
    MaskingFilter().filter(record)
    assert record.getMessage() == "cannot reach http://u:***@h"


def test_store_urls_are_compared_by_the_file_they_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert database_file("sqlite:///x.db?timeout=30") == database_file("sqlite+pysqlite:///./x.db") == tmp_path / "x.db"
    assert same_store("sqlite:///x.db?timeout=30", f"sqlite+pysqlite:///{tmp_path}/sub/../x.db")
    assert not same_store("sqlite:///x.db", "sqlite:///y.db")
    assert same_store("postgresql://a:p@Host:5432/db", "postgresql+psycopg2://b@host:5432/db")
    assert database_file("http://host:5000") is None and database_file("sqlite://") is None


def test_sqlite_holds_tells_an_optuna_database(tmp_path):
    url = f"sqlite:///{tmp_path}/o.db"
    assert sqlite_holds(url) is None
    optuna.create_study(storage=url)
    assert sqlite_holds(url) == "optuna"
