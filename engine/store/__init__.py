"""Persistence on plain SQLAlchemy 2: the models, the unit of work and the statements services run.

- ``db``: ``Database`` (engines, sessions) and ``Database.transaction()``, the only commit.
- ``models``: the typed tables; ``migrations`` (Alembic) make them, ``migrate`` runs those.
- ``rows``: what a command reads and writes (a task and its case, the revision-checked case update,
  task, timer and audit rows).
- ``inbox``: pages and counts of a person's inbox from the ``task_candidate`` index.
- ``counter``: a per-thread tally of statements, transactions and commits (the HTTP bench, tests).
"""
