"""What a validation reports: one SuiteResult per mart, each with the expectations that failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_SUMMARY_ITEMS = 8


@dataclass
class FailedExpectation:
    """One expectation that did not hold."""

    # e.g. expect_column_pair_values_to_be_equal, or one of the runner's own: mart_exists, read_mart,
    # run_parameters, prepare, checkpoint_run
    expectation_type: str
    columns: tuple[str, ...] = ()
    observed: str = ""  # short observed value: "failed on 3 rows (e.g. ...)", "observed ['email']"
    unexpected_count: int | None = None

    def describe(self) -> str:
        columns = f"({', '.join(self.columns)})" if self.columns else ""
        return f"{self.expectation_type}{columns} {self.observed}".strip()


@dataclass
class SuiteResult:
    """The outcome of one suite on one mart."""

    suite_name: str
    mart: str
    evaluated: int = 0  # expectations evaluated
    failed: list[FailedExpectation] = field(default_factory=list)
    rows: int | None = None  # rows of the mart (None: the mart is missing or was not read)
    #: entities the mart is built from that have no export at all: the mart was expected empty
    not_exported: tuple[str, ...] = ()

    @property
    def success(self) -> bool:
        return not self.failed


@dataclass
class ValidationReport:
    success: bool
    results: list[SuiteResult] = field(default_factory=list)
    data_docs_index: Path | None = None
    seconds: float = 0.0
    #: entities the company does not export at all (raw.load_manifest), in contract order
    not_exported: list[str] = field(default_factory=list)

    @property
    def evaluated(self) -> int:
        return sum(r.evaluated for r in self.results)

    @property
    def failed(self) -> list[tuple[SuiteResult, FailedExpectation]]:
        return [(r, f) for r in self.results for f in r.failed]

    def result_for(self, mart: str) -> SuiteResult | None:
        return next((r for r in self.results if r.mart == mart), None)

    def failure_summary(self) -> str:
        """One line naming the failed expectations (or saying that all passed)."""
        if self.success:
            return f"all {self.evaluated} expectations passed in {len(self.results)} suites"
        failed = self.failed
        if not failed:  # unsuccessful without a named failure (should not happen)
            return "validation failed"
        items = [f"{r.mart}: {f.describe()}" for r, f in failed[:MAX_SUMMARY_ITEMS]]
        more = f"; and {len(failed) - MAX_SUMMARY_ITEMS} more" if len(failed) > MAX_SUMMARY_ITEMS else ""
        return "; ".join(items) + more


class ValidationError(RuntimeError):
    """The marts did not pass validation; the message names the failed expectations."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(report.failure_summary())
        self.report = report
