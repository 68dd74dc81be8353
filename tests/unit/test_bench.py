"""The benchmark's extra tables keep the serial ``ratio`` line last; a failing client thread fails the run."""

import pytest

from bench.__main__ import ceiling, main
from bench.concurrent import concurrent_batch
from engine.services import SYSTEM


def test_concurrent_and_floor_tables_come_before_the_serial_ratio(capsys):
    code = main(["--databases", "sqlite", "--cases", "4", "--repeat", "1", "--warmup", "1", "--clients", "2"])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[-1].startswith("ratio ")
    assert lines[-2].startswith("concurrent ratio (2 clients) ")
    assert any(line.startswith("floor and lean client: ") for line in lines)
    assert any(line.startswith("ceilings: ") for line in lines)
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


def test_the_breakdown_completes_tasks_exactly_as_the_engine_does():
    """bench.breakdown times the calls of cases.complete one by one: the case and its audit trail must match."""
    from collections import Counter

    from bench.breakdown import PARTS, bench_core, complete_in_parts
    from bench.persisted import PersistedRunner, fresh_database
    from bench.workload import ACTOR, DEFAULT_BPMN, FORMS, START_DATA

    with fresh_database("sqlite") as db:
        runner = PersistedRunner(db, DEFAULT_BPMN.read_bytes())
        core = bench_core(runner)
        trails, times = [], Counter()
        for complete in (lambda t: runner.engine.cases.complete(t.id, FORMS[t.element_id], ACTOR),
                         lambda t: complete_in_parts(core, t.id, FORMS[t.element_id], times)):
            result = runner.engine.cases.start(runner.key, START_DATA, ACTOR)
            while result.open_tasks:
                result = complete(result.open_tasks[0])
            detail = runner.engine.reads.case_page(result.id, SYSTEM)
            assert detail.case.status == "completed"
            trails.append([(e.element_id, e.lifecycle, e.data) for e in detail.events])
    assert trails[0] == trails[1]
    assert set(times) == set(PARTS) and all(seconds > 0 for seconds in times.values())


def test_the_server_log_reader_sums_each_backends_durations_by_statement_and_phase():
    from bench.server import parse_log

    lines = [
        "2026-11-27 15:45:32.256 UTC [5603] postgres@test LOG:  duration: 0.004 ms  bind _pg3_4: SELECT user_task.id, "
        "user_task.case_id",
        "2026-11-27 15:45:32.257 UTC [5603] postgres@test LOG:  duration: 0.121 ms  execute <unnamed>: UPDATE "
        "case_instance SET status=$1::VARCHAR",
        "2026-11-27 15:45:32.257 UTC [5603] postgres@test LOG:  duration: 0.079 ms  execute _pg3_2: UPDATE "
        "case_instance SET status=$1::VARCHAR",
        "\tQuery Text: SELECT 1 FROM ONLY x",
        "2026-11-27 15:45:32.258 UTC [7777] postgres@test LOG:  duration: 9.000 ms  statement: COMMIT",
        "2026-11-27 15:45:32.258 UTC [5603] postgres@test LOG:  duration: 0.109 ms  statement: COMMIT",
    ]
    ms, count = parse_log(lines, {5603})
    assert ms == {("SELECT user_task", "bind"): 0.004, ("UPDATE case_instance", "execute"): 0.2,
                  ("COMMIT", "statement"): 0.109}
    assert count == {"UPDATE case_instance": 2, "COMMIT": 1}


def test_a_ceiling_pairs_each_round_with_its_own_bare_figure():
    # cases/s per round: writes alone and bare SpiffWorkflow. bare ms / (bare ms + writes ms) = w / (w + b).
    writes, bare = [100.0, 300.0, 50.0], [100.0, 100.0, 150.0]
    assert ceiling(writes, bare) == pytest.approx(0.5)       # rounds give 0.5, 0.75, 0.25: their median
    assert ceiling([300.0], [100.0]) == pytest.approx(0.75)  # 3.33 ms bare against 10 ms bare + writes


def test_the_inbox_bench_reads_first_pages_of_a_10_task_and_a_10000_task_person(capsys):
    from bench.inbox import main as inbox_main

    assert inbox_main(["--databases", "sqlite", "--sizes", "10100", "--reads", "3"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("sqlite ")]
    seen = {(r[2], r[3], r[4]) for r in rows if len(r) >= 7}
    assert {("small.user", "10", "service"), ("small.user", "10", "api"), ("big.user", "10,000", "service"),
            ("big.user", "10,000", "page")} <= seen


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_http_bench_serves_whole_cases_with_gunicorn_and_counts_sql_in_the_server(db_url, capsys):
    from bench.http import main as http_main

    assert http_main(["--cases", "8", "--warmup", "2", "--clients", "2"]) == 0
    out = capsys.readouterr().out
    assert "measured nothing" not in out, out
    counted = next(line for line in out.splitlines() if line.startswith("http cases/s"))
    statements = float(counted.split("statements ")[1].split(",")[0])
    assert 10 < statements < 30, counted          # one case: a start and three completes, counted by the workers
    assert out.splitlines()[-1].startswith("http/service ")


def test_the_reports_bench_generates_cases_and_reads_every_report(capsys):
    from bench.reports import main as reports_main

    assert reports_main(["--cases", "600", "--reads", "1", "--databases", "sqlite"]) == 0
    out = capsys.readouterr().out
    assert "generated 600 cases" in out
    for report in ("P-1 2025-W24", "P-2 2025-06", "P-3 2025-Q2", "P-4 2025-06", "P-2 drill overdue", "XLSX"):
        assert report in out
    assert "SKIPPED" not in out
