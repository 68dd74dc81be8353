"""The benchmark's extra tables keep the serial ``ratio`` line last; a failing client thread fails the run."""

import pytest

from bench.__main__ import main
from bench.concurrent import concurrent_batch


def test_concurrent_and_floor_tables_come_before_the_serial_ratio(capsys):
    code = main(["--databases", "sqlite", "--cases", "4", "--repeat", "1", "--warmup", "1", "--clients", "2"])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[-1].startswith("ratio ")
    assert lines[-2].startswith("concurrent ratio (2 clients) ")
    assert any(line.startswith("floor: driver-only writes, no engine") for line in lines)
    assert any(line.startswith("sqlite: journal_mode=wal, synchronous=NORMAL") for line in lines)


def test_serial_run_prints_no_concurrent_ratio(capsys):
    main(["--databases", "sqlite", "--cases", "2", "--repeat", "1", "--warmup", "0"])

    out = capsys.readouterr().out
    assert "concurrent ratio" not in out
    assert out.splitlines()[-1].startswith("ratio ")


class FailingClient:
    def __init__(self):
        self.calls = 0

    def run_case(self):
        self.calls += 1
        if self.calls >= 3:
            raise ValueError("broken case")


def test_a_failing_client_thread_fails_the_batch():
    with pytest.raises(RuntimeError, match="broken case"):
        concurrent_batch(FailingClient(), cases=8, clients=2)
