{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'minute_start_at'],
    )
}}
{#- delete+insert, or whole-partition insert_overwrite on Spark: macros/spark_incremental.sql -#}
{{ config(**tradlyte_incremental_config()) }}

{#- Regular-hours minute bars (09:30 to the session's close, 13:00 on half days), split-
    adjusted with the same factors as the daily bars, with the minute's position in its
    session (0 = the opening minute) for intraday resampling. Incremental like
    silver_daily_bars: the look-back sessions, every newer load, and restated tickers. -#}

with

bronze as (

    select * from {{ ref('bronze_minute_aggs') }}

),

calendar as (

    select * from {{ ref('trading_calendar') }}

),

split_segments as (

    select * from {{ ref('silver_split_segments') }}

),

fingerprints as (

    select * from {{ ref('silver_adjustment_fingerprints') }}

),

{% if is_incremental() %}

{{ silver_watermark_ctes() }}

{% endif %}

scoped as (

    select
        bronze.*,
        calendar.session_index,
        calendar.market_open_at,
        calendar.market_close_at
    from bronze
    inner join calendar on calendar.session_date = bronze.session_date
    where
        bronze.minute_start_at >= calendar.market_open_at
        and bronze.minute_start_at < calendar.market_close_at  -- noqa: LT02
{%- if is_incremental() %}
        and {{ in_silver_scope('calendar.session_index', 'bronze.load_id', 'bronze.ticker') }}
{%- endif %}

),

adjusted as (

    select
        scoped.*,
        coalesce(split_segments.split_factor, 1.0) as split_factor,
        coalesce(fingerprints.adjustment_fingerprint, 'none') as adjustment_fingerprint
    from scoped
    left join split_segments
        on
            split_segments.ticker = scoped.ticker
            and scoped.session_date >= split_segments.valid_from
            and scoped.session_date < split_segments.valid_to
    left join fingerprints on fingerprints.ticker = scoped.ticker

),

final as (

    select
        ticker,
        minute_start_at,
        session_date,
        session_index,
        {{ tradlyte_macros.minutes_between('market_open_at', 'minute_start_at') }} as minute_of_session,
        market_open_at,
        market_close_at,
        open * split_factor as open,
        high * split_factor as high,
        low * split_factor as low,
        close * split_factor as close,
        volume / split_factor as volume,
        vwap * split_factor as vwap,
        transactions,
        split_factor,
        adjustment_fingerprint,
        load_id as source_load_id,
        {{ tradlyte_macros.run_timestamp() }} as updated_at
    from adjusted

)

select * from final
