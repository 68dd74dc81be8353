"""The inbox query: pages of a person's READY tasks read from the inbox index, never by scanning ``user_task``.

Whoever sees a task has a row of ``task_candidate`` carrying the task's sort key
(due time, creation time, id). A page is the union of one index range per way of
seeing tasks (assigned to me, offered to me by name, offered to each of my
groups), each range already limited to the page size, then joined to its task
rows: its cost depends on the page size and the number of groups, not on how
many tasks are open. Paging is by keyset: the next page starts after the sort key
of the last row of this one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import Select, func, literal, or_, select, tuple_, union
from sqlalchemy.orm import Session

from .models import Case, ProcessVersion, TaskCandidate, UserTask

_index, _task, _case = TaskCandidate.__table__, UserTask.__table__, Case.__table__
SortKey = tuple[datetime, datetime, str]        # (due_sort, created_at, task_id)


def _who(username: str, groups: Iterable[str], include_claimable: bool) -> list[tuple[str, str]]:
    """Return the (kind, name) index entries through which ``username`` sees tasks."""
    who = [("assignee", username)]
    if include_claimable:
        who += [("user", username)] + [("group", g) for g in sorted(set(groups))]
    return who


def _range(kind: str, name: str, after: SortKey | None, limit: int, process_key: str | None,
           category: str | None, due_before: datetime | None) -> Select:
    """One ordered range of the index: the first ``limit`` entries of (kind, name) after ``after``."""
    sort = (_index.c.due_sort, _index.c.created_at, _index.c.task_id)
    query = select(*sort).where(_index.c.kind == kind, _index.c.name == name)
    if after is not None:
        query = query.where(tuple_(*sort) > tuple_(*(literal(v, c.type) for v, c in zip(after, sort))))
    if due_before is not None:
        query = query.where(_index.c.due_sort < due_before)
    if process_key or category:
        query = query.join(_task, _task.c.id == _index.c.task_id).join(_case, _case.c.id == _task.c.case_id)
    if process_key:
        query = query.where(_case.c.process_key == process_key)
    if category:
        # A category filter takes the code and everything under it in the tree.
        query = query.where(or_(_case.c.category == category, _case.c.category.startswith(category + ".")))
    return query.order_by(*sort).limit(limit)


def page(session: Session, username: str, groups: Iterable[str], *, limit: int, after: SortKey | None = None,
         include_claimable: bool = True, process_key: str | None = None, category: str | None = None,
         due_before: datetime | None = None) -> list[tuple[Any, SortKey]]:
    """Return up to ``limit`` READY tasks ``username`` sees, by due time, each with its sort key.

    Each range is cut at ``limit`` before the union: the first ``limit`` distinct
    tasks overall are among the first ``limit`` of the ranges they come from.
    """
    ranges = [_range(kind, name, after, limit, process_key, category, due_before).subquery()
              for kind, name in _who(username, groups, include_claimable)]
    keys = union(*(select(*r.c) for r in ranges)).subquery() if len(ranges) > 1 else ranges[0]
    query = (select(_task, keys.c.due_sort).join(keys, keys.c.task_id == _task.c.id)
             .order_by(keys.c.due_sort, keys.c.created_at, keys.c.task_id).limit(limit))
    return [(row, (row.due_sort, row.created_at, row.id)) for row in session.execute(query)]


def counts(session: Session, username: str, groups: Sequence[str]) -> tuple[int, dict[str, int]]:
    """Return how many READY tasks are assigned to ``username``, and how many unclaimed ones each group may claim."""
    rows = session.execute(
        select(_index.c.kind, _index.c.name, func.count())
        .where(or_((_index.c.kind == "assignee") & (_index.c.name == username),
                   (_index.c.kind == "group") & _index.c.name.in_(sorted(set(groups)) or [""])))
        .group_by(_index.c.kind, _index.c.name))
    assigned, per_group = 0, {g: 0 for g in sorted(set(groups))}
    for kind, name, count in rows:
        if kind == "assignee":
            assigned = count
        else:
            per_group[name] = count
    return assigned, per_group


def process_keys(session: Session) -> list[str]:
    """Return the deployed process keys, for the inbox's process filter."""
    return list(session.scalars(select(ProcessVersion.key).distinct().order_by(ProcessVersion.key)))
