"""Great Expectations validation of the marts (the "audit" of write-audit-publish).

- `registry`: SuiteDefinition, PrepareContext, register_suite and SUITES;
- `report`: the report dataclasses and ValidationError;
- `runner`: validate_warehouse (reads the marts, runs the suites in an ephemeral GX context);
- `parameters`: the build's parameters, from intermediate.int_run_parameters;
- `raw`: the other side of every reconciliation (raw.orders, staging);
- `plausibility`: the bounded summaries of the plausibility gates (orders) and the latest load day;
- `personal_data`: the DuckDB scan of every string value of a mart for e-mail addresses and phone numbers;
- `common`: pieces shared by the suites (the personal-data expectation, `expect_within` for bounds);
- `suites/`: one module per domain (audit, voice, personas and value), registered in that order.

Which invariant GX checks and which dbt owns: docs/checks.md. Importing this package does not
import Great Expectations.
"""

from flows.validation import suites  # noqa: F401  (registers the suites)
from flows.validation.registry import SUITES, PrepareContext, SuiteDefinition, register_suite
from flows.validation.report import FailedExpectation, SuiteResult, ValidationError, ValidationReport
from flows.validation.runner import validate_warehouse

__all__ = [
    "FailedExpectation",
    "PrepareContext",
    "SUITES",
    "SuiteDefinition",
    "SuiteResult",
    "ValidationError",
    "ValidationReport",
    "register_suite",
    "validate_warehouse",
]
