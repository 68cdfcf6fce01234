-- Known early closes (13:00 New York) must be half days closing at 18:00 UTC (winter) or
-- 17:00 UTC (summer); each row returned is a failure.
with

early_closes as (

    select
        cast(day as date) as session_date,
        cast(close_utc as {{ tradlyte_macros.timestamptz_type() }}) as expected_close_at
    from (
        values
        ('2019-07-03', '2019-07-03 17:00:00+00'),
        ('2019-11-29', '2019-11-29 18:00:00+00'),
        ('2019-12-24', '2019-12-24 18:00:00+00'),
        ('2020-11-27', '2020-11-27 18:00:00+00'),
        ('2023-07-03', '2023-07-03 17:00:00+00')
    ) as known (day, close_utc)  -- noqa: AL05

)

select early_closes.session_date
from early_closes
left join {{ ref('trading_calendar') }} as calendar on calendar.session_date = early_closes.session_date
where
    calendar.session_date is null
    or not calendar.is_half_day
    or calendar.market_close_at <> early_closes.expected_close_at
