-- Every NPS answer is exactly one of promoter, passive or detractor, and no score has more
-- answers than there are responses. Returns the offending rows.
select *
from {{ ref('survey_scores') }}
where promoters + passives + detractors != nps_answers
    or nps_answers > responses
    or ces_answers > responses
    or csat_answers > responses
