"""The report's charts: one Section per question, each a Vega-Lite chart (Altair) with a one-line
reading, the definitions it shows (dbt's column descriptions) and the mart it reads.

A section whose mart is not published is left out; one whose mart is published empty says why
(e.g. "no survey_responses exports": the entities a mart is built from are the validation
registry's `built_from`) instead of drawing an empty chart. Every chart has a fixed element id
(`Section.chart_id`, the browser test looks for it) and draws at a known minimum size.

The queries only select, filter and reshape published rows; a figure a mart already holds is never
recomputed here. Two charts need a per-customer curve the marts do not hold as rows and read it from
the published orders mart: the Lorenz curves (completed orders of each complete year, as
revenue_concentration counts them) and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import altair as alt
import pandas as pd

from flows.report.data import PublishedMarts
from flows.report.numbers import NumberFormat

WIDTH = 640
HEIGHT = 260
#: the smallest a drawn chart may be (the browser test checks each chart's element against it)
MIN_DRAWN = (200, 120)

MONEY = "$,.2f"
MONEY_WHOLE = "$,.0f"
SHARE = ".0%"
#: months since acquisition the cumulative revenue curves run to
COHORT_HORIZON = 24


@dataclass
class Section:
    chart_id: str
    title: str
    question: str
    mart: str
    reading: str = ""
    definitions: list[tuple[str, str]] = field(default_factory=list)  # (term, one line)
    spec: dict[str, Any] | None = None
    empty_reason: str = ""
    table: list[list[str]] | None = None  # a small table instead of (or beside) the chart


@dataclass
class Context:
    marts: PublishedMarts
    fmt: NumberFormat
    definitions: dict[str, dict[str, str]]
    built_from: dict[str, tuple[str, ...]]

    def define(self, mart: str, *columns: str) -> list[tuple[str, str]]:
        found = self.definitions.get(mart, {})
        return [(column, found[column]) for column in columns if column in found]

    def empty_reason(self, mart: str) -> str:
        entities = self.built_from.get(mart, ())
        if entities:
            return f"no {', '.join(entities)} exports: marts.{mart} is published empty."
        return EMPTY_REASONS.get(mart, f"marts.{mart} is published empty: nothing to draw.")


#: Why a mart is empty although its exports exist.
EMPTY_REASONS = {
    "clv_holdout_validation": "no holdout: the model is calibrated up to the as-of date (set the dbt var "
    "clv_calibration_end to an earlier date to check its predictions on the months after it).",
}


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    return chart.configure_view(stroke=None).configure_axis(labelFontSize=11, titleFontSize=12).to_dict()


def _frame(ctx: Context, sql: str, parameters: list[Any] | None = None) -> pd.DataFrame:
    return ctx.marts.frame(sql, parameters)


# --------------------------------------------------------------------------- customer base


def bridge(ctx: Context) -> Section:
    section = Section(
        "chart-bridge",
        "Customer bridge",
        "Is the base growing? Customers at start + gross new + reactivated − lost = customers at end.",
        "customer_audit_figures",
        definitions=ctx.define(
            "customer_audit_figures",
            "customers_start",
            "gross_new_customers",
            "reactivated_customers",
            "lost_customers",
            "customers_end",
        ),
    )
    periods = _frame(
        ctx,
        """with latest as (
               select period_grain, max(period_start) as period_start from marts.customer_audit_figures
               where is_complete group by period_grain
           )
           select f.* from marts.customer_audit_figures as f inner join latest using (period_grain, period_start)
           order by case f.period_grain when 'month' then 1 when 'quarter' then 2 else 3 end""",
    )
    if periods.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    steps = []
    for _, p in periods.iterrows():
        label = _period_label(p["period_grain"], p["period_start"])
        running = float(p["customers_start"])
        steps.append(_step(label, 0, "customers at start", 0.0, running, "total"))
        for order, (column, name, sign) in enumerate(
            [("gross_new_customers", "+ gross new", 1), ("reactivated_customers", "+ reactivated", 1),
             ("lost_customers", "− lost", -1)], start=1,
        ):  # fmt: skip
            change = sign * float(p[column])
            steps.append(_step(label, order, name, running, running + change, "increase" if sign > 0 else "decrease"))
            running += change
        steps.append(_step(label, 4, "customers at end", 0.0, float(p["customers_end"]), "total"))
    data = pd.DataFrame(steps)
    base = alt.Chart(data).encode(
        x=alt.X("step:N", sort=alt.SortField("order"), title=None, axis=alt.Axis(labelAngle=-30)),
    )
    bars = base.mark_bar(size=34).encode(
        y=alt.Y("low:Q", title="customers"),
        y2="high:Q",
        color=alt.Color(
            "kind:N",
            scale=alt.Scale(domain=["total", "increase", "decrease"], range=["#4c78a8", "#54a24b", "#e45756"]),
            legend=None,
        ),
        tooltip=[alt.Tooltip("period:N"), alt.Tooltip("step:N"), alt.Tooltip("value:Q", format=",.0f")],
    )
    labels = base.mark_text(dy=-6, fontSize=10).encode(y="high:Q", text=alt.Text("value:Q", format=",.0f"))
    chart = (bars + labels).properties(width=190, height=HEIGHT).facet(
        column=alt.Column("period:N", sort=list(dict.fromkeys(data["period"])), title=None)
    ).resolve_scale(y="independent")  # fmt: skip
    section.spec = _spec(chart)
    year = periods[periods["period_grain"] == "year"]
    if not year.empty:
        y = year.iloc[0]
        section.reading = (
            f"In {_period_label('year', y['period_start'])} the base went from {ctx.fmt.count(y['customers_start'])} to "
            f"{ctx.fmt.count(y['customers_end'])} customers ({ctx.fmt.signed(y['net_new_customers'])}): "
            f"{ctx.fmt.count(y['gross_new_customers'])} won, {ctx.fmt.count(y['reactivated_customers'])} back, "
            f"{ctx.fmt.count(y['lost_customers'])} lost."
        )
    return section


def _step(period: str, order: int, step: str, start: float, end: float, kind: str) -> dict[str, Any]:
    return {"period": period, "order": order, "step": step, "low": min(start, end), "high": max(start, end),
            "value": abs(end - start) if kind != "total" else end, "kind": kind}  # fmt: skip


def _period_label(grain: str, start: Any) -> str:
    from flows.report.statement import period_label

    return period_label(grain, pd.Timestamp(start).date())


def active_customers(ctx: Context) -> Section:
    section = Section(
        "chart-active",
        "Active customers, new and existing",
        "Who buys: customers acquired in the quarter and customers acquired before it.",
        "customer_audit_figures",
        definitions=ctx.define("customer_audit_figures", "active_new_customers", "active_existing_customers"),
    )
    data = _frame(
        ctx,
        """select period_start, is_complete, active_new_customers as new, active_existing_customers as existing
           from marts.customer_audit_figures where period_grain = 'quarter' order by period_start""",
    )
    if data.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    data["quarter"] = [_period_label("quarter", s) + ("" if c else " (to date)") for s, c in
                       zip(data["period_start"], data["is_complete"])]  # fmt: skip
    long = data.melt(id_vars=["quarter", "period_start"], value_vars=["new", "existing"], var_name="customers")
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("quarter:O", sort=list(data["quarter"]), title="quarter"),
            y=alt.Y("value:Q", stack=True, title="active customers"),
            color=alt.Color("customers:N", scale=alt.Scale(domain=["existing", "new"]), title=None),
            order=alt.Order("customers:N", sort="descending"),
            tooltip=["quarter:O", "customers:N", alt.Tooltip("value:Q", format=",.0f")],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    section.spec = _spec(chart)
    last = data[data["is_complete"]].tail(1)
    if not last.empty:
        row = last.iloc[0]
        total = row["new"] + row["existing"]
        section.reading = (
            f"In {row['quarter']} {ctx.fmt.count(total)} customers bought, "
            f"{ctx.fmt.share(row['existing'] / total if total else None, 0)} of them existing customers."
        )
    return section


def revenue_per_customer(ctx: Context) -> Section:
    section = Section(
        "chart-revenue-per-customer",
        "Revenue per new and per existing customer",
        "Is a customer worth more in the year they arrive or later on?",
        "customer_audit_figures",
        definitions=ctx.define("customer_audit_figures", "revenue_per_new_customer", "revenue_per_existing_customer"),
    )
    data = _frame(
        ctx,
        """select period_start, revenue_per_new_customer as "per new customer",
                  revenue_per_existing_customer as "per existing customer"
           from marts.customer_audit_figures where period_grain = 'quarter' and is_complete order by period_start""",
    )
    if data.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    data["quarter"] = [_period_label("quarter", s) for s in data["period_start"]]
    long = data.melt(id_vars=["quarter"], value_vars=["per new customer", "per existing customer"], var_name="revenue")
    chart = (
        alt.Chart(long.dropna())
        .mark_line(point=True)
        .encode(
            x=alt.X("quarter:O", sort=list(data["quarter"]), title="quarter (complete)"),
            y=alt.Y("value:Q", title="revenue per customer", axis=alt.Axis(format=MONEY_WHOLE)),
            color=alt.Color("revenue:N", title=None),
            tooltip=["quarter:O", "revenue:N", alt.Tooltip("value:Q", format=MONEY)],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    section.spec = _spec(chart)
    row = data.iloc[-1]
    section.reading = (
        f"In {row['quarter']} a new customer brought {ctx.fmt.money(row['per new customer'])}, an existing one "
        f"{ctx.fmt.money(row['per existing customer'])}."
    )
    return section


# --------------------------------------------------------------------------- cohorts


def retention(ctx: Context) -> Section:
    section = Section(
        "chart-retention",
        "Acquisition cohorts: retention",
        "Which cohorts stay? Share of each month's new customers who bought again k months later.",
        "acquisition_cohorts",
        definitions=ctx.define("acquisition_cohorts", "cohort_month", "months_since_acquisition", "retention_rate"),
    )
    data = _frame(
        ctx,
        """select strftime(cohort_month, '%Y-%m') as cohort, months_since_acquisition as k, retention_rate,
                  cohort_size
           from marts.acquisition_cohorts where acquisition_channel = 'all' and months_since_acquisition > 0
           order by cohort_month, k""",
    )
    if data.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    chart = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X(
                "k:O", title="months since acquisition", axis=alt.Axis(labelAngle=0, values=list(range(0, 200, 6)))
            ),
            y=alt.Y("cohort:O", title="cohort (month of first order)", axis=alt.Axis(values=_every(data["cohort"], 6))),
            color=alt.Color(
                "retention_rate:Q", title="retention", scale=alt.Scale(scheme="blues"), legend=alt.Legend(format=SHARE)
            ),  # fmt: skip
            tooltip=["cohort:O", "k:O", alt.Tooltip("retention_rate:Q", format=".1%"), "cohort_size:Q"],
        )
        .properties(width=WIDTH, height=max(HEIGHT, 6 * data["cohort"].nunique()))
    )
    section.spec = _spec(chart)
    month1 = data[data["k"] == 1]
    if not month1.empty:
        section.reading = (
            f"A month after their first order {ctx.fmt.share(month1['retention_rate'].median(), 0)} of a cohort buys "
            f"again (median of {ctx.fmt.count(len(month1))} cohorts)."
        )
    return section


def _every(values: pd.Series, step: int) -> list[str]:
    unique = list(dict.fromkeys(values))
    return unique[::step]


def cumulative_revenue(ctx: Context) -> Section:
    section = Section(
        "chart-cumulative-revenue",
        "Cumulative revenue per customer, by channel",
        "Which channel brings customers who spend? Revenue since acquisition per acquired customer, over the "
        f"cohorts that are at least {COHORT_HORIZON} months old.",
        "acquisition_cohorts",
        definitions=ctx.define(
            "acquisition_cohorts", "cumulative_revenue", "cohort_size", "cumulative_revenue_per_customer"
        ),
    )
    # a fixed set of cohorts per channel, those whose month HORIZON is complete, pooled: their cumulative
    # revenue over their size (cohorts too young to have reached it would bend the curves down)
    data = _frame(
        ctx,
        f"""with mature as (
               select cohort_month, acquisition_channel from marts.acquisition_cohorts
               where months_since_acquisition = {COHORT_HORIZON} and is_complete and cohort_size > 0
           )
           select acquisition_channel as channel, months_since_acquisition as k,
                  sum(cumulative_revenue) / sum(cohort_size) as revenue_per_customer,
                  sum(cohort_size) as customers
           from marts.acquisition_cohorts inner join mature using (cohort_month, acquisition_channel)
           where months_since_acquisition <= {COHORT_HORIZON}
           group by all order by channel, k""",
    )
    if data.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    chart = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=alt.X("k:Q", title="months since acquisition"),
            y=alt.Y(
                "revenue_per_customer:Q", title="cumulative revenue per customer", axis=alt.Axis(format=MONEY_WHOLE)
            ),
            color=alt.Color("channel:N", title="channel"),
            strokeWidth=alt.condition(alt.datum.channel == "all", alt.value(3), alt.value(1.5)),
            tooltip=["channel:N", "k:Q", alt.Tooltip("revenue_per_customer:Q", format=MONEY), "customers:Q"],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    section.spec = _spec(chart)
    at12 = data[(data["k"] == 12) & (data["channel"] != "all")].sort_values("revenue_per_customer")
    if not at12.empty:
        best, worst = at12.iloc[-1], at12.iloc[0]
        section.reading = (
            f"After 12 months a customer from {best['channel']} had brought {ctx.fmt.money(best['revenue_per_customer'])}, "
            f"one from {worst['channel']} {ctx.fmt.money(worst['revenue_per_customer'])}."
        )
    return section


# --------------------------------------------------------------------------- voice of the customer


def nps_trend(ctx: Context) -> Section:
    section = Section(
        "chart-nps",
        "NPS and its 95 % margin",
        "Is NPS really moving, or within its margin? Monthly NPS of all answers with its 95 % interval.",
        "survey_scores",
        definitions=ctx.define("survey_scores", "nps", "nps_margin_of_error", "nps_answers"),
    )
    data = _frame(
        ctx,
        """select period_start as month, nps, nps_ci_low, nps_ci_high, nps_margin_of_error, nps_answers
           from marts.survey_scores
           where period_grain = 'month' and touchpoint_type = 'all' and channel = 'all' and is_complete
             and nps is not null
           order by period_start""",
    )
    if data.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    base = alt.Chart(data).encode(x=alt.X("yearmonth(month):T", title="month"))
    band = base.mark_area(opacity=0.25, color="#4c78a8").encode(
        y=alt.Y("nps_ci_low:Q", title="NPS (−100 … +100)"), y2="nps_ci_high:Q"
    )
    line = base.mark_line(point=True, color="#4c78a8").encode(
        y="nps:Q",
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), alt.Tooltip("nps:Q", format="+.1f"),
                 alt.Tooltip("nps_margin_of_error:Q", format=".1f", title="± margin"), "nps_answers:Q"],
    )  # fmt: skip
    section.spec = _spec((band + line).properties(width=WIDTH, height=HEIGHT))
    last, previous = data.iloc[-1], data.iloc[-2] if len(data) > 1 else None
    reading = f"Latest complete month: NPS {ctx.fmt.signed(last['nps'], 1)} ± {ctx.fmt.number(last['nps_margin_of_error'], 1)}"
    if previous is not None:
        overlap = last["nps_ci_low"] <= previous["nps_ci_high"] and previous["nps_ci_low"] <= last["nps_ci_high"]
        reading += f"; the month before {ctx.fmt.signed(previous['nps'], 1)}: " + (
            "the intervals overlap, the change is within the margin." if overlap else "the intervals do not overlap."
        )
    section.reading = reading
    return section


def ces_csat(ctx: Context) -> Section:
    section = Section(
        "chart-ces-csat",
        "CES and CSAT by touchpoint",
        "Where is it hard or disappointing to deal with us? Quarterly CES mean and CSAT share by touchpoint.",
        "survey_scores",
        definitions=ctx.define("survey_scores", "touchpoint_type", "ces_mean", "csat_score"),
    )
    data = _frame(
        ctx,
        """select period_start, touchpoint_type as touchpoint, ces_mean, csat_score
           from marts.survey_scores
           where period_grain = 'quarter' and channel = 'all' and is_complete
           order by period_start, touchpoint""",
    )
    if data.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    data["quarter"] = [_period_label("quarter", s) for s in data["period_start"]]
    order = list(dict.fromkeys(data["quarter"]))
    base = alt.Chart(data).encode(
        x=alt.X("quarter:O", sort=order, title="quarter"), color=alt.Color("touchpoint:N", title="touchpoint")
    )
    ces = base.mark_line(point=True).encode(
        y=alt.Y("ces_mean:Q", title="CES mean (1–7, 7 = easy)", scale=alt.Scale(zero=False)),
        tooltip=["quarter:O", "touchpoint:N", alt.Tooltip("ces_mean:Q", format=".2f")],
    )
    csat = base.mark_line(point=True).encode(
        y=alt.Y("csat_score:Q", title="CSAT (share 4–5)", axis=alt.Axis(format=SHARE), scale=alt.Scale(zero=False)),
        tooltip=["quarter:O", "touchpoint:N", alt.Tooltip("csat_score:Q", format=".1%")],
    )
    chart = alt.hconcat(
        ces.transform_filter("isValid(datum.ces_mean)").properties(width=300, height=HEIGHT),
        csat.transform_filter("isValid(datum.csat_score)").properties(width=300, height=HEIGHT),
    )
    section.spec = _spec(chart)
    last = data[data["quarter"] == order[-1]].dropna(subset=["ces_mean"])
    last = last[last["touchpoint"] != "all"].sort_values("ces_mean")
    if not last.empty:
        section.reading = (
            f"In {order[-1]} effort was highest after a {last.iloc[0]['touchpoint']} touchpoint "
            f"(CES {ctx.fmt.number(last.iloc[0]['ces_mean'], 2)})."
        )
    return section


def satisfaction_vs_loyalty(ctx: Context) -> Section:
    section = Section(
        "chart-satisfaction-loyalty",
        "Satisfaction versus later loyalty",
        "Do the scores predict who stays? What customers did in the W days after answering, per score category.",
        "satisfaction_vs_loyalty",
        definitions=ctx.define("satisfaction_vs_loyalty", "category", "repurchase_share", "lapse_share", "window_days"),
    )
    data = _frame(
        ctx,
        """select upper(score_type) as score, category, answers, repurchase_share, lapse_share
           from marts.satisfaction_vs_loyalty order by score_type, category""",
    )
    if data.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    long = data.melt(id_vars=["score", "category", "answers"], value_vars=["repurchase_share", "lapse_share"],
                     var_name="outcome", value_name="share")  # fmt: skip
    long["outcome"] = long["outcome"].map({"repurchase_share": "bought again", "lapse_share": "lapsed"})
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y(
                "category:N",
                title=None,
                sort=["promoter", "passive", "detractor", "easy", "neutral", "hard", "satisfied", "dissatisfied"],
            ),  # fmt: skip
            x=alt.X("share:Q", stack="normalize", title="share of answers", axis=alt.Axis(format=SHARE)),
            color=alt.Color(
                "outcome:N",
                scale=alt.Scale(domain=["bought again", "lapsed"], range=["#54a24b", "#e45756"]),
                title=None,
            ),  # fmt: skip
            tooltip=["score:N", "category:N", "outcome:N", alt.Tooltip("share:Q", format=".1%"), "answers:Q"],
        )
        .properties(width=WIDTH - 120, height=70)
        .facet(row=alt.Row("score:N", title=None))
        .resolve_scale(y="independent")
    )
    section.spec = _spec(chart)
    satisfied = data[(data["score"] == "CSAT") & (data["category"] == "satisfied")]
    promoters = data[(data["score"] == "NPS") & (data["category"] == "promoter")]
    parts = []
    if not satisfied.empty:
        parts.append(f"{ctx.fmt.share(satisfied.iloc[0]['lapse_share'], 0)} of satisfied customers left anyway")
    if not promoters.empty:
        parts.append(f"{ctx.fmt.share(promoters.iloc[0]['lapse_share'], 0)} of promoters")
    if parts:
        section.reading = ", ".join(parts) + "."
    return section


def service_effort(ctx: Context) -> Section:
    section = Section(
        "chart-service-effort",
        "Service effort and repurchase",
        "Does a hard contact cost us the customer? Repurchase within W days after effortful and easy contacts.",
        "service_effort",
        definitions=ctx.define("service_effort", "effortful_repurchase_rate", "easy_repurchase_rate"),
    )
    data = _frame(
        ctx,
        """select contact_month, effortful_repurchase_rate as effortful, easy_repurchase_rate as easy,
                  effortful_contacts_judged, easy_contacts_judged
           from marts.service_effort
           where contact_channel = 'all' and (effortful_contacts_judged > 0 or easy_contacts_judged > 0)
           order by contact_month""",
    )
    if data.empty:
        if ctx.marts.rows(section.mart) == 0:
            section.empty_reason = ctx.empty_reason(section.mart)
        else:
            section.empty_reason = "no contact is W days old yet: repurchase after a contact cannot be judged."
        return section
    long = data.melt(id_vars=["contact_month"], value_vars=["effortful", "easy"], var_name="contact",
                     value_name="repurchase_rate").dropna()  # fmt: skip
    chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonth(contact_month):T", title="month of contact"),
            y=alt.Y("repurchase_rate:Q", title="bought again within W days", axis=alt.Axis(format=SHARE)),
            color=alt.Color("contact:N", scale=alt.Scale(domain=["easy", "effortful"], range=["#54a24b", "#e45756"])),
            tooltip=[
                alt.Tooltip("yearmonth(contact_month):T", title="month"),
                "contact:N",
                alt.Tooltip("repurchase_rate:Q", format=".1%"),
            ],
        )  # fmt: skip
        .properties(width=WIDTH, height=HEIGHT)
    )
    section.spec = _spec(chart)
    last = data.dropna(subset=["effortful", "easy"]).tail(1)
    if not last.empty:
        row = last.iloc[0]
        section.reading = (
            f"Contacts of {pd.Timestamp(row['contact_month']):%Y-%m}: {ctx.fmt.share(row['easy'], 0)} bought again after "
            f"an easy contact, {ctx.fmt.share(row['effortful'], 0)} after an effortful one."
        )
    return section


# --------------------------------------------------------------------------- personas


def persona_mix(ctx: Context) -> Section:
    section = Section(
        "chart-persona-mix",
        "Persona mix",
        "Which kind of customer is each one, and what do they bring?",
        "persona_summary",
        definitions=ctx.define("persona_summary", "customer_share", "revenue_12m_share"),
    )
    data = _frame(
        ctx,
        """select persona, persona_order, customer_share, revenue_12m_share, customers
           from marts.persona_summary where persona <> 'all' order by persona_order""",
    )
    if data.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    long = data.melt(id_vars=["persona", "persona_order", "customers"], value_vars=["customer_share", "revenue_12m_share"],
                     var_name="share_of", value_name="share")  # fmt: skip
    long["share_of"] = long["share_of"].map(
        {"customer_share": "customers", "revenue_12m_share": "revenue, last 12 months"}
    )
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("persona:N", sort=list(data["persona"]), title=None),
            x=alt.X("share:Q", title="share", axis=alt.Axis(format=SHARE)),
            yOffset="share_of:N",
            color=alt.Color("share_of:N", title=None),
            tooltip=["persona:N", "share_of:N", alt.Tooltip("share:Q", format=".1%"), "customers:Q"],
        )
        .properties(width=WIDTH - 100, height=HEIGHT)
    )
    section.spec = _spec(chart)
    top = data.sort_values("revenue_12m_share").iloc[-1]
    section.reading = (
        f"{top['persona']} customers are {ctx.fmt.share(top['customer_share'], 0)} of the base and bring "
        f"{ctx.fmt.share(top['revenue_12m_share'], 0)} of the last 12 months' revenue."
    )
    return section


def persona_transitions(ctx: Context) -> Section:
    section = Section(
        "chart-persona-transitions",
        "Persona transitions",
        "How many passives became ambassadors, how many walked away? Customers by persona last month and now.",
        "persona_transitions",
        definitions=ctx.define("persona_transitions", "from_persona", "to_persona", "share_of_from_persona"),
    )
    data = _frame(
        ctx,
        """select from_persona, to_persona, customers, share_of_from_persona, snapshot_month
           from marts.persona_transitions
           where snapshot_month = (select max(snapshot_month) from marts.persona_transitions)""",
    )
    if data.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    base = alt.Chart(data).encode(
        x=alt.X("to_persona:N", title="persona now"), y=alt.Y("from_persona:N", title="persona the month before")
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "share_of_from_persona:Q",
            title="share of row",
            scale=alt.Scale(scheme="greens"),
            legend=alt.Legend(format=SHARE),
        ),  # fmt: skip
        tooltip=["from_persona:N", "to_persona:N", "customers:Q", alt.Tooltip("share_of_from_persona:Q", format=".1%")],
    )
    text = base.mark_text(fontSize=11).encode(text=alt.Text("customers:Q", format=",.0f"))
    section.spec = _spec((cells + text).properties(width=WIDTH - 200, height=HEIGHT))
    month = pd.Timestamp(data["snapshot_month"].iloc[0])
    if set(data["from_persona"]) == {"none"}:
        section.reading = (
            f"{month:%Y-%m} is the first monthly snapshot: every customer comes from 'none' (the history starts with "
            "the first run)."
        )
    else:
        stayed = data[data["from_persona"] == data["to_persona"]]["customers"].sum()
        section.reading = (
            f"In {month:%Y-%m} {ctx.fmt.share(stayed / data['customers'].sum(), 0)} of customers kept their persona."
        )
    return section


# --------------------------------------------------------------------------- revenue and acquisition


LORENZ_SQL = """
with years as (
    select period_start, period_end, gini_coefficient, top_20_pct_revenue_share
    from marts.revenue_concentration where period_grain = 'year' and is_complete
),
customer_revenue as (
    select years.period_start, orders.customer_id, sum(orders.amount) as revenue
    from marts.orders as orders
    inner join years on orders.order_date between years.period_start and years.period_end
    where orders.is_completed
    group by all
),
ranked as (
    select period_start, revenue,
           row_number() over (partition by period_start order by revenue, customer_id) as rank_up,
           count(*) over (partition by period_start) as customers,
           sum(revenue) over (partition by period_start order by revenue, customer_id) as cumulative,
           sum(revenue) over (partition by period_start) as total
    from customer_revenue
),
points as (
    -- about 100 points per year: the customer at each whole percent of the ranking
    select period_start, rank_up / customers as customer_share, cumulative / nullif(total, 0) as revenue_share
    from ranked
    where rank_up = customers or floor(100 * rank_up / customers) > floor(100 * (rank_up - 1) / customers)
)
select strftime(period_start, '%Y') as year, customer_share, revenue_share from points
union all
select strftime(period_start, '%Y'), 0, 0 from years
order by year, customer_share
"""


def lorenz(ctx: Context) -> Section:
    section = Section(
        "chart-lorenz",
        "Revenue concentration: Lorenz curves",
        "Is revenue still 80/20? Share of revenue of the bottom x % of customers, per complete year.",
        "revenue_concentration",
        definitions=ctx.define("revenue_concentration", "top_20_pct_revenue_share", "gini_coefficient"),
    )
    figures = _frame(
        ctx,
        """select strftime(period_start, '%Y') as year, top_20_pct_revenue_share, gini_coefficient, customers
           from marts.revenue_concentration where period_grain = 'year' and is_complete order by period_start""",
    )
    if figures.empty or not ctx.marts.has("orders"):
        section.empty_reason = ctx.empty_reason(section.mart) if figures.empty else "marts.orders is not published."
        return section
    points = _frame(ctx, LORENZ_SQL)
    labels = {
        r[
            "year"
        ]: f"{r['year']}: top 20 % {ctx.fmt.share(r['top_20_pct_revenue_share'])}, Gini {ctx.fmt.number(r['gini_coefficient'], 2)}"
        for _, r in figures.iterrows()
    }
    points["year_label"] = points["year"].map(labels)
    curves = (
        alt.Chart(points)
        .mark_line()
        .encode(
            x=alt.X("customer_share:Q", title="customers, ranked by revenue (bottom x %)", axis=alt.Axis(format=SHARE)),
            y=alt.Y("revenue_share:Q", title="share of the year's revenue", axis=alt.Axis(format=SHARE)),
            color=alt.Color("year_label:N", title="year", sort=list(labels.values())),
            tooltip=[
                "year:N",
                alt.Tooltip("customer_share:Q", format=".0%"),
                alt.Tooltip("revenue_share:Q", format=".1%"),
            ],
        )
    )
    equality = (
        alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]}))
        .mark_line(color="#999", strokeDash=[4, 4])
        .encode(x="x:Q", y="y:Q")
    )
    # 80/20: the top 20 % bring 80 % (the bottom 80 % bring 20 %); 60/40 the same for 40 % and 60 %
    rules = pd.DataFrame({"x": [0.8, 0.6], "y": [0.2, 0.4], "label": ["80/20", "60/40"]})
    marks = alt.Chart(rules).mark_point(shape="cross", size=120, color="#333").encode(x="x:Q", y="y:Q")
    text = alt.Chart(rules).mark_text(dx=22, fontSize=11, color="#333").encode(x="x:Q", y="y:Q", text="label:N")
    reference = alt.Chart(rules).mark_line(color="#333", strokeDash=[2, 2]).encode(x="x:Q", y="y:Q")
    chart = (equality + reference + marks + text + curves).properties(width=420, height=360)
    section.spec = _spec(chart)
    last = figures.iloc[-1]
    section.reading = (
        f"In {last['year']} the top 20 % of customers brought {ctx.fmt.share(last['top_20_pct_revenue_share'])} of revenue "
        f"(80/20 would be 80 %; Gini {ctx.fmt.number(last['gini_coefficient'], 2)})."
    )
    return section


def acquisition_cost(ctx: Context) -> Section:
    section = Section(
        "chart-cac",
        "Acquisition cost and payback per channel",
        "What does winning a customer cost, and how soon do they pay it back?",
        "acquisition_cost",
        definitions=ctx.define("acquisition_cost", "cac", "payback_months"),
    )
    data = _frame(
        ctx,
        """select acquisition_month, acquisition_channel as channel, cac, payback_months, spend_amount, new_customers
           from marts.acquisition_cost
           where acquisition_channel <> 'all' and cac is not null order by acquisition_month, channel""",
    )
    if data.empty:
        section.empty_reason = ctx.empty_reason(section.mart)
        return section
    base = alt.Chart(data).encode(
        x=alt.X("yearmonth(acquisition_month):T", title="month of acquisition"), color=alt.Color("channel:N")
    )
    cac = base.mark_line(point=True).encode(
        y=alt.Y("cac:Q", title="CAC per new customer", axis=alt.Axis(format=MONEY_WHOLE)),
        tooltip=["channel:N", alt.Tooltip("yearmonth(acquisition_month):T", title="month"),
                 alt.Tooltip("cac:Q", format=MONEY), "new_customers:Q"],
    )  # fmt: skip
    payback = base.mark_point(filled=True).encode(
        y=alt.Y("payback_months:Q", title="payback (months)"),
        tooltip=["channel:N", alt.Tooltip("yearmonth(acquisition_month):T", title="month"), "payback_months:Q"],
    )
    chart = alt.vconcat(
        cac.properties(width=WIDTH, height=HEIGHT - 40),
        payback.transform_filter("isValid(datum.payback_months)").properties(width=WIDTH, height=HEIGHT - 80),
    )
    section.spec = _spec(chart)
    recent = data[data["acquisition_month"] == data["acquisition_month"].max()].sort_values("cac")
    if not recent.empty:
        section.reading = (
            f"In {pd.Timestamp(recent.iloc[0]['acquisition_month']):%Y-%m} {recent.iloc[0]['channel']} was the cheapest "
            f"channel ({ctx.fmt.money(recent.iloc[0]['cac'])} per customer), {recent.iloc[-1]['channel']} the dearest "
            f"({ctx.fmt.money(recent.iloc[-1]['cac'])})."
        )
    return section


# --------------------------------------------------------------------------- customer value (when published)


def _value_column(columns: list[str], *candidates: str) -> str | None:
    for candidate in candidates:
        if candidate in columns:
            return candidate
    return next((c for c in columns if any(k in c for k in candidates)), None)


#: Every chart's data is aggregated in DuckDB (bins, percent points of a ranking, periods), so the
#: report does not need Altair's 5,000-row guard for notebooks; a long history (many cohorts x months x
#: channels) must not fail a publication over it.
alt.data_transformers.disable_max_rows()

#: bins of the CLV histogram
CLV_BINS = 40


def clv_distribution(ctx: Context) -> Section | None:
    mart = "customer_lifetime_value"
    if not ctx.marts.has(mart):
        return None
    section = Section(
        "chart-clv",
        "Customer lifetime value",
        "What is a customer worth? The distribution of CLV over customers.",
        mart,
    )
    columns = ctx.marts.columns(mart)
    value = _value_column(columns, "clv", "customer_lifetime_value", "predicted_clv", "lifetime_value")
    section.definitions = ctx.define(mart, *(c for c in [value] if c))
    if value is None or ctx.marts.rows(mart) == 0:
        section.empty_reason = ctx.empty_reason(mart) if value else f"marts.{mart} has no CLV column."
        return section
    # Binned in DuckDB (40 bins from the lowest to the highest CLV): the chart carries 40 rows whatever
    # the number of customers (Altair refuses more than 5,000 rows of data, and the file stays small).
    [(customers, median, mean, low, high)] = ctx.marts.con.sql(
        f"""select count("{value}"), quantile_cont("{value}", 0.5), avg("{value}"),
                   min("{value}")::double, max("{value}")::double
            from marts.{mart}"""
    ).fetchall()
    if not customers:
        section.empty_reason = f"marts.{mart} has no CLV: nothing to draw."
        return section
    width = (high - low) / CLV_BINS or 1.0
    data = _frame(
        ctx,
        f"""select {low} + bin * {width} as clv_from, {low} + (bin + 1) * {width} as clv_to, count(*) as customers
            from (select least(floor(("{value}"::double - {low}) / {width}), {CLV_BINS - 1}) as bin
                  from marts.{mart} where "{value}" is not null)
            group by bin order by bin""",
    )
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("clv_from:Q", title="CLV per customer", axis=alt.Axis(format=MONEY_WHOLE)),
            x2="clv_to:Q",
            y=alt.Y("customers:Q", title="customers"),
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    section.spec = _spec(chart)
    section.reading = (
        f"Median CLV {ctx.fmt.money(median)}; the mean {ctx.fmt.money(mean)} over {ctx.fmt.count(customers)} customers."
    )
    return section


def table_section(
    ctx: Context,
    marts: tuple[str, ...],
    chart_id: str,
    title: str,
    question: str,
    query: str | None = None,
    defined: tuple[str, ...] = (),
    reading: Callable[[list[dict[str, Any]], NumberFormat], str] | None = None,
) -> Section | None:
    """The first published of `marts` shown as a table: its rows (at most 24), or what `query` (SQL over
    `marts.<mart>`, `{mart}` in it) makes of them; `defined`: the mart columns whose definitions it shows."""
    mart = next((m for m in marts if ctx.marts.has(m)), None)
    if mart is None:
        return None
    section = Section(chart_id, title, question, mart)
    section.definitions = ctx.define(mart, *(defined or ctx.marts.columns(mart)))[:8]
    if ctx.marts.rows(mart) == 0:
        section.empty_reason = ctx.empty_reason(mart)
        section.reading = section.empty_reason
        return section
    records = ctx.marts.records(query.format(mart=mart) if query else f"select * from marts.{mart} limit 24")
    columns = list(records[0]) if records else ctx.marts.columns(mart)
    section.table = [columns] + [[_cell(ctx.fmt, name, row[name]) for name in columns] for row in records]
    if reading is not None and records:
        section.reading = reading(records, ctx.fmt)
    return section


def _equity_reading(records: list[dict[str, Any]], fmt: NumberFormat) -> str:
    """The 'all' row of EQUITY_BY_CHANNEL in one line."""
    total = records[-1]
    text = (
        f"The customer base is worth {fmt.money(total['customer_equity'])}: {fmt.count(total['customers'])} "
        f"customers, {fmt.money(total['mean_clv'])} each on average"
    )
    if total["clv_to_cac"] is not None:
        text += f"; where a channel has a CAC, a customer is worth {fmt.number(total['clv_to_cac'], 2)} times its cost"
    return text + "."


def _holdout_reading(records: list[dict[str, Any]], fmt: NumberFormat) -> str:
    """The total row of clv_holdout_validation in one line (nothing when the mart has none)."""
    total = next((r for r in records if r.get("check_type") == "total"), None)
    if total is None:
        return "The model's predictions beside what the customers did in the holdout."
    return (
        f"In the holdout the model expected {fmt.number(total['expected_repeat_purchases'], 0)} repeat purchases; "
        f"the customers made {fmt.number(total['actual_repeat_purchases'], 0)} "
        f"(error {fmt.share(total['relative_error'])})."
    )


#: The holdout check, its total first, then per number of calibration purchases and cumulatively.
HOLDOUT_ROWS = """
select check_type, calibration_frequency, period_end_date, customers, actual_repeat_purchases,
       expected_repeat_purchases, relative_error
from marts.{mart}
order by check_type <> 'total', check_type, row_order
limit 24
"""


#: Customer equity and CLV / CAC per acquisition channel and in total, as acquisition_channel_value
#: defines them (the run summary shows the same rows: flows/summary/headlines/value.py CHANNEL_SQL).
EQUITY_BY_CHANNEL = """
select acquisition_channel, new_customers as customers, customer_equity, mean_clv, cac, clv_to_cac
from marts.{mart}
order by acquisition_channel = 'all', customer_equity desc, acquisition_channel
"""


def _cell(fmt: NumberFormat, name: str, value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return fmt.count(value)
    if isinstance(value, float) or hasattr(value, "as_tuple"):
        if any(k in name for k in ("share", "rate", "ratio_pct")):
            return fmt.share(value)
        if "_to_" in name:  # a ratio of two amounts (clv_to_cac)
            return fmt.number(value, 2)
        if any(k in name for k in ("revenue", "clv", "equity", "cac", "value", "amount", "spend")):
            return fmt.money(value)
        return fmt.number(value, 2)
    return str(value.date() if hasattr(value, "date") and callable(value.date) and hasattr(value, "hour") else value)


#: the customer-value marts shown as tables when published (the first published name of `marts`)
VALUE_TABLES: list[dict[str, Any]] = [
    {
        "marts": ("acquisition_channel_value",),
        "chart_id": "table-customer-equity",
        "title": "Customer equity and CLV / CAC per channel",
        "question": "What is the whole base worth, and which channels win customers worth more than they cost?",
        "query": EQUITY_BY_CHANNEL,
        "defined": ("new_customers", "customer_equity", "mean_clv", "cac", "clv_to_cac"),
        "reading": _equity_reading,
    },
    {
        "marts": ("clv_holdout_validation",),
        "chart_id": "table-clv-holdout",
        "title": "The model's holdout check",
        "question": "Did the model predict the held-out period?",
        "query": HOLDOUT_ROWS,
        "defined": (
            "check_type",
            "calibration_frequency",
            "actual_repeat_purchases",
            "expected_repeat_purchases",
            "relative_error",
        ),
        "reading": _holdout_reading,
    },
]

SectionBuilder = Callable[[Context], Section | None]

#: the report's sections in order, grouped under headings
SECTIONS: list[tuple[str, list[SectionBuilder]]] = [
    ("The customer base", [bridge, active_customers, revenue_per_customer]),
    ("Acquisition cohorts", [retention, cumulative_revenue]),
    ("Voice of the customer", [nps_trend, ces_csat, satisfaction_vs_loyalty, service_effort]),
    ("Personas", [persona_mix, persona_transitions]),
    ("Revenue and acquisition", [lorenz, acquisition_cost]),
    ("Customer value", [clv_distribution, *(partial(table_section, **table) for table in VALUE_TABLES)]),
]


def build_sections(ctx: Context) -> list[tuple[str, list[Section]]]:
    """Every section whose mart is published, under its heading (headings without any are left out)."""
    groups = []
    for heading, builders in SECTIONS:
        sections = []
        for builder in builders:
            section = builder(ctx)
            if section is None or not ctx.marts.has(section.mart):
                continue
            sections.append(section)
        if sections:
            groups.append((heading, sections))
    return groups
