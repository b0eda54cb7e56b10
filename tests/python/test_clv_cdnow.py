"""The customer-value models against the paper's table, on the CDNOW sample that `lifetimes` (a
test-only reference, never imported by flows/) ships: 2,357 customers of the first quarter of 1997,
calibration until 1997-09-30, weeks. The sample is converted to the export contract (orders and
customers only), loaded by the loader and built by dbt as a company's exports would be."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from flows.config import parse_dbt_vars
from flows.ingest import PlausibleWindow, load_exports
from flows.transform import run_dbt

lifetimes_datasets = pytest.importorskip("lifetimes.datasets")

#: Fader, Hardie & Lee (2005): BG/NBD on the CDNOW sample; Gamma-Gamma (Fader & Hardie 2013)
PUBLISHED = {
    ("bg_nbd", "r"): 0.2426,
    ("bg_nbd", "alpha"): 4.4136,
    ("bg_nbd", "a"): 0.7929,
    ("bg_nbd", "b"): 2.4259,
    ("gamma_gamma", "p"): 6.25,
    ("gamma_gamma", "q"): 3.74,
    ("gamma_gamma", "gamma"): 15.44,
}
PUBLISHED_BG_NBD_LOG_LIKELIHOOD = -9582.4
#: as a user writes them on the command line (the date is a YAML date)
CDNOW_VARS = parse_dbt_vars("{clv_calibration_end: 1997-09-30, clv_time_unit_days: 7}")


def write_cdnow_exports(folder: Path) -> int:
    """CDNOW_sample.txt (master id, sample id, yyyymmdd, CDs, dollars) as an orders and a customers export."""
    transactions = lifetimes_datasets.load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+")
    transactions.columns = ["master_id", "customer_id", "date", "cds", "amount"]
    folder.mkdir(parents=True, exist_ok=True)
    days = transactions["date"].astype(str)
    ordered_at = days.str[:4] + "-" + days.str[4:6] + "-" + days.str[6:8] + " 12:00:00"
    with (folder / "orders_1998-06-30.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "customer_id", "ordered_at", "status", "amount"])
        for i, (customer, at, amount) in enumerate(
            zip(transactions["customer_id"], ordered_at, transactions["amount"])
        ):
            writer.writerow([f"o{i + 1}", f"c{customer}", at, "completed", f"{amount:.2f}"])
    first = ordered_at.groupby(transactions["customer_id"]).min()
    with (folder / "customers_1998-06-30.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "created_at"])
        for customer, at in first.items():
            writer.writerow([f"c{customer}", at])
    return int(transactions["customer_id"].nunique())


@pytest.fixture(scope="module")
def cdnow_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cdnow")
    customers = write_cdnow_exports(root / "exports")
    assert customers == 2357
    warehouse = root / "cdnow.duckdb"
    window = PlausibleWindow(earliest=date(1990, 1, 1), latest=date.today() + timedelta(days=1))
    report = load_exports(warehouse, root / "exports", window=window)
    assert sum(f.rows_quarantined for f in report.files) == 0
    result = run_dbt(
        [
            "build",
            "--select",
            "+clv_model_parameters",
            "+customer_lifetime_value",
            "+clv_holdout_validation",
            "--exclude",
            "test_type:unit",
            "--indirect-selection",
            "cautious",
            "--quiet",
        ],
        warehouse,
        root / "target",
        dbt_vars=CDNOW_VARS,
        quiet=True,
    )
    assert result.success, result.failure_summary()
    return warehouse


@pytest.mark.integration
def test_cdnow_parameters_match_the_published_table(cdnow_warehouse: Path) -> None:
    with duckdb.connect(str(cdnow_warehouse), read_only=True) as con:
        rows = con.sql(
            "select model, parameter, estimate, log_likelihood, customers, converged, calibration_end, time_unit_days "
            "from marts.clv_model_parameters"
        ).fetchall()
    estimates = {(model, parameter): estimate for model, parameter, estimate, *_ in rows}
    assert set(estimates) == set(PUBLISHED)
    for key, published in PUBLISHED.items():
        assert estimates[key] == pytest.approx(published, rel=0.01), key
    bg_nbd = [row for row in rows if row[0] == "bg_nbd"][0]
    assert bg_nbd[3] == pytest.approx(PUBLISHED_BG_NBD_LOG_LIKELIHOOD, rel=0.01)
    assert bg_nbd[4] == 2357
    assert {row[5] for row in rows} == {True}
    assert {(row[6], row[7]) for row in rows} == {(date(1997, 9, 30), 7)}


@pytest.mark.integration
def test_cdnow_summary_is_the_published_one(cdnow_warehouse: Path) -> None:
    """Frequency, recency and T of the calibration period as in the summary lifetimes ships
    (rounded there to 2 decimals; T = 272 / 7 = 38.86 weeks for a first purchase on 1997-01-01)."""
    published = lifetimes_datasets.load_cdnow_summary_data_with_monetary_value()
    with duckdb.connect(str(cdnow_warehouse), read_only=True) as con:
        ours = con.sql(
            "select cast(substr(customer_id, 2) as integer) as customer_id, calibration_frequency, "
            "calibration_recency, calibration_age, calibration_monetary_value "
            "from intermediate.int_customer_purchase_summaries_aggregated"
        ).df()
    ours = ours.set_index("customer_id").sort_index()
    published = published.sort_index()
    assert list(ours.index) == list(published.index)
    assert (ours["calibration_frequency"] == published["frequency"]).all()
    assert (ours["calibration_recency"] - published["recency"]).abs().max() < 0.006
    assert (ours["calibration_age"] - published["T"]).abs().max() < 0.006
    assert (ours["calibration_monetary_value"] - published["monetary_value"]).abs().max() < 0.006


@pytest.mark.integration
def test_cdnow_p_alive_and_expected_purchases_match_lifetimes(cdnow_warehouse: Path) -> None:
    """lifetimes fitted on the same calibration summary, applied to the same summaries on the as-of
    date (1998-06-30) as customer_lifetime_value: P(alive) and the expected purchases in the next 12
    months per customer agree to a relative 1e-4 (the fits themselves differ by about 1e-5)."""
    import numpy as np
    from lifetimes import BetaGeoFitter

    with duckdb.connect(str(cdnow_warehouse), read_only=True) as con:
        calibration = con.sql(
            "select calibration_frequency as x, calibration_recency as t_x, calibration_age as age "
            "from intermediate.int_customer_purchase_summaries_aggregated"
        ).df()
        ours = con.sql(
            "select frequency, recency, age, p_alive, expected_purchases_12m from marts.customer_lifetime_value"
        ).df()
    reference = BetaGeoFitter().fit(calibration["x"], calibration["t_x"], calibration["age"])
    p_alive = reference.conditional_probability_alive(ours["frequency"], ours["recency"], ours["age"])
    twelve_months = 12 * 365.25 / 12 / 7
    expected = reference.conditional_expected_number_of_purchases_up_to_time(
        twelve_months, ours["frequency"], ours["recency"], ours["age"]
    )
    assert len(ours) == 2357
    assert np.max(np.abs(ours["p_alive"] / p_alive - 1)) < 1e-4
    assert np.max(np.abs(ours["expected_purchases_12m"] / expected - 1)) < 1e-4


@pytest.mark.integration
def test_cdnow_holdout_check(cdnow_warehouse: Path) -> None:
    """The holdout (1997-10-01 ... 1998-06-30, 273 days = 39 weeks): actual repeat purchase days counted
    from the raw transactions, expected = lifetimes' conditional expectation on the calibration summary."""
    import numpy as np
    from lifetimes import BetaGeoFitter

    transactions = lifetimes_datasets.load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+")
    days = transactions[[1, 2]].drop_duplicates()  # same-day purchases are one
    holdout_actual = int((days[2] > 19970930).sum())
    with duckdb.connect(str(cdnow_warehouse), read_only=True) as con:
        calibration = con.sql(
            "select calibration_frequency as x, calibration_recency as t_x, calibration_age as age "
            "from intermediate.int_customer_purchase_summaries_aggregated"
        ).df()
        checks = con.sql(
            "select check_type, calibration_frequency, customers, actual_repeat_purchases, expected_repeat_purchases, "
            "is_holdout, holdout_days from marts.clv_holdout_validation order by row_order"
        ).fetchall()
    reference = BetaGeoFitter().fit(calibration["x"], calibration["t_x"], calibration["age"])
    expected = reference.conditional_expected_number_of_purchases_up_to_time(
        273 / 7, calibration["x"], calibration["t_x"], calibration["age"]
    )
    by_frequency = [row for row in checks if row[0] == "frequency"]
    assert [row[1] for row in by_frequency] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(row[2] for row in by_frequency) == 2357
    [total] = [row for row in checks if row[0] == "total"]
    assert total[2] == 2357 and total[6] == 273
    assert total[3] == holdout_actual
    assert total[4] == pytest.approx(float(np.sum(expected)), rel=1e-4)
    cumulative = [row for row in checks if row[0] == "cumulative"]
    # 1997-01-01 (day 0) ... 1998-06-30 (day 545): 78 weeks; week 39 ends on 1997-09-30 (day 272), the
    # calibration end
    assert len(cumulative) == 78 and sum(1 for row in cumulative if not row[5]) == 39
    repeat_days = len(days) - 2357
    assert cumulative[-1][3] == repeat_days
