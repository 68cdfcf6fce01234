{#- Incremental scope shared by the silver bar models (silver_daily_bars, silver_minute_bars).

    `silver_watermark_ctes()` emits two CTEs read from the model's own table:
      watermarks        the first session of the look-back window and the newest load id seen
      restated_tickers  tickers whose corporate-action fingerprint (CTE `fingerprints`) differs
                        from the one their rows were adjusted with
    `in_silver_scope()` is the predicate: a row is reprocessed when it is inside the look-back,
    comes from a newer load, or belongs to a restated ticker. -#}
{% macro silver_watermark_ctes() -%}
watermarks as (

    select
        -- an empty table (first run after a full refresh with no rows) takes everything
        coalesce(max(session_index) - {{ var('lookback_sessions') }}, -1) as first_session_index,
        coalesce(max(source_load_id), '') as newest_load_id
    from {{ this }}

),

restated_tickers as (

    select stored.ticker
    from (
        select
            ticker,
            max(adjustment_fingerprint) as adjustment_fingerprint
        from {{ this }}
        group by ticker
    ) as stored
    left join fingerprints as current_fp on stored.ticker = current_fp.ticker
    where coalesce(current_fp.adjustment_fingerprint, 'none') <> stored.adjustment_fingerprint

),
{%- endmacro %}

{% macro in_silver_scope(session_index, load_id, ticker) -%}
    (
        {{ session_index }} >= (select first_session_index from watermarks)
        or {{ load_id }} > (select newest_load_id from watermarks)
        or {{ ticker }} in (select ticker from restated_tickers)
    )
{%- endmacro %}
