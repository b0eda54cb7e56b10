"""The run summary as Markdown: what a Prefect artifact of every pipeline run shows.

`run_summary_markdown` is a plain function of the run summary (tests call it directly);
`publish_run_artifact` hands its text to Prefect as a markdown artifact of the flow run,
keyed `customer-value-run` so the artifact's history lists every run's summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flows.pipeline import RunSummary

ARTIFACT_KEY = "customer-value-run"
MAX_ROWS = 20


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def run_summary_markdown(summary: "RunSummary") -> str:
    """The run summary: outcome, files loaded, rows quarantined, failed dbt nodes, failed expectations, publication."""
    outcome = "failed" if summary.error else "succeeded"
    lines = [f"# Customer-value pipeline run {summary.run_id}: {outcome}", ""]
    if summary.error:
        lines += [f"**Error:** {_cell(summary.error)}", ""]
    if summary.up_to_date:
        published = "no: nothing new since the last publication (no new export file, same code), which is current"
    elif summary.published:
        published = f"yes (`{summary.paths.published}`)"
    else:
        published = "no (the previous publication is unchanged)"
    lines += [
        f"**Marts published:** {published}",
        "",
        f"Build warehouse: `{summary.paths.warehouse}`; exports: `{summary.paths.exports}`",
        "",
    ]

    lines += ["## Load", ""]
    if summary.load is None:
        lines += ["Not reached.", ""]
    else:
        load = summary.load
        changed = [f for f in load.files if f.status != "skipped"]
        skipped = len(load.files) - len(changed)
        lines += [
            f"Files loaded: {len(load.by_status('loaded'))}, skipped (already loaded): {skipped}, "
            f"rejected: {len(load.by_status('rejected'))}, ignored: {len(load.by_status('ignored'))}.",
            f"Rows read {load.rows_read:,} = loaded {load.rows_loaded:,} + quarantined {load.rows_quarantined:,}"
            + (" (reasons in table `raw.quarantine`)." if load.rows_quarantined else "."),
            "",
        ]
        if changed:
            lines += ["| file | entity | status | read | loaded | quarantined | note |", "| --- | --- | --- | ---: | ---: | ---: | --- |"]
            for f in changed[:MAX_ROWS]:
                lines.append(
                    f"| {_cell(f.file_name)} | {f.entity or '-'} | {f.status} | {f.rows_read:,} | "
                    f"{f.rows_loaded:,} | {f.rows_quarantined:,} | {_cell(f.message)} |"
                )
            if len(changed) > MAX_ROWS:
                lines.append(f"| ... and {len(changed) - MAX_ROWS} more files | | | | | | |")
            lines.append("")

    not_run = "Skipped: nothing new since the last publication." if summary.up_to_date else "Not reached."
    lines += ["## dbt build", ""]
    if summary.dbt is None:
        lines += [not_run, ""]
    else:
        dbt = summary.dbt
        tests_passed = dbt.count("test", "pass") + dbt.count("unit_test", "pass")
        lines += [
            f"{dbt.count('model', 'success')} models built, {tests_passed} tests passed, "
            f"{len(dbt.warned)} warned, {len(dbt.failed)} failed (exit code {dbt.return_code}).",
            "",
        ]
        if dbt.failed:
            lines += ["Failed models and tests:", ""]
            for node in dbt.failed[:MAX_ROWS]:
                rows = f", {node.failures} rows" if node.failures else ""
                lines.append(f"- `{node.name}` ({node.resource_type}, {node.status}{rows}): {_cell(node.message)}")
            lines.append("")

    lines += ["## Great Expectations", ""]
    if summary.validation is None:
        lines += [not_run, ""]
    else:
        v = summary.validation
        lines += [
            f"{'Passed' if v.success else 'Failed'}: {v.evaluated} expectations evaluated in {len(v.results)} suites, "
            f"{len(v.failed)} failed.",
            "",
        ]
        if v.failed:
            lines += ["Failed expectations:", ""]
            for suite, failed in v.failed[:MAX_ROWS]:
                lines.append(f"- `{suite.mart}`: {_cell(failed.describe())}")
            lines.append("")
        if v.data_docs_index:
            lines += [f"Data Docs: `{v.data_docs_index}`", ""]

    if summary.seconds:
        lines += ["## Timings", "", ", ".join(f"{step} {s:.1f} s" for step, s in summary.seconds.items()), ""]
    return "\n".join(lines).rstrip() + "\n"


def publish_run_artifact(summary: "RunSummary") -> None:
    """Attach the run summary to the current Prefect flow run as a markdown artifact."""
    from prefect.artifacts import create_markdown_artifact

    outcome = "failed" if summary.error else (
        "published" if summary.published else "up to date" if summary.up_to_date else "not published"
    )
    create_markdown_artifact(
        run_summary_markdown(summary),
        key=ARTIFACT_KEY,
        description=f"Customer-value pipeline run {summary.run_id}: {outcome}",
    )
