{#- Incremental gold.signals. A signal depends on its bar, the previous bar and (52-week
    highs and lows) the var high_low_window bars before it, all from gold.indicators. Every
    indicators row computed since this table's newest `updated_at` can change its signals,
    so per series everything from the first such bar on is evaluated again: the stale
    signals there are deleted first (pre-hook), then the model inserts what holds now.
    When the last run emitted no signal the mark is older, and the scope only grows.
    On Spark (Parquet, no DELETE) the same stored rows are left out of the ticker partitions
    the run overwrites instead (config `partition_overwrite_replaced`,
    macros/spark_incremental.sql); the scope there is the one before any delete. -#}

{% macro signals_recomputed_series(signals_relation) -%}
    select
        ticker,
        timeframe,
        min(bar_index) as first_index,
        min(bar_start_at) as first_at
    from {{ ref('indicators') }}
    where updated_at > (
        select coalesce(max(updated_at), cast('1900-01-01 00:00:00+00' as {{ tradlyte_macros.timestamptz_type() }}))
        from {{ signals_relation }}
    )
    group by ticker, timeframe
{%- endmacro %}

{% macro delete_recomputed_signals() -%}
    {%- if is_incremental() and target.type != 'spark' -%}
        delete from {{ this }} as stale
        where exists (
            select 1
            from ({{ signals_recomputed_series(this) }}) as recomputed
            where
                recomputed.ticker = stale.ticker
                and recomputed.timeframe = stale.timeframe
                and stale.bar_start_at >= recomputed.first_at
        )
    {%- endif -%}
{%- endmacro %}
