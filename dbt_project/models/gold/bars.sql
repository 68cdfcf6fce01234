{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'timeframe', 'bar_start_at'],
    )
}}
{#- delete+insert, or whole-partition insert_overwrite on Spark: macros/spark_incremental.sql -#}
{{ config(**tradlyte_incremental_config()) }}

{#- gold.bars: every timeframe of the public contract in one table.

    1d from silver_daily_bars; 3d..34d Fibonacci bars (var `fib_anchor`, see
    macros/resample.sql); 1m..1h intraday bars from silver_minute_bars.

    Incremental: silver rows rewritten since this table's newest `updated_at` mark, per
    ticker, the first changed session; every bar from the bucket holding it onwards is
    rebuilt (whole buckets, so a bar never mixes old and new inputs), and so is every bar
    still open (`is_complete = false`), which closes once the calendar has moved past it.
    A split restates a whole ticker in silver and so rebuilds all of its bars. -#}

{%- set fib_intervals = var('fib_intervals') -%}
{%- set intraday_minutes = var('intraday_minutes') -%}
{%- set anchor = var('fib_anchor') -%}

with

silver_daily as (

    select * from {{ ref('silver_daily_bars') }}

),

silver_minutes as (

    select * from {{ ref('silver_minute_bars') }}

),

calendar as (

    select * from {{ ref('trading_calendar') }}

),

as_of as (

    select
        max(session_index) as as_of_index,
        max(session_date) as as_of_date
    from silver_daily

),

-- next_session is used when fib_anchor = calendar
next_session as (  -- noqa: ST03

    select min(calendar.session_date) as next_session_date
    from calendar
    cross join as_of
    where calendar.session_date > as_of.as_of_date

),

minute_as_of as (

    select {{ tradlyte_macros.add_minutes('max(minute_start_at)', 1) }} as as_of_at
    from silver_minutes

),

{% if is_incremental() %}

watermark as (

    select coalesce(max(updated_at), cast('1900-01-01 00:00:00+00' as {{ tradlyte_macros.timestamptz_type() }})) as newest
    from {{ this }}

),

changed_daily as (

    select ticker, session_index, session_date
    from silver_daily
    where updated_at > (select newest from watermark)

),

open_daily_bars as (

    select bars.ticker, bars.timeframe, calendar.session_index, calendar.session_date
    from {{ this }} as bars
    inner join calendar on calendar.session_date = bars.first_session_date
    where not bars.is_complete and bars.timeframe like '%d'

),

changed_minutes as (

    select ticker, min(session_date) as from_session_date
    from (
        select ticker, session_date
        from silver_minutes
        where updated_at > (select newest from watermark)
        union all
        select ticker, first_session_date
        from {{ this }}
        where not is_complete and timeframe not like '%d'
    ) as changes
    group by ticker

),

{% endif %}

daily_rows as (

    select silver_daily.*
    from silver_daily
    {% if is_incremental() %}
        inner join (
            select ticker, min(session_index) as from_index
            from changed_daily
            group by ticker
        ) as changes on changes.ticker = silver_daily.ticker
        where silver_daily.session_index >= changes.from_index
    {% endif %}

),

-- noqa: disable=LT02
{% for n in fib_intervals %}

fib_{{ n }}_rows as (

    select silver_daily.*
    from silver_daily
    {% if is_incremental() %}
        inner join (
            select ticker, min(bucket) as from_bucket
            from (
                select
                    ticker,
                    {{ tradlyte_macros.session_bucket(n, anchor) }} as bucket
                from changed_daily
                union all
                select
                    ticker,
                    {{ tradlyte_macros.session_bucket(n, anchor) }} as bucket
                from open_daily_bars
                where timeframe = '{{ tradlyte_macros.sessions_timeframe(n) }}'
            ) as touched
            group by ticker
        ) as changes on changes.ticker = silver_daily.ticker
        where {{ tradlyte_macros.session_bucket(n, anchor, 'silver_daily.session_index', 'silver_daily.session_date') }}
            >= changes.from_bucket
    {% endif %}

),

{% endfor %}
-- noqa: enable=LT02

minute_rows as (

    select silver_minutes.*
    from silver_minutes
    {% if is_incremental() %}
        inner join changed_minutes on changed_minutes.ticker = silver_minutes.ticker
        where silver_minutes.session_date >= changed_minutes.from_session_date
    {% endif %}

),

daily_bars as (

    select
        ticker,
        '1d' as timeframe,
        bar_start_at,
        bar_end_at,
        session_date as first_session_date,
        session_date as last_session_date,
        open,
        high,
        low,
        close,
        volume,
        vwap,
        transactions as transaction_count,
        1 as session_count,
        true as is_complete
    from daily_rows

),

all_bars as (

    select * from daily_bars
    {% for n in fib_intervals %}
        union all
        {{ tradlyte_macros.resample_sessions(
            'fib_' ~ n ~ '_rows', n, anchor, 'calendar',
            '(select as_of_index from as_of)',
            '(select next_session_date from next_session)') }}
    {% endfor %}
    {% for m in intraday_minutes %}
        union all
        {{ tradlyte_macros.resample_minutes('minute_rows', m, '(select as_of_at from minute_as_of)') }}
    {% endfor %}

),

final as (

    select
        cast(ticker as {{ tradlyte_macros.string_type() }}) as ticker,
        cast(timeframe as {{ tradlyte_macros.string_type() }}) as timeframe,
        cast(bar_start_at as {{ tradlyte_macros.timestamptz_type() }}) as bar_start_at,
        cast(bar_end_at as {{ tradlyte_macros.timestamptz_type() }}) as bar_end_at,
        cast(first_session_date as date) as first_session_date,
        cast(last_session_date as date) as last_session_date,
        cast(open as {{ tradlyte_macros.double_type() }}) as open,
        cast(high as {{ tradlyte_macros.double_type() }}) as high,
        cast(low as {{ tradlyte_macros.double_type() }}) as low,
        cast(close as {{ tradlyte_macros.double_type() }}) as close,
        cast(volume as {{ tradlyte_macros.double_type() }}) as volume,
        cast(vwap as {{ tradlyte_macros.double_type() }}) as vwap,
        cast(transaction_count as bigint) as transaction_count,
        cast(session_count as integer) as session_count,
        cast(is_complete as boolean) as is_complete,
        {{ tradlyte_macros.run_timestamp() }} as updated_at
    from all_bars

)

select * from final
