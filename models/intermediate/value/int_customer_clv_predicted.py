"""Per customer, what the fitted models expect (flows/clv; docs/customer_value.md): P(alive), the
expected purchases in the next 12 months and over the horizon (var clv_horizon_months), the same
discounted month by month (var clv_annual_discount_rate), the Gamma-Gamma expected spend per
purchase, all from the customer's history up to the as-of date; and the purchases the calibration
summary predicts for the holdout. Money and margin follow in SQL (customer_lifetime_value)."""

import numpy as np
import pandas as pd

from flows.clv import bgnbd, gamma_gamma, value


def parameters_of(frame: pd.DataFrame, model_name: str, names) -> np.ndarray:
    rows = frame[frame["model"] == model_name].set_index("parameter")["estimate"]
    return np.array([float(rows.get(name, np.nan)) for name in names])


def model(dbt, session):
    dbt.config(materialized="table")
    summaries = dbt.ref("int_customer_purchase_summaries_aggregated").df()
    estimates = dbt.ref("int_clv_parameters_estimated").df()
    run = dbt.ref("int_run_parameters").df().iloc[0]
    calibration = dbt.ref("int_clv_calibration_resolved").df().iloc[0]
    bg = parameters_of(estimates, "bg_nbd", bgnbd.PARAMETERS)
    gg = parameters_of(estimates, "gamma_gamma", gamma_gamma.PARAMETERS)
    unit = float(calibration["time_unit_days"])
    horizon = int(run["clv_horizon_months"])
    x = summaries["frequency"].to_numpy(dtype=float)
    t_x = summaries["recency"].to_numpy(dtype=float)
    age = summaries["age"].to_numpy(dtype=float)
    m = summaries["monetary_value"].to_numpy(dtype=float)
    twelve, over_horizon = value.months_to_time_units([12, horizon], unit)

    in_calibration = summaries["is_in_calibration"].to_numpy(dtype=bool)
    holdout_units = float(calibration["holdout_days"]) / unit
    holdout_expected = np.full(len(summaries), np.nan)
    if holdout_units > 0 and in_calibration.any():
        calibration_rows = summaries[in_calibration]
        holdout_expected[in_calibration] = bgnbd.expected_purchases(
            bg,
            holdout_units,
            calibration_rows["calibration_frequency"].to_numpy(dtype=float),
            calibration_rows["calibration_recency"].to_numpy(dtype=float),
            calibration_rows["calibration_age"].to_numpy(dtype=float),
        )
    calibration_x = summaries["calibration_frequency"].to_numpy(dtype=float, na_value=0.0)
    calibration_m = summaries["calibration_monetary_value"].to_numpy(dtype=float, na_value=0.0)

    frame = pd.DataFrame(
        {
            "customer_id": summaries["customer_id"],
            "p_alive": bgnbd.p_alive(bg, x, t_x, age),
            "expected_purchases_12m": bgnbd.expected_purchases(bg, twelve, x, t_x, age),
            "expected_purchases_horizon": bgnbd.expected_purchases(bg, over_horizon, x, t_x, age),
            "discounted_expected_purchases": value.discounted_expected_purchases(
                bg, x, t_x, age, unit, horizon, float(run["clv_annual_discount_rate"])
            ),
            "expected_spend_per_purchase": gamma_gamma.conditional_mean_spend(gg, x, m),
            "is_in_spend_fit": in_calibration & gamma_gamma.in_model(calibration_x, calibration_m),
            "holdout_expected_purchases": holdout_expected,
        }
    )
    return frame
