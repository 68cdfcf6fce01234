{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'minute_start_at'],
    )
}}
{#- delete+insert, or whole-partition insert_overwrite on Spark: macros/spark_incremental.sql -#}
{{ config(**tradlyte_incremental_config()) }}

{#- Typed, deduplicated minute bars (all hours; silver keeps regular hours). Incremental on
    dlt's load id, latest load wins, like bronze_daily_aggs. -#}

{%- set newer_loads = "_dlt_load_id > (select coalesce(max(load_id), '') from " ~ this ~ ")"
    if is_incremental() else none %}

with

ranked as (

    {{ tradlyte_macros.latest_version(source('raw_polygon', 'minute_aggs'), ['ticker', 'ts_ms'], where=newer_loads) }}

),

final as (

    select
        cast(ticker as {{ tradlyte_macros.string_type() }}) as ticker,
        {{ tradlyte_macros.epoch_ms_to_timestamp('ts_ms') }} as minute_start_at,
        {{ tradlyte_macros.ny_date(tradlyte_macros.epoch_ms_to_timestamp('ts_ms')) }} as session_date,
        cast(open as {{ tradlyte_macros.double_type() }}) as open,
        cast(high as {{ tradlyte_macros.double_type() }}) as high,
        cast(low as {{ tradlyte_macros.double_type() }}) as low,
        cast(close as {{ tradlyte_macros.double_type() }}) as close,
        cast(volume as {{ tradlyte_macros.double_type() }}) as volume,
        cast(vwap as {{ tradlyte_macros.double_type() }}) as vwap,
        cast(transactions as bigint) as transactions,
        ingested_at,
        cast(_dlt_load_id as {{ tradlyte_macros.string_type() }}) as load_id
    from ranked
    where
        high >= greatest(open, close, low)
        and low <= least(open, close, high)
        and low > 0
        and volume >= 0

)

select * from final
