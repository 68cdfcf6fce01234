-- Known NYSE closures must not be sessions (9/11, Hurricane Sandy, national days of mourning,
-- regular holidays); each row returned is a failure.
with

closures as (

    select cast(day as date) as closed_on
    from (
        values
        ('2001-09-11'), ('2001-09-12'), ('2001-09-13'), ('2001-09-14'),
        ('2012-10-29'), ('2012-10-30'),
        ('2018-12-05'), ('2007-01-02'), ('2004-06-11'), ('1994-04-27'),
        ('2019-12-25'), ('2020-01-01'), ('2020-07-03'), ('2021-11-25'), ('1985-09-27')
    ) as known (day)  -- noqa: AL05

)

select closures.closed_on
from closures
inner join {{ ref('trading_calendar') }} as calendar on calendar.session_date = closures.closed_on
