"""Validate the marts of the build warehouse with Great Expectations (the "audit" of write-audit-publish).

`validate_warehouse` reads every registered mart (flows.validation.registry, suites in
flows/validation/suites/) from the DuckDB build warehouse once, as pandas DataFrames (GX over DuckDB
through SQLAlchemy returns empty metric results), together with the build's parameters
(intermediate.int_run_parameters) and the raw side of the reconciliations, closes the warehouse,
and then, in one ephemeral GX Data Context:

- a pandas Data Source with one dataframe Data Asset and whole-dataframe Batch Definition per mart;
- one Expectation Suite per mart (`<mart>_suite`), one Validation Definition and one Checkpoint
  per suite, run with the mart's DataFrame as batch parameter;
- Data Docs built once into `docs_dir` (a local filesystem site; open `docs_dir/index.html`), or
  none when `docs_dir` is None; rewritten to load only local copies of their scripts and styles
  (flows.data_docs), so that they render without a network.

Before a suite runs, the warehouse is still open for two things computed in DuckDB: the frame of a
suite with a `read` function (a bounded summary instead of the whole mart: orders), and the scan of
every string value of the mart for personal data (flows.validation.personal_data), which the
personal-data expectation checks. A failed plausibility bound (`common.expect_within`) is reported
with the record that broke it: `order_id O-1 (completed, 2024-05-01): revenue 2,500,000 >
max_revenue_per_order 1,000,000`.

The entities the company does not export at all (raw.load_manifest,
flows.ingest.entities_without_exports) are read too: a suite whose mart is built from one of them
(`built_from`) expects it empty, and the report names them (`not_exported`).

A registered mart that is missing from the warehouse fails the validation, and so does a suite
that needs the run parameters when intermediate.int_run_parameters is missing. The result is a
`ValidationReport`; the pipeline raises `ValidationError(report)` when it did not succeed, and
then does not publish.

Great Expectations is imported only inside `validate_warehouse` (it takes seconds to import).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.data_docs import make_offline
from flows.duckdb_connection import connect
from flows.ingest import entities_without_exports
from flows.sql import quote_identifier
from flows.validation.common import (
    BOUND_NAMES_META,
    MAX_ROWS_PARAMETER,
    MIN_ROWS_PARAMETER,
    PERSONAL_DATA_COLUMN_PATTERNS,
    PERSONAL_DATA_VALUES_PARAMETER,
    RECORD_META,
    VIOLATIONS_META,
)
from flows.validation.common import plain as _plain
from flows.validation.common import shown as _shown
from flows.validation.parameters import RunParameters, RunParametersError, read_run_parameters
from flows.validation.personal_data import scan_personal_data_values
from flows.validation.registry import SUITES, PrepareContext, SuiteDefinition
from flows.validation.report import FailedExpectation, SuiteResult, ValidationReport

logger = logging.getLogger(__name__)

MARTS_SCHEMA = "marts"
DATA_SOURCE_NAME = "build_warehouse"
DATA_DOCS_SITE = "warehouse_data_docs"


# --------------------------------------------------------------------------- reading the marts


@dataclass
class _PreparedMart:
    suite: SuiteDefinition
    frame: Any  # pandas.DataFrame
    parameters: dict[str, Any]
    prepare_failures: list[FailedExpectation] = field(default_factory=list)
    not_exported: tuple[str, ...] = ()  # entities of suite.built_from without any export
    rows: int | None = None  # rows of the mart (the frame may be a summary of it: suite.read)


def _read_mart(con, mart: str):
    """The mart as a DataFrame. HUGEINT (what DuckDB's sum of integers gives) is read as BIGINT so
    that whole numbers stay integers in pandas; nullable columns holding NULLs become float64/object
    so that GX compares them without pandas.NA errors."""
    import pandas as pd

    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [MARTS_SCHEMA, mart],
    ).fetchall()
    select = ", ".join(
        f"cast({quote_identifier(name)} as bigint) as {quote_identifier(name)}"
        if dtype.upper() in ("HUGEINT", "UHUGEINT")
        else quote_identifier(name)
        for name, dtype in columns
    )
    frame = con.sql(f"select {select} from {MARTS_SCHEMA}.{quote_identifier(mart)}").df()
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and series.isna().any():
            if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
                frame[name] = series.astype("float64")
            elif pd.api.types.is_bool_dtype(series.dtype):
                frame[name] = series.astype(object).where(series.notna(), None)
    return frame


def _read_parameters(con) -> tuple[RunParameters | None, str]:
    try:
        return read_run_parameters(con), ""
    except RunParametersError as exc:
        logger.warning("%s", exc)
        return None, str(exc)
    except Exception as exc:  # a broken table: a failure of the suites that need it, not a crash
        logger.exception("reading the run parameters failed")
        return None, f"{type(exc).__name__}: {exc}"


def _failed_unrun(suite: SuiteDefinition, expectation_type: str, observed: str) -> SuiteResult:
    return SuiteResult(
        suite_name=suite.name,
        mart=suite.mart,
        evaluated=1,
        failed=[FailedExpectation(expectation_type, observed=f"failed: {_short(observed)}")],
    )


def _row_bounds(suite: SuiteDefinition, not_exported: list[str]) -> dict[str, Any]:
    """The bounds of `expect_rows_unless_not_exported`: no row when an entity the mart is built from
    has no export at all, else at least one."""
    if any(entity in not_exported for entity in suite.built_from):
        return {MIN_ROWS_PARAMETER: 0, MAX_ROWS_PARAMETER: 0}
    return {MIN_ROWS_PARAMETER: 1, MAX_ROWS_PARAMETER: None}


def _count_rows(con, mart: str) -> int:
    return int(con.execute(f"select count(*) from {MARTS_SCHEMA}.{quote_identifier(mart)}").fetchone()[0])


def _scan_personal_data(con, suite: SuiteDefinition, context: PrepareContext) -> None:
    """What the personal-data expectation checks beyond the frame's column names: the e-mail- and
    phone-like values of every string column of the mart (one DuckDB scan), and, when the frame is
    a summary (`suite.read`), the mart's own column names."""
    try:
        findings = scan_personal_data_values(con, MARTS_SCHEMA, suite.mart, suite.key_columns)
        if suite.read is not None:
            names = [
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [MARTS_SCHEMA, suite.mart],
                ).fetchall()
            ]
            findings[:0] = [
                n for n in names if any(re.search(p, n, re.IGNORECASE) for p in PERSONAL_DATA_COLUMN_PATTERNS)
            ]
    except Exception as exc:  # the scan could not run: a failure of the suite, never a silent pass
        logger.exception("scanning %s for personal data failed", suite.mart)
        context.problem(f"the scan for personal data failed: {type(exc).__name__}: {exc}")
        return
    context.parameters[PERSONAL_DATA_VALUES_PARAMETER] = findings


def _read_marts(warehouse: Path) -> tuple[list[_PreparedMart], list[SuiteResult], list[str]]:

    prepared: list[_PreparedMart] = []
    unread: list[SuiteResult] = []
    con = connect(str(warehouse), read_only=True)
    try:
        run_parameters, parameters_error = _read_parameters(con)
        not_exported = entities_without_exports(con)
        shared: dict[str, Any] = {}  # what the raw side computes once for every suite (PrepareContext.cache)
        tables = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [MARTS_SCHEMA]
            ).fetchall()
        }
        for suite in SUITES.values():
            if suite.mart not in tables:
                unread.append(
                    _failed_unrun(suite, "mart_exists", f"{MARTS_SCHEMA}.{suite.mart} is missing from {warehouse.name}")
                )
                continue
            if suite.needs_run_parameters and run_parameters is None:
                unread.append(_failed_unrun(suite, "run_parameters", parameters_error))
                continue
            context = PrepareContext(
                con=con,
                run_parameters=run_parameters,
                run_parameters_error=parameters_error,
                parameters=_row_bounds(suite, not_exported),
                cache=shared,
            )
            try:
                if suite.read is None:
                    frame = _read_mart(con, suite.mart)
                    rows = len(frame)
                else:
                    frame = suite.read(context)
                    rows = _count_rows(con, suite.mart)
            except Exception as exc:  # e.g. a column type pandas cannot hold: a failure, not a crash
                logger.exception("reading %s.%s failed", MARTS_SCHEMA, suite.mart)
                unread.append(_failed_unrun(suite, "read_mart", f"{type(exc).__name__}: {exc}"))
                continue
            _scan_personal_data(con, suite, context)
            failures = []
            if suite.prepare is not None:
                try:
                    frame = suite.prepare(frame, context)
                except RunParametersError as exc:
                    failures.append(FailedExpectation("run_parameters", observed=f"failed: {_short(str(exc))}"))
                except Exception as exc:  # reported as a failure, never a silent skip
                    logger.exception("preparing %s for validation failed", suite.mart)
                    context.problem(f"{type(exc).__name__}: {exc}")
            for problem in context.problems:
                logger.warning("%s: %s", suite.mart, problem)
                failures.append(FailedExpectation("prepare", observed=f"failed: {_short(problem)}"))
            missing = tuple(entity for entity in suite.built_from if entity in not_exported)
            prepared.append(_PreparedMart(suite, frame, context.parameters, failures, missing, rows))
    finally:
        con.close()
    return prepared, unread, not_exported


# --------------------------------------------------------------------------- reading GX results


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _columns_of(kwargs: dict[str, Any]) -> tuple[str, ...]:
    if kwargs.get("column"):
        return (str(kwargs["column"]),)
    if kwargs.get("column_A") and kwargs.get("column_B"):
        return (str(kwargs["column_A"]), str(kwargs["column_B"]))
    if kwargs.get("column_list"):
        return tuple(str(c) for c in kwargs["column_list"])
    return ()


def _exception_message(exception_info: Any) -> str:
    if not exception_info:
        return ""
    infos = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    messages = [i.get("exception_message") for i in infos if isinstance(i, dict) and i.get("raised_exception")]
    return "; ".join(dict.fromkeys(str(m) for m in messages if m))


def _row_keys(frame, key_columns: tuple[str, ...], index: Any) -> str:
    try:
        row = frame.loc[index]
        return " ".join(str(_plain(row[c])) for c in key_columns if c in frame.columns)
    except (KeyError, TypeError):
        return ""


def _named_record(frame, columns: tuple[str, ...], index: Any) -> str:
    """The failing row as "column value, column value" (the record a plausibility check names)."""
    try:
        row = frame.loc[index]
    except (KeyError, TypeError):
        return ""
    return ", ".join(
        str(row[c]) if c == "record" or c.endswith("_record") else f"{c} {_shown(row[c])}"
        for c in columns
        if c in frame.columns
    )


def _broken_bound(config, kwargs: dict[str, Any], value: Any) -> str:
    """`column value > max_name max` (or `< min_name min`): which bound the value broke."""
    names = (config.meta or {}).get(BOUND_NAMES_META) or {}
    column = kwargs.get("column", "value")
    plain = _plain(value)
    for key, sign in (("max_value", ">"), ("min_value", "<")):
        bound = _plain(kwargs.get(key))
        if bound is None or plain is None:
            continue
        try:
            broken = plain > bound if sign == ">" else plain < bound
        except TypeError:
            continue
        if broken:
            return f"{column} {_shown(plain)} {sign} {names.get(key, key)} {_shown(bound)}"
    return f"{column} {_shown(plain)}"


def _describe_failure(expectation_result, prepared: _PreparedMart) -> FailedExpectation:
    config = expectation_result.expectation_config
    kwargs = dict(config.kwargs)
    result = expectation_result.result or {}
    failure = FailedExpectation(expectation_type=config.type, columns=_columns_of(kwargs))
    error = _exception_message(expectation_result.exception_info)
    if error:
        failure.observed = f"failed: {_short(error)}"
    elif result.get("unexpected_count") and (config.meta or {}).get(VIOLATIONS_META):
        # a count of violations in a summary (common.expect_no_violations): how many rows of the mart
        # break the rule, and the first of them named
        values = result.get("partial_unexpected_list") or []
        indexes = result.get("partial_unexpected_index_list") or []
        count = int(_plain(values[0])) if values else 0
        record_column = ((config.meta or {}).get(RECORD_META) or [""])[0]
        record = ""
        if indexes and record_column in prepared.frame.columns:
            record = str(_plain(prepared.frame.loc[indexes[0], record_column]) or "")
        failure.unexpected_count = count
        failure.observed = f"failed on {count:,} row{'s' if count != 1 else ''}" + (
            f" (e.g. {record})" if record else ""
        )
    elif result.get("unexpected_count") is not None:
        count = int(result["unexpected_count"])
        failure.unexpected_count = count
        examples = []
        indexes = result.get("partial_unexpected_index_list") or []
        values = result.get("partial_unexpected_list") or []
        record_columns = tuple((config.meta or {}).get(RECORD_META) or ())
        for position, value in enumerate(values[:3]):
            index = indexes[position] if position < len(indexes) else None
            if record_columns:  # a plausibility bound: the record by name, the value and the bound it broke
                record = _named_record(prepared.frame, record_columns, index) if index is not None else ""
                broken = _broken_bound(config, kwargs, value)
                examples.append(f"{record}: {broken}" if record else broken)
                continue
            keys = _row_keys(prepared.frame, prepared.suite.key_columns, index) if index is not None else ""
            examples.append(f"{keys}: {_plain(value)}" if keys else str(_plain(value)))
        failure.observed = f"failed on {count} row{'s' if count != 1 else ''}" + (
            f" (e.g. {'; '.join(examples)})" if examples else ""
        )
    elif result.get("partial_missing_list") is not None or result.get("missing_count"):
        failure.observed = f"failed: missing {_plain(list(result.get('partial_missing_list') or []))}"
    elif isinstance(result.get("details"), dict) and result["details"].get("mismatched"):
        mismatched = result["details"]["mismatched"]
        if mismatched.get("missing"):
            failure.observed = f"failed: missing columns {_short(str(mismatched['missing']))}"
        else:
            failure.observed = f"failed: unexpected columns {_short(str(mismatched.get('unexpected')))}"
    elif "observed_value" in result:
        failure.observed = f"failed: observed {_short(str(_plain(result['observed_value'])), 400)}"
    else:
        failure.observed = "failed"
    return failure


# --------------------------------------------------------------------------- GX


def _gx_context(docs_dir: Path | None):
    """An ephemeral Data Context whose only Data Docs site is a local folder (none when `docs_dir`
    is None): nothing is written anywhere else (the ephemeral default site would go to a
    temporary directory)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    for site_name in list((context.get_config().data_docs_sites or {}).keys()):
        context.delete_data_docs_site(site_name)
    if docs_dir is None:
        return context
    docs_dir.mkdir(parents=True, exist_ok=True)
    context.add_data_docs_site(
        DATA_DOCS_SITE,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context


def _suite_parameter_names(suite) -> set[str]:
    """The names of the `{"$PARAMETER": name}` values the suite's expectations use."""
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("$PARAMETER"), str):
                names.add(value["$PARAMETER"])
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for expectation in suite.expectations:
        walk(dict(expectation.configuration.kwargs))
    return names


def _run_suite(context, data_source, prepared: _PreparedMart) -> SuiteResult:
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.checkpoint import Checkpoint

    suite_definition = prepared.suite
    suite = context.suites.add(
        gx.ExpectationSuite(
            name=suite_definition.name,
            expectations=suite_definition.expectations(gxe),
            meta={"mart": f"{MARTS_SCHEMA}.{suite_definition.mart}", "description": suite_definition.description},
        )
    )
    batch_definition = data_source.add_dataframe_asset(name=suite_definition.mart).add_batch_definition_whole_dataframe(
        f"{suite_definition.mart}_whole_table"
    )
    validation_definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_definition.mart}_validation", data=batch_definition, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        Checkpoint(
            name=f"{suite_definition.mart}_checkpoint",
            validation_definitions=[validation_definition],
            actions=[],  # Data Docs are built once, after every suite has run
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
        )
    )
    # A parameter that the prepare step did not provide (it failed, which is reported) is given as
    # an empty list, so that the rest of the suite still runs.
    parameters: dict[str, Any] = {name: [] for name in _suite_parameter_names(suite)}
    parameters.update(prepared.parameters)
    outcome = SuiteResult(
        suite_name=suite_definition.name,
        mart=suite_definition.mart,
        rows=prepared.rows,
        not_exported=prepared.not_exported,
    )
    try:
        checkpoint_result = checkpoint.run(
            batch_parameters={"dataframe": prepared.frame},
            expectation_parameters=parameters,
        )
    except Exception as exc:  # the suite could not run at all: a failure, never a silent skip
        logger.exception("running %s failed", suite_definition.name)
        outcome.evaluated = 1
        outcome.failed.append(
            FailedExpectation("checkpoint_run", observed=f"failed: {type(exc).__name__}: {_short(str(exc))}")
        )
    else:
        for validation_result in checkpoint_result.run_results.values():
            for expectation_result in validation_result.results:
                outcome.evaluated += 1
                if not expectation_result.success:
                    outcome.failed.append(_describe_failure(expectation_result, prepared))
    outcome.evaluated += len(prepared.prepare_failures)
    outcome.failed[:0] = prepared.prepare_failures
    return outcome


def validate_warehouse(warehouse: Path, docs_dir: Path | None) -> ValidationReport:
    """Validate every registered mart of `warehouse`; build Data Docs into `docs_dir`.

    Args:
        warehouse: the DuckDB build warehouse (opened read-only; closed before GX runs). The
            parameters of the build (as-of date, churn window, grains, ...) are read from its
            intermediate.int_run_parameters, which dbt built with the marts.
        docs_dir: folder for the Data Docs site (created; `index.html` is the entry page);
            None validates without writing Data Docs (the tests of the suites do).

    Returns the report; does not raise when expectations fail (the caller decides).
    """
    started = time.perf_counter()
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise FileNotFoundError(f"build warehouse {warehouse} does not exist: run the load and dbt build first")
    prepared, unread, not_exported = _read_marts(warehouse)

    report = ValidationReport(success=False, not_exported=not_exported)
    by_mart: dict[str, SuiteResult] = {r.mart: r for r in unread}
    if prepared:
        context = _gx_context(None if docs_dir is None else Path(docs_dir))
        data_source = context.data_sources.add_pandas(name=DATA_SOURCE_NAME)
        for item in prepared:
            by_mart[item.suite.mart] = _run_suite(context, data_source, item)
        if docs_dir is not None:
            try:
                context.build_data_docs(site_names=[DATA_DOCS_SITE])
                report.data_docs_index = Path(docs_dir) / "index.html"
                # GX's pages load their scripts and styles from CDNs: point them at local copies
                for remote in make_offline(Path(docs_dir)):
                    logger.warning("Data Docs still load from the network: %s", remote)
            except Exception as exc:  # the validation results stand; only the docs are missing
                logger.warning("building Great Expectations Data Docs in %s failed: %s", docs_dir, exc)
    # in registration order
    report.results = [by_mart[mart] for mart in SUITES if mart in by_mart]
    report.success = bool(report.results) and all(r.success for r in report.results)
    report.seconds = time.perf_counter() - started
    return report
