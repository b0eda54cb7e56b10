-- Each judged answer is either repurchased or lapsed, and a category has no more customers than
-- answers. Returns the offending rows.
select *
from {{ ref('satisfaction_vs_loyalty') }}
where repurchased_answers + lapsed_answers != answers
    or customers > answers
