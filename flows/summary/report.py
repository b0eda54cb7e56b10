"""The run report: what a run did and the headline figures it ends with, as plain data.

Built once per run by `build_run_report` from the RunSummary and the published file; the terminal
and Markdown renderers only lay it out. Counts stay numbers; headline cells are already formatted
for people (money in the reporting currency, shares as percentages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flows.ingest import LoadReport
    from flows.pipeline import RunSummary
    from flows.transform import DbtResult, NodeResult
    from flows.validation import ValidationReport


@dataclass
class FileLine:
    """One export file the load did something with (skipped files are only counted)."""

    file_name: str
    entity: str | None
    status: str  # loaded | rejected | ignored
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    note: str = ""


@dataclass
class LoadFacts:
    files: list[FileLine] = field(default_factory=list)
    skipped: int = 0  # files already loaded
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    #: "no survey_responses exports: ... are empty", one per entity the company does not export
    not_exported: list[str] = field(default_factory=list)
    #: "orders exports are stale (warn): the newest was loaded ...", one per stale entity (flows/freshness.py)
    stale: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)


@dataclass
class NodeLine:
    """A dbt model or test that warned or failed."""

    name: str
    resource_type: str
    status: str
    message: str = ""
    failures: int | None = None


@dataclass
class DbtFacts:
    models: int = 0
    seeds: int = 0
    tests_passed: int = 0  # data and unit tests
    warned: list[NodeLine] = field(default_factory=list)
    failed: list[NodeLine] = field(default_factory=list)
    return_code: int = 0
    seconds: float = 0.0
    full_refresh: bool = False
    code_changed: bool = False
    unit_tests_skipped: bool = False


@dataclass
class FailedCheck:
    mart: str
    description: str  # e.g. "expect_column_values_to_be_between(nps) failed on 3 rows"


@dataclass
class ValidationFacts:
    success: bool
    evaluated: int = 0
    suites: int = 0
    failed: list[FailedCheck] = field(default_factory=list)
    data_docs: Path | None = None


@dataclass
class HeadlineTable:
    """One headline figure table, every cell formatted for people."""

    title: str
    caption: str | None
    columns: list[str]
    rows: list[list[str]]
    label_columns: int = 0  # how many leading columns hold labels (left-aligned); the rest hold figures


@dataclass
class RunReport:
    run_id: str
    error: str
    warehouse: Path
    exports: Path
    published_file: Path
    load: LoadFacts | None = None  # None: the run stopped before the load
    dbt: DbtFacts | None = None
    validation: ValidationFacts | None = None
    published: bool = False  # this run published the marts
    release: Path | None = None  # the release folder it published (DuckDB, Parquet, CSV, manifest.json)
    up_to_date: bool = False  # nothing new: build, validation and publish skipped
    seconds: dict[str, float] = field(default_factory=dict)
    headlines: list[HeadlineTable] = field(default_factory=list)
    dbt_vars: dict[str, Any] = field(default_factory=dict)  # the run's --vars (empty: dbt_project.yml's)

    @property
    def vars_line(self) -> str:
        """'dbt vars: churn_window_days=180' (empty without --vars)."""
        return "dbt vars: " + ", ".join(f"{k}={v}" for k, v in sorted(self.dbt_vars.items())) if self.dbt_vars else ""

    @property
    def outcome(self) -> str:
        return "failed" if self.error else "succeeded"

    @property
    def status(self) -> str:
        """failed | published | up to date | not published."""
        if self.error:
            return "failed"
        return "published" if self.published else "up to date" if self.up_to_date else "not published"


def build_run_report(summary: RunSummary, published: Path | None, reporting_currency: str) -> RunReport:
    """The run's report; `published` is the file to read the headline figures from (None: no headlines;
    a headline whose mart is not published is left out). Money is shown in `reporting_currency`."""
    from flows.summary.headlines.registry import read_headlines

    return RunReport(
        run_id=summary.run_id,
        error=summary.error,
        warehouse=summary.paths.warehouse,
        exports=summary.paths.exports,
        published_file=summary.paths.published,
        load=_load_facts(summary.load, [e.describe() for e in summary.stale]) if summary.load is not None else None,
        dbt=_dbt_facts(summary.dbt) if summary.dbt is not None else None,
        validation=_validation_facts(summary.validation) if summary.validation is not None else None,
        published=summary.published,
        release=summary.release,
        up_to_date=summary.up_to_date,
        seconds=dict(summary.seconds),
        headlines=read_headlines(published, reporting_currency) if published is not None else [],
        dbt_vars=dict(summary.dbt_vars),
    )


#: What an entity without any export means for the marts, beyond the marts built from it that are empty.
NOT_EXPORTED_CONSEQUENCES = {
    "orders": "there is nothing to report (every figure is made of orders)",
    "customers": "the customers are those seen in orders, without CRM attributes (acquisition channel unknown)",
    "marketing_spend": "acquisition_cost has no spend (CAC and payback empty)",
}


def not_exported_lines(entities: list[str]) -> list[str]:
    """One line per entity without any export, saying what it means: the marts built from it are
    empty (flows.validation's `built_from`), or what else changes."""
    import flows.validation  # noqa: F401  (registers the suites)
    from flows.validation.registry import marts_built_from

    lines = []
    for entity in entities:
        marts = marts_built_from(entity)
        if marts:
            consequence = f"{', '.join(marts)} {'is' if len(marts) == 1 else 'are'} empty"
            if entity == "survey_responses":
                consequence = f"the voice of the customer marts are empty ({', '.join(marts)})"
        else:
            consequence = NOT_EXPORTED_CONSEQUENCES.get(entity, "nothing is built from it")
        lines.append(f"no {entity} exports: {consequence}")
    return lines


def _load_facts(load: LoadReport, stale: list[str] | None = None) -> LoadFacts:
    files = [
        FileLine(f.file_name, f.entity, f.status, f.rows_read, f.rows_loaded, f.rows_quarantined, f.message)
        for f in load.files
        if f.status != "skipped"
    ]
    return LoadFacts(
        files=files,
        skipped=len(load.files) - len(files),
        rows_read=load.rows_read,
        rows_loaded=load.rows_loaded,
        rows_quarantined=load.rows_quarantined,
        not_exported=not_exported_lines(load.not_exported),
        stale=list(stale or []),
    )


def _node_line(node: NodeResult) -> NodeLine:
    return NodeLine(node.name, node.resource_type, node.status, node.message, node.failures)


def _dbt_facts(dbt: DbtResult) -> DbtFacts:
    return DbtFacts(
        models=dbt.count("model", "success"),
        seeds=dbt.count("seed", "success"),
        tests_passed=dbt.count("test", "pass") + dbt.count("unit_test", "pass"),
        warned=[_node_line(n) for n in dbt.warned],
        failed=[_node_line(n) for n in dbt.failed],
        return_code=dbt.return_code,
        seconds=dbt.elapsed_seconds,
        full_refresh=dbt.full_refresh,
        code_changed=dbt.code_changed,
        unit_tests_skipped=dbt.unit_tests_skipped,
    )


def _validation_facts(validation: ValidationReport) -> ValidationFacts:
    return ValidationFacts(
        success=validation.success,
        evaluated=validation.evaluated,
        suites=len(validation.results),
        failed=[FailedCheck(suite.mart, failed.describe()) for suite, failed in validation.failed],
        data_docs=validation.data_docs_index,
    )
