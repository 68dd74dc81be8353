"""The inbox: a clerk sees the READY tasks assigned to them and, unless asked not to, those their groups may claim."""

from __future__ import annotations

import pytest

from engine.services import Actor, InvalidRequest
from tests.conftest import fixture_bytes


def _two_cases(engine):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    engine.admin.deploy(fixture_bytes("script_task.bpmn"), "script_task.bpmn")
    loop = engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market"})
    script = engine.cases.start("script_demo", {"amount": 1})
    return loop.open_tasks[0].id, script.open_tasks[0].id


def _ids(tasks) -> set[str]:
    return {t.id for t in tasks}


def test_group_members_see_claimable_tasks_and_others_do_not(engine, handler, market):
    investigate, review = _two_cases(engine)
    assert _ids(engine.reads.inbox(handler).tasks) == {investigate, review}
    assert engine.reads.inbox(market).tasks == ()
    assert engine.reads.inbox(Actor("nobody", frozenset())).tasks == ()


def test_a_claimed_task_leaves_the_other_candidates_inbox_and_stays_in_the_assignees(engine, handler):
    investigate, review = _two_cases(engine)
    colleague = Actor("hilde", frozenset({"handler"}))
    engine.cases.claim(investigate, handler)
    assert _ids(engine.reads.inbox(handler).tasks) == {investigate, review}
    assert _ids(engine.reads.inbox(handler, include_claimable=False).tasks) == {investigate}
    assert _ids(engine.reads.inbox(colleague).tasks) == {review}
    assert engine.reads.inbox(colleague, include_claimable=False).tasks == ()


def test_filters_by_process_and_i4_the_next_task_reaches_the_group_the_routing_names(engine, handler, market):
    investigate, review = _two_cases(engine)
    assert _ids(engine.reads.inbox(handler, process_key="script_demo").tasks) == {review}
    engine.cases.complete(investigate, {"note": "enough", "info_sufficient": True}, handler)
    reply = engine.reads.inbox(market).tasks
    assert [t.element_id for t in reply] == ["reply"]
    assert _ids(engine.reads.inbox(handler).tasks) == {review}, "the completed task left every inbox"


def _handler_cases(engine, clock, count: int) -> list[str]:
    """Start ``count`` loop cases a minute apart; return their investigate tasks, oldest first (none has a due)."""
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    ids = []
    for _ in range(count):
        ids.append(engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market"}).open_tasks[0].id)
        clock.advance(minutes=1)
    return ids


def _all_pages(engine, actor, **filters) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = engine.reads.inbox(actor, cursor=cursor, **filters)
        pages.append([t.id for t in page.tasks])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_the_inbox_pages_by_keyset_in_due_order_without_gaps_or_repeats(engine, handler, clock):
    tasks = _handler_cases(engine, clock, 7)
    assert _all_pages(engine, handler, page_size=3) == [tasks[:3], tasks[3:6], tasks[6:]]
    assert _all_pages(engine, handler, page_size=7) == [tasks]
    engine.cases.complete(tasks[3], {"note": "done", "info_sufficient": True}, handler)
    first = engine.reads.inbox(handler, page_size=3)
    later = engine.reads.inbox(handler, page_size=3, cursor=first.next_cursor)
    assert [t.id for t in later.tasks] == tasks[4:7], "a page starts after the last row seen, whatever ended since"


def test_tasks_with_a_deadline_come_first_earliest_first(engine, handler, clock):
    no_due = _handler_cases(engine, clock, 2)
    engine.admin.deploy(fixture_bytes("deadline.bpmn"), "deadline.bpmn")
    later = engine.cases.start("deadline_demo", {}).open_tasks[0]
    clock.advance(days=-1)
    sooner = engine.cases.start("deadline_demo", {}).open_tasks[0]
    page = engine.reads.inbox(handler)
    assert [t.id for t in page.tasks] == [sooner.id, later.id, *no_due]
    assert [t.id for t in engine.reads.inbox(handler, due_before=later.due_at).tasks] == [sooner.id]


def test_a_task_offered_to_two_of_my_groups_and_to_me_by_name_is_listed_once(engine, clock):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market"})
    both = Actor("hans", frozenset({"handler", "market"}))
    task_id = engine.reads.inbox(both).tasks[0].id
    engine.cases.complete(task_id, {"note": "ok", "info_sufficient": True}, both)   # reply goes to market
    reply_id = engine.reads.inbox(both).tasks[0].id
    assert [t.id for t in engine.reads.inbox(both, page_size=1).tasks] == [reply_id]
    assert _all_pages(engine, both, page_size=1) == [[reply_id]]


def test_counts_per_group_come_from_the_index_and_a_claim_moves_a_task_to_its_assignee(engine, handler, clock):
    tasks = _handler_cases(engine, clock, 3)
    page = engine.reads.inbox(handler, page_size=1)
    assert (page.assigned, page.claimable) == (0, {"handler": 3})
    engine.cases.claim(tasks[1], handler)
    page = engine.reads.inbox(handler, page_size=1)
    assert (page.assigned, page.claimable) == (1, {"handler": 2})
    assert [t.id for t in engine.reads.inbox(handler, include_claimable=False).tasks] == [tasks[1]]


def test_filters_keep_working_across_pages(engine, handler, clock):
    loops = _handler_cases(engine, clock, 3)
    engine.admin.deploy(fixture_bytes("script_task.bpmn"), "script_task.bpmn")
    reviews = []
    for _ in range(3):
        reviews.append(engine.cases.start("script_demo", {"amount": 1}).open_tasks[0].id)
        clock.advance(minutes=1)
    assert _all_pages(engine, handler, page_size=2, process_key="script_demo") == [reviews[:2], reviews[2:]]
    assert _all_pages(engine, handler, page_size=2, process_key="loop_demo") == [loops[:2], loops[2:]]


def test_a_cursor_the_inbox_did_not_give_is_refused_with_its_code(engine, handler):
    with pytest.raises(InvalidRequest) as refused:
        engine.reads.inbox(handler, cursor="not-a-cursor")
    assert refused.value.code == "invalid_cursor"
    with pytest.raises(InvalidRequest) as refused:
        engine.reads.inbox(handler, page_size=0)
    assert refused.value.code == "invalid_page_size"
