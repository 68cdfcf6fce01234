{#- The rows an incremental run of a per-security ML mart (gold.ml_features, gold.ml_labels)
    recomputes, as CTEs for the model's `with`: `target_start` (the first session index to
    rebuild: `lookback_sessions` before the newest one already built) and `inputs` (every
    security's rows from there on, plus the `history_rows` rows before them that the mart's
    windows read). Row numbers come from the whole series (ml_security_sessions), so an
    incremental run sees the same rows as a full build, which takes every row. -#}

{% macro ml_security_inputs(series, history_rows) -%}
    {%- if is_incremental() %}
target_start as (

    select coalesce(max(session_index) - {{ var('lookback_sessions') }}, -1) as first_session_index
    from {{ this }}

),

scope as (

    select
        ticker,
        security_key,
        min(rn) - {{ history_rows }} as from_rn
    from {{ series }}
    where session_index >= (select first_session_index from target_start)
    group by ticker, security_key

),
    {% endif %}
inputs as (

    select {{ series }}.*
    from {{ series }}
    {%- if is_incremental() %}
        inner join scope on {{ series }}.ticker = scope.ticker and {{ series }}.security_key = scope.security_key
        where {{ series }}.rn >= scope.from_rn
    {%- endif %}

)
{%- endmacro %}
