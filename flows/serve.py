"""The scheduled Prefect deployments of `customer-value-pipeline`, served from one process.

Three deployments of the same flow (flows/pipeline.py), all writing the same warehouse:

| deployment | schedule (reporting time zone) | what it does |
| --- | --- | --- |
| `nightly` | cron `0 2 * * *` | the whole pipeline: load new files, dbt build, validate, publish |
| `intraday` | cron `*/15 * * * *` | the same run, cheap when little is new (files already loaded are skipped) |
| `full-refresh` | none (run it by hand) | `full_refresh=True`: incremental models rebuilt from all history |

Only one of them writes at a time (flows/locking.py: a global concurrency limit of 1 held by the
flow body); an intraday trigger that finds another intraday run still going is cancelled rather
than queued (deployment concurrency limit 1, CANCEL_NEW), so slow runs never pile up.

`python -m flows serve` (or `make serve`) calls `serve_deployments`; `python -m flows deploy --pool P`
calls `deploy_to_work_pool`, and `prefect.yaml` defines the same deployments for `prefect deploy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.config import DEFAULT_SETTLE_SECONDS, PROJECT_DIR, Paths, settings

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

TAGS = ["customer-value-warehouse"]
ENTRYPOINT = "flows/pipeline.py:customer_value_pipeline"


def reporting_timezone(dbt_vars: dict[str, Any] | None = None) -> str:
    """The dbt var `reporting_timezone` as dbt resolves it with `dbt_vars` (dbt parse)."""
    from flows.dbt_artifacts import project_vars

    return str(project_vars(dbt_vars).get("reporting_timezone") or "UTC")


@dataclass(frozen=True)
class ServeSettings:
    """What the served deployments run on, and when."""

    paths: Paths
    nightly_cron: str
    intraday_cron: str
    timezone: str
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    #: dbt vars every deployment runs with (`--vars`), stored in the deployments' parameters
    dbt_vars: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        exports: Path | None = None,
        warehouse: Path | None = None,
        published: Path | None = None,
        nightly_cron: str | None = None,
        intraday_cron: str | None = None,
        timezone: str | None = None,
        settle_seconds: float = DEFAULT_SETTLE_SECONDS,
        dbt_vars: dict[str, Any] | None = None,
    ) -> ServeSettings:
        """Options given, else environment variables, else the defaults; raises ValueError on a bad cron or time zone."""
        from prefect.client.schemas.schedules import CronSchedule

        env = settings()
        resolved = cls(
            paths=Paths.resolve(exports=exports, warehouse=warehouse, published=published),
            nightly_cron=nightly_cron or env.nightly_cron,
            intraday_cron=intraday_cron or env.intraday_cron,
            timezone=timezone or env.timezone or reporting_timezone(dbt_vars),
            settle_seconds=settle_seconds,
            dbt_vars=dict(dbt_vars or {}),
        )
        for label, cron in (("nightly", resolved.nightly_cron), ("intraday", resolved.intraday_cron)):
            try:
                CronSchedule(cron=cron, timezone=resolved.timezone)
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                reason = str(exc).splitlines()[2].strip() if len(str(exc).splitlines()) > 2 else str(exc)
                raise ValueError(f"{label} schedule {cron!r} in {resolved.timezone!r}: {reason}") from None
        return resolved

    def parameters(self, full_refresh: bool = False) -> dict[str, object]:
        """The flow parameters of a deployment: absolute paths, so runs do not depend on a working directory."""
        return {
            "exports": str(self.paths.exports),
            "warehouse": str(self.paths.warehouse),
            "published": str(self.paths.published),
            "full_refresh": full_refresh,
            "settle_seconds": self.settle_seconds,
            "dbt_vars": dict(self.dbt_vars),
        }


def build_deployments(settings: ServeSettings, flow: Flow | None = None) -> list[RunnerDeployment]:
    """The three deployments (see the module docstring) of `flow` (default: the pipeline as imported)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron

    from flows.pipeline import customer_value_pipeline

    flow = flow or customer_value_pipeline
    return [
        flow.to_deployment(
            name="nightly",
            description="The whole pipeline every night: load new export files, dbt build, validate, publish.",
            schedules=[Cron(settings.nightly_cron, timezone=settings.timezone)],
            parameters=settings.parameters(),
            tags=TAGS,
        ),
        flow.to_deployment(
            name="intraday",
            description="Intraday run for fresh survey feedback: loads only new files; skipped while the previous one runs.",
            schedules=[Cron(settings.intraday_cron, timezone=settings.timezone)],
            parameters=settings.parameters(),
            tags=TAGS,
            concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
        ),
        customer_value_pipeline.to_deployment(
            name="full-refresh",
            description="Manual full refresh: rebuilds incremental models from all history (no schedule).",
            parameters=settings.parameters(full_refresh=True),
            tags=TAGS,
        ),
    ]


def serve_deployments(settings: ServeSettings) -> None:
    """Create the warehouse writer limit if missing, then serve the deployments until interrupted."""
    from prefect import serve

    from flows.locking import ensure_concurrency_limit

    ensure_concurrency_limit()
    serve(*build_deployments(settings))


def deploy_to_work_pool(settings: ServeSettings, work_pool: str) -> list[str]:
    """Register the three deployments with the configured server (PREFECT_API_URL) for the work pool
    `work_pool`: its workers run the flow from this checkout (pull step: set the working directory).
    Does what `prefect deploy --all` does with prefect.yaml. Returns the deployments' full names."""
    from prefect import Flow

    from flows.locking import ensure_concurrency_limit

    flow = Flow.from_source(source=str(PROJECT_DIR), entrypoint=ENTRYPOINT)
    ensure_concurrency_limit()
    names = []
    for deployment in build_deployments(settings, flow):
        deployment.apply(work_pool_name=work_pool)
        names.append(f"{flow.name}/{deployment.name}")
    return names
