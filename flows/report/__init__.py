"""The customer report: the published marts as one self-contained, offline HTML file (flows/report/report.py)."""

from flows.report.report import REPORT_FOLDER, default_report_dir, render_report, write_report

__all__ = ["REPORT_FOLDER", "default_report_dir", "render_report", "write_report"]
