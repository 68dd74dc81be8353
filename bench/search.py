"""``python -m bench.search``: the case search (``ProcessEngine.reads.search_cases``, first page of 50 newest) over
50,000 cases, by number, contact (full number, last 4 digits), customer and text in the facts.

The cases are rows of the real tables, written in batches (plain ``insert`` on
SQLite, ``COPY`` on PostgreSQL) so that the schema's triggers fill the search
index (migration 0012: ``case_search`` and its trigram index) as a command's
insert would. Each carries a serialized state of ``--state-bytes`` (a live case
holds its workflow there) and intake data: a Chinese name (surname and one or two
characters), a mobile number (every third one typed with separators), facts of
two or three phrases of a complaint vocabulary. Then each query is read
``--reads`` times, cycling over 20 targets drawn from the data; the table gives
p50 and p95 and how many cases the last target matched (up to the page).

The floor is the search by number (one primary-key lookup through the same
service: what the search costs beyond the query itself). The rows ``data scan``
time the search as it was before migration 0012 -- a substring of the JSON
``data`` column of ``case_instance``, the first page newest first -- for the same
targets.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import JSON, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from engine.services import SYSTEM, FixedClock, ProcessEngine, TopicRegistry
from engine.services.convert import case_summary
from engine.store.models import Case

from .persisted import fresh_database

T0 = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=8)))
BATCH = 10_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文斌宇浩凯鹏辉晨婷雪琳"
PHRASES = ("宽带频繁掉线", "话费多扣", "要求退费", "未经同意开通增值业务", "营业厅排队时间长", "信号差通话中断",
           "客户经理态度不好", "套餐资费与宣传不符", "装机超时未上门", "账单金额有误", "携号转网受阻",
           "流量计费异常", "投诉后无人回访", "光猫故障无法上网", "短信验证码收不到", "国际漫游费用过高",
           "积分兑换失败", "销户后仍然扣费", "网速达不到承诺", "维修人员迟到")


class Generator:
    """Writes cases with intake data into ``case_instance``, in batches; the triggers index them."""

    def __init__(self, db, version_id: int, state_bytes: int, seed: int = 18):
        self.db, self.version_id, self.rng = db, version_id, random.Random(seed)
        self.state = json.dumps({"padding": "x" * state_bytes})
        self.names, self.phones = [], []

    def _case(self, n: int) -> dict:
        rng = self.rng
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        phone = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
        self.names.append(name)
        self.phones.append(phone)
        contact = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}" if n % 3 == 0 else phone
        facts = "客户反映" + ",".join(rng.sample(PHRASES, rng.choice((2, 3)))) + f",第{n}号登记。"
        at = T0 + timedelta(minutes=10 * n)
        return {"process_key": "normal", "version_id": self.version_id, "pinned": {"normal": self.version_id},
                "status": "running", "category": "complaint.billing.disputed_fees", "revision": 4,
                "state": self.state, "data": {"complainant_name": name, "contact": contact, "facts": facts,
                                              "channel": "hotline", "kind": "complaint"},
                "incident": None, "started_by": "bench", "started_at": at, "updated_at": at, "ended_at": None}

    def write(self, total: int) -> None:
        for start in range(0, total, BATCH):
            rows = [self._case(start + i) for i in range(min(BATCH, total - start))]
            with self.db.transaction() as session:
                if self.db.is_sqlite:
                    session.execute(insert(Case.__table__), rows)
                else:
                    self._copy(session, rows)

    @staticmethod
    def _copy(session, rows: list[dict]) -> None:
        table = Case.__table__
        columns = [c for c in table.columns if c.name in rows[0]]
        dialect = session.get_bind().dialect
        processors = [(lambda v: json.dumps(v, ensure_ascii=False)) if isinstance(c.type, JSON)
                      else c.type.bind_processor(dialect) for c in columns]
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({', '.join(c.name for c in columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([p(row[c.name]) if p and row[c.name] is not None else row[c.name]
                                for p, c in zip(processors, columns)])

    def tidy(self) -> None:
        """Analyse the tables, as autovacuum would after such a load."""
        if self.db.is_sqlite:
            with self.db.write_engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
            return
        with self.db.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("case_instance", "case_search"):
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


def timed(call, targets: list, reads: int) -> tuple[float, float, int]:
    """Return p50 and p95 in ms of ``reads`` calls cycling over ``targets`` (after one untimed call each)."""
    for target in targets:
        call(target)
    ms, found = [], 0
    for i in range(reads):
        started = time.perf_counter()
        found = call(targets[i % len(targets)])
        ms.append(1000 * (time.perf_counter() - started))
    return statistics.median(ms), statistics.quantiles(ms, n=20, method="inclusive")[18], found


def queries(gen: Generator, total: int) -> list[tuple[str, str, list]]:
    """(label, filter, targets): what each row of the table searches for."""
    rng = random.Random(7)
    picks = [rng.randrange(total) for _ in range(20)]
    two = [n for n in gen.names if len(n) == 2]
    three = [n for n in gen.names if len(n) == 3]
    return [("number (floor)", "number", [p + 1 for p in picks]),
            ("contact: full number", "contact", [gen.phones[p] for p in picks]),
            ("contact: typed 138-0013-8000", "contact", [f"{gen.phones[p][:3]}-{gen.phones[p][3:7]}-"
                                                         f"{gen.phones[p][7:]}" for p in picks]),
            ("contact: last 4 digits", "contact", [gen.phones[p][-4:] for p in picks]),
            ("customer: 2 characters", "customer", [two[p % len(two)] for p in picks]),
            ("customer: 3 characters", "customer", [three[p % len(three)] for p in picks]),
            ("text: 2 chars, common", "text", ["退费", "扣费", "掉线", "回访"]),
            ("text: 2 chars, absent", "text", ["鲲鹏", "火星"]),
            ("text: phrase, 1 in 20", "text", list(PHRASES)),
            ("text: registration no.", "text", [f"第{p}号" for p in picks]),
            ("text: phrase, absent", "text", ["卫星电话欠费", "无人机航拍"])]


def _data_scan(engine: ProcessEngine, field: str):
    """The search as it was before migration 0012: a substring of the JSON data, first page newest first (the
    rows read and summarised as the service does)."""
    key = {"contact": "contact", "customer": "complainant_name", "text": "facts"}[field]

    def call(wanted):
        query = select(Case).where(Case.data[key].as_string().contains(wanted, autoescape=True))
        with engine.store_session() as session:
            return len([case_summary(c) for c in session.scalars(query.order_by(Case.id.desc()).limit(50))])
    return call


def measure(engine: ProcessEngine, gen: Generator, total: int, reads: int, before: bool) -> list[tuple]:
    rows = []
    for label, field, targets in queries(gen, total):
        def call(wanted, f=field):
            return len(engine.reads.search_cases(SYSTEM, **{f: wanted}).cases)
        rows.append((label, "index", *timed(call, targets, reads)))
        if before and field != "number" and "typed" not in label:
            rows.append((label, "data scan", *timed(_data_scan(engine, field), targets, max(5, reads // 10))))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--reads", type=int, default=60, help="timed searches per row (default 60)")
    parser.add_argument("--state-bytes", type=int, default=6_000, help="serialized state per case (default 6,000)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--no-before", action="store_true", help="skip the data-scan rows (before migration 0012)")
    args = parser.parse_args(argv)
    print(f"bench.search: first page (50 newest) over {args.cases:,} cases; {args.reads} timed searches a row")
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        try:
            with fresh_database(kind) as db:
                run(kind, db, args)
        except (SQLAlchemyError, OSError) as exc:
            print(f"{kind:<11}SKIPPED: {str(exc).splitlines()[0]}")
    return 0


def run(kind: str, db, args) -> None:
    engine = ProcessEngine(db, FixedClock(datetime(2025, 7, 1, 9, tzinfo=T0.tzinfo)), TopicRegistry())
    [version] = engine.admin.deploy(_BPMN, "normal.bpmn")
    started = time.perf_counter()
    gen = Generator(db, version.version_id, args.state_bytes)
    gen.write(args.cases)
    gen.tidy()
    with db.transaction(write=False) as session:
        indexed = session.scalar(select(func.count()).select_from(text("case_search")))
        trigram = "FTS5 trigram" if db.is_sqlite else (
            "pg_trgm GIN" if session.scalar(text("SELECT count(*) FROM pg_indexes "
                                                 "WHERE indexname = 'ix_case_search_trgm'")) else "no trigram index")
    print(f"{kind}: {args.cases:,} cases ({indexed:,} indexed, {trigram}) written in "
          f"{time.perf_counter() - started:.1f} s")
    head = f"{'database':<11}{'search':<30}{'way':<11}{'p50 ms':>8}{'p95 ms':>9}{'found':>7}"
    print(head)
    print("-" * len(head))
    for label, way, p50, p95, found in measure(engine, gen, args.cases, args.reads, not args.no_before):
        print(f"{kind:<11}{label:<30}{way:<11}{p50:>8.2f}{p95:>9.2f}{found:>7}")


_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="bench">
  <bpmn:process id="normal" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept"/>
    <bpmn:userTask id="accept" name="Accept"/>
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

if __name__ == "__main__":
    sys.exit(main())
