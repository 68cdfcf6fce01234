{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'session_date'],
    )
}}
{#- delete+insert, or whole-partition insert_overwrite on Spark: macros/spark_incremental.sql -#}
{{ config(**tradlyte_incremental_config()) }}

{#- Typed, deduplicated daily bars, raw (unadjusted) prices. Incremental on dlt's load id:
    every row of a load newer than the newest one already here is reprocessed, whatever its
    date, so late and corrected rows are never missed. The latest load wins; ties break on
    ingestion time, then dlt's row id, so the choice is deterministic. -#}

{%- set newer_loads = "_dlt_load_id > (select coalesce(max(load_id), '') from " ~ this ~ ")"
    if is_incremental() else none %}

with

ranked as (

    {{ tradlyte_macros.latest_version(
        source('raw_polygon', 'daily_aggs'), ['ticker', 'session_date'], where=newer_loads
    ) }}

),

final as (

    select
        cast(ticker as {{ tradlyte_macros.string_type() }}) as ticker,
        cast(session_date as date) as session_date,
        {{ tradlyte_macros.ny_midnight('session_date') }} as bar_start_at,
        cast(open as {{ tradlyte_macros.double_type() }}) as open,
        cast(high as {{ tradlyte_macros.double_type() }}) as high,
        cast(low as {{ tradlyte_macros.double_type() }}) as low,
        cast(close as {{ tradlyte_macros.double_type() }}) as close,
        cast(volume as {{ tradlyte_macros.double_type() }}) as volume,
        cast(vwap as {{ tradlyte_macros.double_type() }}) as vwap,
        cast(transactions as bigint) as transactions,
        cast(source as {{ tradlyte_macros.string_type() }}) as load_source,
        ingested_at,
        cast(_dlt_load_id as {{ tradlyte_macros.string_type() }}) as load_id
    from ranked
    where
        -- a row that breaks the OHLC envelope never reaches silver (the loader
        -- quarantines them; this guards flat files and hand-loaded data too)
        high >= greatest(open, close, low)
        and low <= least(open, close, high)
        and low > 0
        and volume >= 0

)

select * from final
