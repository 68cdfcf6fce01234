-- Every full year since 1962 has between 245 and 256 NYSE sessions (1968's paperwork-crisis
-- Wednesdays closures bring it down to 226); each row returned is a failure.
select
    extract(year from session_date) as session_year,
    count(*) as sessions
from {{ ref('trading_calendar') }}
where session_date < cast('{{ modules.datetime.date.today().year }}-01-01' as date)
group by extract(year from session_date)
having
    count(*) > 256
    or (count(*) < 245 and extract(year from session_date) <> 1968)
