"""The benchmark's driver-only clients write whole cases on both databases, as the engine would; the commit
probe commits once per command and leaves nothing behind."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from bench.floor import CommitProbe, FloorRunner
from bench.instructions import DATABASE_SIDES, MEMORY_SIDES, child
from bench.instructions import main as instructions_main
from bench.lean import LeanRunner
from bench.persisted import PersistedRunner
from bench.workload import DEFAULT_BPMN


def test_the_floor_and_the_lean_client_write_complete_cases_like_the_engine(db):
    bpmn = DEFAULT_BPMN.read_bytes()
    engine = PersistedRunner(db, bpmn)
    engine.run_case()
    clients = [FloorRunner(db, bpmn), LeanRunner(db, bpmn)]
    try:
        for client in clients:
            client.run_case()
            client.run_case()
            assert client.commits == 8, "one transaction per command: a start and three completes per case"
            # Completed cases with every task completed, no inbox row left, as many audit events as the engine's.
            engine.check_and_measure(engine.case_ids + client.case_ids)
    finally:
        for client in clients:
            client.close()


def test_the_commit_probe_commits_four_transactions_per_case_and_drops_its_table(db):
    probe = CommitProbe(db)
    try:
        probe.run_case()
        probe.run_case()
        assert probe.commits == 8
        # Committed, not pending: another connection (the engine's) reads the probe's counter.
        with db.write_engine.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT n FROM {CommitProbe.TABLE}").scalar() == 8
    finally:
        probe.close()
    with db.write_engine.connect() as conn:
        assert CommitProbe.TABLE not in inspect(conn).get_table_names()


@pytest.mark.parametrize("side", MEMORY_SIDES + DATABASE_SIDES)
def test_each_side_the_instruction_count_runs_under_valgrind_completes_its_cases(db_url, side):
    # What bench.instructions runs under callgrind in a child process: set-up, warm-up, then the counted cases.
    # Each runner raises if a case does not run to its end.
    child(side, "sqlite" if db_url.startswith("sqlite") else "postgresql", 2)


def test_without_valgrind_the_instruction_count_says_so_and_counts_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))        # an empty directory: no valgrind on the PATH

    assert instructions_main(["--databases", "sqlite"]) == 0
    assert capsys.readouterr().out.strip() == "bench.instructions: valgrind is not installed; no instruction counts"
