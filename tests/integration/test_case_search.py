"""Issue 18: the case search by customer, contact and text goes through the index of migration 0012
(``case_search``, trigram-indexed), gives the same cases on SQLite and PostgreSQL, and follows the facts when a
task completion or an administrator's repair changes them."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, insert, make_url, select, text

from engine.services import SYSTEM, ProcessEngine, TopicRegistry
from engine.store.db import Database
from engine.store.migrate import upgrade
from engine.store.models import Case, CaseSearch, ProcessVersion
from tests.conftest import PG_URL

FORM = "".join(f'<camunda:formField id="{name}" type="string" />' for name in ("complainant_name", "contact", "facts"))
XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_sr" targetNamespace="http://example.org/tests">
  <bpmn:process id="sr" name="search" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>{FORM}</camunda:formData>
    </bpmn:extensionElements></bpmn:startEvent>
    <bpmn:userTask id="amend" camunda:candidateGroups="handler"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="facts" type="string" /></camunda:formData></bpmn:extensionElements></bpmn:userTask>
    <bpmn:userTask id="review" camunda:candidateGroups="handler" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="amend" />
    <bpmn:sequenceFlow id="f2" sourceRef="amend" targetRef="review" />
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()

PEOPLE = [("张三", "13800138000", "宽带掉线,要求退费"), ("张三丰", "+86 139-1234-5678", "话费多扣了50元"),
          ("李四", "010-6666-1234", "退费迟迟未到账"), ("王五", "wang.wu@example.com", "网络信号差"),
          ("Zhao Liu", "021 5555 0000", "charged 50%_more than the plan")]


@pytest.fixture
def cases(engine, handler):
    engine.admin.deploy(XML, "sr.bpmn")
    return {name: engine.cases.start("sr", {"complainant_name": name, "contact": contact, "facts": facts},
                                     handler).id for name, contact, facts in PEOPLE}


def found(engine, **filters) -> list[int]:
    return sorted(c.id for c in engine.reads.search_cases(SYSTEM, **filters).cases)


def ids(cases, *names) -> list[int]:
    return sorted(cases[n] for n in names)


def test_a_customer_is_found_by_a_part_of_the_name_of_one_two_or_three_characters(engine, cases):
    assert found(engine, customer="张") == ids(cases, "张三", "张三丰")
    assert found(engine, customer="张三") == ids(cases, "张三", "张三丰")        # two characters: no trigram
    assert found(engine, customer="张三丰") == ids(cases, "张三丰")              # three: the trigram index
    assert found(engine, customer="三丰") == ids(cases, "张三丰")
    assert found(engine, customer="zhao l") == ids(cases, "Zhao Liu")           # case is ignored
    assert found(engine, customer="赵") == []


def test_the_facts_are_found_by_a_two_character_word_and_by_a_phrase(engine, cases):
    assert found(engine, text="退费") == ids(cases, "张三", "李四")
    assert found(engine, text="宽带掉线") == ids(cases, "张三")
    assert found(engine, text="到账") == ids(cases, "李四")
    assert found(engine, text="宽带到账") == []
    assert found(engine, text="50") == ids(cases, "张三丰", "Zhao Liu")
    assert found(engine, text="50%") == ids(cases, "Zhao Liu")                  # % and _ are plain characters
    assert found(engine, text="%_") == ids(cases, "Zhao Liu")
    assert found(engine, text='"退费"') == []                                   # a quote is a plain character


def test_a_phone_is_found_by_its_full_number_by_its_last_four_digits_and_by_a_part(engine, cases):
    assert found(engine, contact="13800138000") == ids(cases, "张三")
    assert found(engine, contact="138-0013-8000") == ids(cases, "张三")        # separators as typed do not matter
    assert found(engine, contact="8613912345678") == ids(cases, "张三丰")
    assert found(engine, contact="13912345678") == ids(cases, "张三丰")        # without the country code
    # Four digits are the last four: 139-1234-5678 holds 1234 in the middle and is not found by it.
    assert found(engine, contact="1234") == ids(cases, "李四")
    assert found(engine, contact="5678") == ids(cases, "张三丰")
    assert found(engine, contact="0000") == ids(cases, "Zhao Liu")
    assert found(engine, contact="5555") == []                                # 021 5555 0000 ends in 0000
    assert found(engine, contact="66661") == ids(cases, "李四")                # more digits: a part of the number
    assert found(engine, contact="@example") == ids(cases, "王五")
    assert found(engine, contact="55550000", text="50%") == ids(cases, "Zhao Liu") == found(engine, contact="021 5555 0000")


def test_the_index_follows_facts_changed_by_a_task_completion_and_by_a_repair(engine, cases, handler, admin):
    case_id = cases["王五"]
    [task] = [t for t in engine.reads.inbox(handler).tasks if t.case_id == case_id]
    engine.cases.claim(task.id, handler)
    engine.cases.complete(task.id, {"facts": "客户改称宽带中断"}, handler)
    assert found(engine, text="宽带中断") == [case_id] and found(engine, text="信号差") == []
    engine.cases.repair(case_id, admin, reason="登记时写错", data={"facts": "客户反映信号时断时续",
                                                                  "contact": "13700001111"}, retry=False)
    assert found(engine, text="时断时续") == [case_id] and found(engine, text="宽带中断") == []
    assert found(engine, contact="1111") == [case_id] and found(engine, contact="@example") == []
    assert found(engine, customer="王五") == [case_id]


def test_the_search_pages_stay_in_order_with_an_indexed_filter(engine, cases):
    first = engine.reads.search_cases(SYSTEM, text="费", page_size=1)
    second = engine.reads.search_cases(SYSTEM, text="费", page_size=2, cursor=first.next_cursor)
    assert [c.id for c in first.cases + second.cases] == sorted(ids(cases, "张三", "张三丰", "李四"), reverse=True)
    assert second.next_cursor is None


def test_migration_0012_indexes_the_cases_written_before_it(db_url, clock):
    database = Database(db_url)
    upgrade(database.write_engine, "0011")
    at = datetime(2025, 3, 3, tzinfo=timezone.utc)
    with database.transaction() as session:
        version = session.execute(insert(ProcessVersion).returning(ProcessVersion.id), [{
            "key": "sr", "version": 1, "name": "search", "file_name": "sr.bpmn", "xml": XML, "sha256": "0" * 64,
            "calls": [], "deployed_by": "test", "deployed_at": at}]).scalar_one()
        old = session.execute(insert(Case).returning(Case.id), [{
            "process_key": "sr", "version_id": version, "pinned": {"sr": version}, "status": "completed",
            "category": None, "revision": 3, "state": "{}", "data": {
                "complainant_name": "钱七", "contact": "139 0000 4321", "facts": "多次投诉无人回访"},
            "incident": None, "started_by": "test", "started_at": at, "updated_at": at, "ended_at": at}]).scalar_one()
    upgrade(database.write_engine)
    engine = ProcessEngine(database, clock, TopicRegistry())
    try:
        assert found(engine, contact="4321") == found(engine, text="无人回访") == found(engine, customer="钱") == [old]
        with database.transaction(write=False) as session:
            assert session.scalar(select(CaseSearch.contact_key).where(CaseSearch.case_id == old)) == "13900004321"
    finally:
        database.dispose()


def test_postgresql_answers_the_text_search_from_the_trigram_index(db):
    if db.is_sqlite:
        with db.transaction(write=False) as session:
            assert session.execute(text("SELECT count(*) FROM case_search_fts")).scalar() == 0
        return
    with db.transaction(write=False) as session:
        definition = session.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_case_search_trgm'")).scalar()
    assert "gin" in definition and "gin_trgm_ops" in definition


# PostgreSQL only: SQLite's FTS5 comes with Python's sqlite3, so no SQLite deployment lacks the index.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_without_the_trigram_index_the_search_finds_the_same_cases(db, engine, cases):
    """A PostgreSQL without pg_trgm (migration 0012 then skips the GIN index): the same answers, by a scan."""
    with db.transaction() as session:
        session.execute(text("DROP INDEX ix_case_search_trgm"))
    assert [found(engine, text="宽带掉线"), found(engine, customer="张三丰"), found(engine, contact="13912345678"),
            found(engine, contact="1234")] == [ids(cases, "张三"), ids(cases, "张三丰"), ids(cases, "张三丰"),
                                               ids(cases, "李四")]


def test_migration_0012_goes_on_without_pg_trgm_when_the_user_may_not_create_it(caplog, clock):
    """A database where pg_trgm is not installed and the application's role may not create extensions."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    suffix = uuid.uuid4().hex[:10]
    name, role = f"notrgm_{suffix}", f"app_{suffix}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    base = make_url(PG_URL)
    owner = create_engine(base.set(database=name), isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA app AUTHORIZATION {role}"))
        database = Database(base.set(database=name, username=role).render_as_string(hide_password=False)
                            + "?options=-csearch_path%3Dapp")
        try:
            with caplog.at_level("WARNING"):
                upgrade(database.write_engine)
            assert "pg_trgm is not installed and this user may not create it" in caplog.text
            engine = ProcessEngine(database, clock, TopicRegistry())
            engine.admin.deploy(XML, "sr.bpmn")
            made = engine.cases.start("sr", {"complainant_name": "孙八", "contact": "13500001234",
                                             "facts": "宽带掉线"}, SYSTEM).id
            assert found(engine, text="宽带掉线") == found(engine, contact="1234") == [made]
            with database.transaction(write=False) as session:
                assert session.scalar(text("SELECT count(*) FROM pg_indexes WHERE indexname = "
                                           "'ix_case_search_trgm'")) == 0
        finally:
            database.dispose()
    finally:
        owner.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()
