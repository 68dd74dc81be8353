"""A report as CSV (one section per table) or XLSX (one sheet per table, numbers as numbers), via openpyxl."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from .serialize import amount_text
from .views import Report

__all__ = ["FORMATS", "MEDIA_TYPES", "file_name", "render"]

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def file_name(key: str, period: str, department: str | None, fmt: str) -> str:
    """Return the download name, e.g. ``P-2_2025-04.xlsx`` or ``P-2_2025-04_network.csv``."""
    scope = f"_{department}" if department else ""
    return f"{key}_{period}{scope}.{fmt}"


def _text(value: Any) -> Any:
    return amount_text(value) if isinstance(value, Decimal) else ("" if value is None else value)


def _csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["report", report.key, "period", report.period, "department", report.department or "*"])
    for table in report.tables:
        writer.writerow([])
        writer.writerow(["table", table.key])
        writer.writerow(table.columns)
        writer.writerows([[_text(v) for v in row] for row in table.rows])
    # The BOM makes spreadsheet programs read the UTF-8 (Chinese names) as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(report: Report) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in report.tables:
        sheet = book.create_sheet(table.key[:31])
        sheet.append(list(table.columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            # Control characters a case's data may hold are not allowed in a sheet: openpyxl's own set is dropped.
            sheet.append([v if isinstance(v, (int, float, Decimal)) or v is None
                          else ILLEGAL_CHARACTERS_RE.sub("", str(v)) for v in row])
        sheet.freeze_panes = "A2"
    info = book.create_sheet("report", 0)
    for pair in (("report", report.key), ("period", report.period), ("department", report.department or "*"),
                 ("from", report.start.isoformat()), ("to", report.end.isoformat()),
                 ("generated_at", report.generated_at.isoformat())):
        info.append(list(pair))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(report: Report, fmt: str) -> bytes:
    """Return the report's bytes in ``fmt`` (csv or xlsx)."""
    return _csv(report) if fmt == "csv" else _xlsx(report)
