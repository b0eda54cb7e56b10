"""BG/NBD and Gamma-Gamma fitted by maximum likelihood on the calibration summaries of every customer
acquired in the calibration period (flows/clv; docs/customer_value.md). One row per model and
parameter. A table, refitted from all history on every run (incremental runs and --full-refresh give
the same result)."""

import pandas as pd

from flows.clv import bgnbd, gamma_gamma


def model(dbt, session):
    dbt.config(materialized="table")
    summaries = (
        dbt.ref("int_customer_purchase_summaries_aggregated")
        .filter("is_in_calibration")
        .project("calibration_frequency, calibration_recency, calibration_age, calibration_monetary_value")
        .df()
    )
    calibration = dbt.ref("int_clv_calibration_resolved").df()
    x = summaries["calibration_frequency"].to_numpy(dtype=float)
    t_x = summaries["calibration_recency"].to_numpy(dtype=float)
    age = summaries["calibration_age"].to_numpy(dtype=float)
    m = summaries["calibration_monetary_value"].to_numpy(dtype=float)
    rows = []
    for model_name, fit in (
        ("bg_nbd", lambda: bgnbd.fit(x, t_x, age)),
        ("gamma_gamma", lambda: gamma_gamma.fit(x, m)),
    ):
        names = bgnbd.PARAMETERS if model_name == "bg_nbd" else gamma_gamma.PARAMETERS
        try:
            result = fit()
        except ValueError as error:  # no customers to fit: the rows say so, validation fails on them
            rows += [
                {"model": model_name, "parameter": name, "fit_message": str(error), "converged": False, "customers": 0}
                for name in names
            ]
            continue
        for name, estimate, standard_error in zip(result.names, result.estimates, result.standard_errors):
            rows.append(
                {
                    "model": model_name,
                    "parameter": name,
                    "estimate": estimate,
                    "standard_error": standard_error,
                    "log_likelihood": result.log_likelihood,
                    "customers": result.customers,
                    "converged": result.converged,
                    "iterations": result.iterations,
                    "fit_message": result.message,
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=[
            "model",
            "parameter",
            "estimate",
            "standard_error",
            "log_likelihood",
            "customers",
            "converged",
            "iterations",
            "fit_message",
        ],
    )
    frame["parameter_order"] = frame.groupby("model").cumcount() + 1
    frame["calibration_end"] = calibration["calibration_end"].iloc[0]
    frame["time_unit_days"] = int(calibration["time_unit_days"].iloc[0])
    frame = frame.astype(
        {
            "estimate": "float64",
            "standard_error": "float64",
            "log_likelihood": "float64",
            "customers": "int64",
            "converged": "bool",
            "iterations": "Int64",
            "parameter_order": "int64",
        }
    )
    return frame
