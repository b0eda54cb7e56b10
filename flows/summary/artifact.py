"""The run report as a Prefect markdown artifact of the flow run, keyed so its history lists every run."""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact

from flows.summary.markdown import render_markdown
from flows.summary.report import RunReport

ARTIFACT_KEY = "customer-value-run"


def publish_run_artifact(report: RunReport) -> None:
    """Attach the run report to the current Prefect flow run."""
    create_markdown_artifact(
        render_markdown(report),
        key=ARTIFACT_KEY,
        description=f"Customer-value pipeline run {report.run_id}: {report.status}",
    )
