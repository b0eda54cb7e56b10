-- NPS lies in [-100, 100] and inside its confidence interval, which lies in [-100, 100] too.
-- Returns the offending rows.
select *
from {{ ref('survey_scores') }}
where nps not between -100 and 100
    or nps_ci_low not between -100 and 100
    or nps_ci_high not between -100 and 100
    or nps_ci_low > nps
    or nps_ci_high < nps
    or nps_margin_of_error < 0
    or (nps_answers < 2 and nps_margin_of_error is not null)
    or (nps_answers >= 2 and nps_margin_of_error is null)
