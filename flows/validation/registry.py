"""The registry of Expectation Suites: one per mart, defined in code.

A suite runs for a mart only if it is registered; a registered mart that is missing from the
warehouse fails the validation (never a silent skip). To add the suite of a new mart, in the
module of its domain (flows/validation/suites/):

    @register_suite("voice_of_customer", key_columns=("customer_id",))
    def voice_of_customer_suite(gxe):
        return [
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            expect_no_personal_data_columns(),
        ]

The decorated function receives the module `great_expectations.expectations` and returns the
suite's Expectations; it is called only while a validation runs, so importing the registry does
not import Great Expectations (which takes seconds). Checks that need figures from outside the mart
get derived columns from a `prepare` function that runs on the mart's DataFrame while the warehouse
is still open: it reads the build's parameters (`ctx.run`, from intermediate.int_run_parameters)
and the other side of a reconciliation (`ctx.raw`, flows.validation.raw).

A mart too large to read into pandas (orders) gets a `read` function instead: it computes a
bounded summary of the mart in DuckDB (the highest and lowest revenues, the latest and earliest
dates, ...) and GX validates that small frame.

Every suite's personal-data expectation also gets what the runner's DuckDB scan of the mart's
string values found (flows.validation.personal_data).

A mart made of one optional export (`built_from=("survey_responses",)`) is empty when the company
does not export that entity at all (raw.load_manifest: flows.ingest.entities_without_exports). Its
suite says so with `expect_rows_unless_not_exported`: at least one row when the entity was
exported, none when it was not; every other expectation runs as usual (and holds on an empty mart).
Data lost on the way (an export whose rows were all quarantined) still fails.

What a suite checks and what it leaves to dbt: docs/checks.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flows.validation.parameters import RunParameters, RunParametersError
from flows.validation.raw import RawSide

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd


@dataclass
class PrepareContext:
    """What a `prepare` function may use: the open (read-only) warehouse, the build's parameters and
    the raw side of the reconciliations.

    A prepare function may put suite parameters (the `{"$PARAMETER": name}` values of its
    Expectations) into `parameters`.
    """

    con: duckdb.DuckDBPyConnection
    run_parameters: RunParameters | None = None
    run_parameters_error: str = ""  # why run_parameters is None
    parameters: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # reported as failures of the suite
    #: what the raw side computed once for the whole validation (the runner shares one dict)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def run(self) -> RunParameters:
        """The build's parameters (intermediate.int_run_parameters); RunParametersError without them."""
        if self.run_parameters is None:
            raise RunParametersError(self.run_parameters_error or "the run parameters were not read")
        return self.run_parameters

    @property
    def raw(self) -> RawSide:
        """The independent recomputations from raw and staging, on the build's parameters."""
        return RawSide(self.con, self.run, self.cache)

    def problem(self, message: str) -> None:
        """Record something that makes the mart fail validation, and carry on with the rest."""
        self.problems.append(message)


ExpectationsBuilder = Callable[[Any], list]
Prepare = Callable[["pd.DataFrame", PrepareContext], "pd.DataFrame"]
Read = Callable[[PrepareContext], "pd.DataFrame"]


@dataclass(frozen=True)
class SuiteDefinition:
    """One Expectation Suite: the mart it validates and how to build it."""

    mart: str  # table in the `marts` schema
    expectations: ExpectationsBuilder  # great_expectations.expectations -> list of Expectations
    prepare: Prepare | None = None  # adds derived columns / suite parameters before validation
    key_columns: tuple[str, ...] = ()  # shown next to failing rows in the report
    description: str = ""
    #: the suite needs intermediate.int_run_parameters: without it, it fails (run_parameters) unrun
    needs_run_parameters: bool = False
    #: the export entities the mart is made of: when one has no export at all, the mart must be empty
    built_from: tuple[str, ...] = ()
    #: the frame GX validates when it is not the whole mart: a bounded summary computed in DuckDB
    #: (a mart of 10M orders is not read into pandas); the mart must still exist
    read: Read | None = None

    @property
    def name(self) -> str:
        return f"{self.mart}_suite"


#: The registered suites, by mart, in registration order.
SUITES: dict[str, SuiteDefinition] = {}


def register_suite(
    mart: str,
    *,
    prepare: Prepare | None = None,
    key_columns: tuple[str, ...] = (),
    needs_run_parameters: bool | None = None,
    built_from: tuple[str, ...] = (),
    read: Read | None = None,
) -> Callable[[ExpectationsBuilder], ExpectationsBuilder]:
    """Decorator: register the Expectations builder of `mart` (replaces an earlier registration).
    A suite with a `prepare` or `read` function needs the run parameters unless
    `needs_run_parameters=False`; `built_from` names the export entities the mart is made of (see
    the module docstring); `read` gives the frame to validate instead of the whole mart."""

    def decorator(builder: ExpectationsBuilder) -> ExpectationsBuilder:
        SUITES[mart] = SuiteDefinition(
            mart=mart,
            expectations=builder,
            prepare=prepare,
            key_columns=tuple(key_columns),
            description=(builder.__doc__ or "").strip(),
            needs_run_parameters=(
                (prepare is not None or read is not None) if needs_run_parameters is None else needs_run_parameters
            ),
            built_from=tuple(built_from),
            read=read,
        )
        return builder

    return decorator


def marts_built_from(entity: str) -> list[str]:
    """The registered marts made of `entity` (empty when the company does not export it)."""
    return [suite.mart for suite in SUITES.values() if entity in suite.built_from]
