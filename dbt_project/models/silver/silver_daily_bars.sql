{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'session_date'],
    )
}}
{#- delete+insert, or whole-partition insert_overwrite on Spark: macros/spark_incremental.sql -#}
{{ config(**tradlyte_incremental_config()) }}

{#- One row per ticker and NYSE session: raw and split-adjusted OHLCV, the split factor and
    the total-return factor, as of the latest known corporate actions.

    Incremental: a run rewrites (new `updated_at`)
      1. the last `lookback_sessions` sessions of every ticker (late and corrected bars),
      2. every bronze row from a load newer than the newest one processed here, whatever
         its date (backfills and new tickers),
      3. the whole history of any ticker whose corporate-action fingerprint changed (a
         split or dividend that arrived later re-adjusts all of that ticker's prices).
    Bars on days that are not NYSE sessions are left out. -#}

with

bronze as (

    select * from {{ ref('bronze_daily_aggs') }}

),

calendar as (

    select * from {{ ref('trading_calendar') }}

),

split_segments as (

    select * from {{ ref('silver_split_segments') }}

),

dividend_segments as (

    select * from {{ ref('silver_dividend_segments') }}

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
        calendar.day_end_at
    from bronze
    inner join calendar on calendar.session_date = bronze.session_date
    {% if is_incremental() %}
        where {{ in_silver_scope('calendar.session_index', 'bronze.load_id', 'bronze.ticker') }}
    {% endif %}

),

adjusted as (

    select
        scoped.*,
        coalesce(split_segments.split_factor, 1.0) as split_factor,
        coalesce(split_segments.split_factor, 1.0)
        * coalesce(dividend_segments.dividend_factor, 1.0) as total_return_factor,
        coalesce(fingerprints.adjustment_fingerprint, 'none') as adjustment_fingerprint
    from scoped
    left join split_segments
        on
            split_segments.ticker = scoped.ticker
            and scoped.session_date >= split_segments.valid_from
            and scoped.session_date < split_segments.valid_to
    left join dividend_segments
        on
            dividend_segments.ticker = scoped.ticker
            and scoped.session_date >= dividend_segments.valid_from
            and scoped.session_date < dividend_segments.valid_to
    left join fingerprints on fingerprints.ticker = scoped.ticker

),

final as (

    select
        ticker,
        session_date,
        session_index,
        bar_start_at,
        day_end_at as bar_end_at,
        open * split_factor as open,
        high * split_factor as high,
        low * split_factor as low,
        close * split_factor as close,
        volume / split_factor as volume,
        vwap * split_factor as vwap,
        transactions,
        open as raw_open,
        high as raw_high,
        low as raw_low,
        close as raw_close,
        volume as raw_volume,
        vwap as raw_vwap,
        split_factor,
        total_return_factor,
        adjustment_fingerprint,
        load_id as source_load_id,
        {{ tradlyte_macros.run_timestamp() }} as updated_at
    from adjusted

)

select * from final
