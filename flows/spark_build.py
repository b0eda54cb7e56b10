"""Build the dbt project on local Apache Spark (README "Running on Spark").

One process: a Spark session (local[2], the settings of the `spark` target in profiles.yml), the
raw layer registered from the loader's Parquet export (flows/spark_raw.py), then dbt (dbt-spark's
session method takes this session) in three steps, because dbt-spark runs Python models only on
Databricks:

1. `dbt build --target spark` of every node that does not depend on a Python model;
2. the Python models (models/intermediate/value/*.py, the CLV fit of flows/clv) called here with a
   `dbt` object whose `ref()` reads the parent tables through the Spark session; their frames are
   written as Parquet tables where dbt would have put them;
3. `dbt build` of what depends on them (the value and persona marts) and their tests.

Needs the Spark virtualenv (`make test-spark`: pyspark, dbt-spark, Java 17).
`python -m flows.spark_build --warehouse build.duckdb --spark-dir DIR` builds from a loaded DuckDB
build warehouse."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows import spark_raw

PROJECT_DIR = Path(__file__).resolve().parent.parent

# The `spark` target of profiles.yml, for the session this process starts before dbt does (dbt-spark
# then takes it over: SparkSession.builder.getOrCreate()).
SESSION_SETTINGS = {
    "spark.master": "local[2]",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "2g",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


def spark_session(spark_dir: Path) -> Any:
    """The Spark session of a build: tables under spark_dir/tables, the metastore in spark_dir/metastore."""
    from pyspark.sql import SparkSession

    spark_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local[2]: the driver listens on loopback only
    builder = SparkSession.builder.appName("customer-value").enableHiveSupport()
    for key, value in SESSION_SETTINGS.items():
        builder = builder.config(key, value)
    builder = builder.config("spark.sql.warehouse.dir", str(spark_dir / "tables"))
    builder = builder.config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir / 'metastore'}")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkRelation:
    """What the Python models use of dbt-duckdb's relation (filter, project, df), on a Spark table."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def filter(self, condition: str) -> SparkRelation:
        return SparkRelation(self.frame.filter(condition))

    def project(self, columns: str) -> SparkRelation:
        return SparkRelation(self.frame.selectExpr(*[c.strip() for c in columns.split(",")]))

    def df(self) -> Any:
        return self.frame.toPandas()


class ModelContext:
    """The `dbt` argument of a Python model: config() and ref() on the Spark session."""

    def __init__(self, spark: Any, relations: dict[str, str]) -> None:
        self.spark = spark
        self.relations = relations

    def config(self, **_: Any) -> None:
        return None

    def ref(self, name: str) -> SparkRelation:
        return SparkRelation(self.spark.table(self.relations[name]))


@dataclass
class SparkBuild:
    seconds: dict[str, float] = field(default_factory=dict)
    python_models: list[str] = field(default_factory=list)
    marts: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # the incremental models whose table existed before this build: dbt built them incrementally
    incremental: list[str] = field(default_factory=list)


def _dbt(args: list[str], target_path: Path, dbt_vars: dict[str, Any] | None) -> list[str]:
    """dbt in this process on the `spark` target; the names of the nodes that failed or errored."""
    from dbt.cli.main import dbtRunner

    from flows.transform import dbt_arguments

    command = dbt_arguments([*args, "--target", "spark"], target_path, dbt_vars)
    result = dbtRunner().invoke(command)
    if result.exception is not None:
        raise RuntimeError(f"dbt {' '.join(args)} on Spark: {result.exception}")
    results = getattr(result.result, "results", None) or []
    return [r.node.name for r in results if str(getattr(r, "status", "")) in ("error", "fail", "runtime error")]


def _manifest(target_path: Path) -> dict[str, Any]:
    return json.loads((target_path / "manifest.json").read_text())


def _relations(manifest: dict[str, Any]) -> dict[str, str]:
    return {
        node["name"]: f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }


def python_models_in_order(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The Python model nodes, each after the Python models it refs."""
    nodes = {n["unique_id"]: n for n in manifest["nodes"].values() if n.get("language") == "python"}
    ordered: list[dict[str, Any]] = []
    while nodes:
        ready = [n for n in nodes.values() if not any(parent in nodes for parent in n["depends_on"]["nodes"])]
        for node in sorted(ready, key=lambda n: n["name"]):
            ordered.append(node)
            del nodes[node["unique_id"]]
    return ordered


def run_python_model(spark: Any, node: dict[str, Any], relations: dict[str, str]) -> None:
    """Call the model's model(dbt, session) and write its frame as the Parquet table dbt would."""
    path = PROJECT_DIR / node["original_file_path"]
    spec = importlib.util.spec_from_file_location(f"cvw_spark_model_{node['name']}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame = module.model(ModelContext(spark, relations), spark)
    spark.sql(f"create database if not exists {node['schema']}")
    table = relations[node["name"]]
    spark.sql(f"drop table if exists {table}")
    spark.createDataFrame(frame).write.format("parquet").mode("overwrite").saveAsTable(table)


def build_on_spark(
    warehouse: Path,
    spark_dir: Path,
    dbt_vars: dict[str, Any] | None = None,
    spark: Any = None,
    with_tests: bool = False,
) -> tuple[SparkBuild, Any]:
    """Export the raw layer of the loaded DuckDB `warehouse`, register it and build every model on
    Spark. Returns the timings, failures and marts built, and the session (to read the marts)."""
    os.environ["CVW_SPARK_DIR"] = str(spark_dir)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))  # the Python models import flows.clv, as in dbt-duckdb
    build = SparkBuild()
    command = "build" if with_tests else "run"
    target_path = spark_dir / "dbt"
    started = time.perf_counter()
    spark = spark or spark_session(spark_dir)
    build.seconds["session"] = time.perf_counter() - started

    started = time.perf_counter()
    spark_raw.export_raw(warehouse, spark_dir / "raw")
    spark_raw.register_raw(spark, spark_dir / "raw")
    build.seconds["raw layer"] = time.perf_counter() - started

    started = time.perf_counter()
    _dbt(["parse"], target_path, dbt_vars)
    manifest = _manifest(target_path)
    python_models = [n["name"] for n in python_models_in_order(manifest)]
    build.python_models = python_models
    build.incremental = sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"].get("materialized") == "incremental"
        and spark.catalog.tableExists(f"{node['schema']}.{node['alias']}")
    )
    downstream = [f"{name}+" for name in python_models]
    # Without with_tests: seeds and models only (dbt's unit and data tests run on DuckDB in make
    # test; the comparison with DuckDB's marts is the check here). With it: dbt build, every test.
    if not with_tests:
        build.failures += _dbt(["seed"], target_path, dbt_vars)
    build.failures += _dbt([command, "--exclude", *downstream], target_path, dbt_vars)
    build.seconds["dbt: the SQL models before the fit"] = time.perf_counter() - started

    started = time.perf_counter()
    relations = _relations(manifest)
    for node in python_models_in_order(manifest):
        run_python_model(spark, node, relations)
    build.seconds["Python models (CLV fit)"] = time.perf_counter() - started

    started = time.perf_counter()
    build.failures += _dbt([command, "--select", *downstream, "--exclude", *python_models], target_path, dbt_vars)
    build.seconds["dbt: the models after the fit"] = time.perf_counter() - started
    build.marts = sorted(
        node["name"]
        for node in _manifest(target_path)["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    )
    return build, spark


def dbt_test_on_spark(
    spark_dir: Path, dbt_vars: dict[str, Any] | None = None, exclude: list[str] | None = None
) -> list[str]:
    """`dbt test` (unit and data tests) on the Spark build of `build_on_spark(..., spark_dir)`, in
    its session; the names of the tests that failed or errored (`exclude`: dbt node selectors)."""
    os.environ["CVW_SPARK_DIR"] = str(spark_dir)
    return _dbt(["test", *(["--exclude", *exclude] if exclude else [])], spark_dir / "dbt", dbt_vars)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="loaded DuckDB build warehouse")
    parser.add_argument("--spark-dir", type=Path, required=True, help="folder of the Spark tables and metastore")
    parser.add_argument("--vars", default="", help="dbt vars (JSON)")
    parser.add_argument("--with-tests", action="store_true", help="dbt build with every test, not dbt run")
    args = parser.parse_args(argv)
    dbt_vars = json.loads(args.vars) if args.vars else None
    build, spark = build_on_spark(args.warehouse, args.spark_dir, dbt_vars, with_tests=args.with_tests)
    for step, seconds in build.seconds.items():
        print(f"{step}: {seconds:.1f} s")
    if build.failures:
        print("failed on Spark: " + ", ".join(build.failures))
    spark.stop()
    return 1 if build.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
