"""The run report as Markdown: what the Prefect artifact of every pipeline run shows."""

from __future__ import annotations

from flows.summary.report import DbtFacts, HeadlineTable, LoadFacts, RunReport, ValidationFacts

MAX_ROWS = 20


def cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: RunReport) -> str:
    """Outcome, publication, files loaded, rows quarantined, failed dbt nodes, failed expectations,
    timings and the headline figures of the published marts."""
    lines = [f"# Customer-value pipeline run {report.run_id}: {report.outcome}", ""]
    if report.error:
        lines += [f"**Error:** {cell(report.error)}", ""]
    if report.up_to_date:
        published = "no: nothing new since the last publication (no new export file, same code), which is current"
    elif report.published:
        published = (
            f"yes (`{report.published_file}`" + (f", release `{report.release}`" if report.release else "") + ")"
        )
    else:
        published = "no (the previous publication is unchanged)"
    lines += [
        f"**Marts published:** {published}",
        "",
        f"Build warehouse: `{report.warehouse}`; exports: `{report.exports}`",
        "",
    ]
    if report.vars_line:
        lines += [report.vars_line, ""]
    not_run = "Skipped: nothing new since the last publication." if report.up_to_date else "Not reached."
    lines += ["## Load", ""] + (_load(report.load) if report.load is not None else ["Not reached.", ""])
    lines += ["## dbt build", ""] + (_dbt(report.dbt) if report.dbt is not None else [not_run, ""])
    lines += ["## Great Expectations", ""]
    lines += _validation(report.validation) if report.validation is not None else [not_run, ""]
    if report.seconds:
        lines += ["## Timings", "", ", ".join(f"{step} {s:.1f} s" for step, s in report.seconds.items()), ""]
    if report.headlines:
        lines += ["## Headline figures", "", f"From the published marts `{report.published_file}`.", ""]
        for headline in report.headlines:
            lines += headline_markdown(headline)
    return "\n".join(lines).rstrip() + "\n"


def _load(load: LoadFacts) -> list[str]:
    lines = [
        (
            f"Files loaded: {load.count('loaded')}, skipped (already loaded): {load.skipped}, "
            f"rejected: {load.count('rejected')}, ignored: {load.count('ignored')}."
        ),
        f"Rows read {load.rows_read:,} = loaded {load.rows_loaded:,} + quarantined {load.rows_quarantined:,}"
        + (" (reasons in table `raw.quarantine`)." if load.rows_quarantined else "."),
        "",
    ]
    if load.not_exported:
        lines += [f"- {cell(line)}" for line in load.not_exported] + [""]
    if load.stale:
        lines += [f"- **{cell(line)}**" for line in load.stale] + [""]
    if load.files:
        lines += [
            "| file | entity | status | read | loaded | quarantined | note |",
            "| --- | --- | --- | ---: | ---: | ---: | --- |",
        ]
        for f in load.files[:MAX_ROWS]:
            lines.append(
                f"| {cell(f.file_name)} | {f.entity or '-'} | {f.status} | {f.rows_read:,} | "
                f"{f.rows_loaded:,} | {f.rows_quarantined:,} | {cell(f.note)} |"
            )
        if len(load.files) > MAX_ROWS:
            lines.append(f"| ... and {len(load.files) - MAX_ROWS} more files | | | | | | |")
        lines.append("")
    return lines


def _dbt(dbt: DbtFacts) -> list[str]:
    lines = [
        (
            f"{dbt.models} models built, {dbt.tests_passed} tests passed, "
            f"{len(dbt.warned)} warned, {len(dbt.failed)} failed (exit code {dbt.return_code})."
        ),
        "",
    ]
    if dbt.failed:
        lines += ["Failed models and tests:", ""]
        for node in dbt.failed[:MAX_ROWS]:
            rows = f", {node.failures} rows" if node.failures else ""
            lines.append(f"- `{node.name}` ({node.resource_type}, {node.status}{rows}): {cell(node.message)}")
        lines.append("")
    return lines


def _validation(v: ValidationFacts) -> list[str]:
    lines = [
        (
            f"{'Passed' if v.success else 'Failed'}: {v.evaluated} expectations evaluated in {v.suites} suites, "
            f"{len(v.failed)} failed."
        ),
        "",
    ]
    if v.failed:
        lines += ["Failed expectations:", ""]
        for failed in v.failed[:MAX_ROWS]:
            lines.append(f"- `{failed.mart}`: {cell(failed.description)}")
        lines.append("")
    if v.data_docs:
        lines += [f"Data Docs: `{v.data_docs}`", ""]
    return lines


def headline_markdown(headline: HeadlineTable) -> list[str]:
    """A headline as a Markdown table under its title, its caption below; labels left, figures right."""
    align = ["---" if i < headline.label_columns else "---:" for i in range(len(headline.columns))]
    lines = [f"### {cell(headline.title)}", "", _row(headline.columns), _row(align)]
    lines += [_row(row) for row in headline.rows]
    lines.append("")
    if headline.caption:
        lines += [cell(headline.caption), ""]
    return lines


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell(c.strip()) for c in cells) + " |"
