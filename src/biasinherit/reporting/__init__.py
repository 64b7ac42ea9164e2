"""Self-contained HTML reports (no external URLs): the study report and shared page pieces."""

from biasinherit.reporting.study_report import render_study_report, write_report

__all__ = ["render_study_report", "write_report"]
