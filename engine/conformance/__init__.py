"""Event logs in and out (SPEC A-3): XES (IEEE 1849) and CSV writers, and readers of other systems' logs.

Pure formats on lxml and the csv module: no database, no engine; the compliance service feeds them rows.
"""

from .eventlog import LogError, LogEvent, read_csv, read_xes
from .xes import TRANSITIONS, csv_log, xes_log

__all__ = ["LogError", "LogEvent", "TRANSITIONS", "csv_log", "read_csv", "read_xes", "xes_log"]
