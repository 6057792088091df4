"""Chunked checksums and the clean-up of partial writes."""

from __future__ import annotations

import os

import numpy as np

from bench import integrity
from bench.integrity import buffer_digests, clean_partials, file_digests, partial_path, record_checksum, verify_file


def test_chunk_digests_see_a_change_in_any_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(integrity, "CHUNK", 1024)
    a = np.arange(1000, dtype=np.float64)  # 8000 bytes: 8 chunks, hashed on threads
    digests = buffer_digests(a)
    assert len(digests) == 8 and buffer_digests(a.copy()) == digests
    b = a.copy()
    b[700] += 1
    changed = [i for i, (x, y) in enumerate(zip(buffer_digests(b), digests)) if x != y]
    assert changed == [700 * 8 // 1024]


def test_verify_file_detects_an_in_place_change(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 5000)
    digests = file_digests(path)
    assert verify_file(path, digests)
    with open(path, "r+b") as f:
        f.seek(10)
        f.write(b"y")
    assert not verify_file(path, digests)


def test_record_checksum_is_canonical():
    assert record_checksum({"a": 1, "b": [1.5, None]}) == record_checksum({"b": [1.5, None], "a": 1})
    assert record_checksum({"a": 1}) != record_checksum({"a": 2})


def test_old_partials_of_another_host_are_removed(tmp_path):
    other = tmp_path / ".k.otherhost-1.0123abcd.partial"
    other.mkdir()
    recent = tmp_path / ".k.otherhost-2.0123abcd.partial"
    recent.mkdir()
    old = 3 * integrity.STALE_AFTER_S
    os.utime(other, (os.path.getmtime(other) - old,) * 2)
    assert clean_partials(tmp_path) == [other]
    assert recent.is_dir()
    assert partial_path(tmp_path / "k").name.startswith(".k.") and partial_path(tmp_path / "k").name.endswith(".partial")
