{#- Rolling-window helpers for gold.ml_features (Qlib Alpha158-style features), cross-engine.

    Windows are rows of one security's daily series (sessions it traded), ordered by `rn`.
    Order statistics (rank of the current value, quantiles, index of the max/min) need the
    window's values themselves: each row carries the list of the last `max_window` values
    (`rolling_list`), and the smaller windows are its tail (`list_tail`). Exact on both engines:
    DuckDB uses list functions (`list_aggregate(..., 'quantile_cont', q)`); PostgreSQL (no
    windowed percentile_cont) unnests the array in a scalar subquery and runs the ordered-set
    aggregate `percentile_cont` on it; both interpolate like pandas' `quantile` (linear). -#}

{# The window frame of the last `size` rows of a security's series, current row included. #}
{% macro rolling_frame(size, partition_by='ticker, security_key', order_by='rn') -%}
    over (partition by {{ partition_by }} order by {{ order_by }} rows between {{ size - 1 }} preceding and current row)
{%- endmacro %}

{# The values of `expr` over the last `size` rows, oldest first, as a list / array. #}
{% macro rolling_list(expr, size, partition_by='ticker, security_key', order_by='rn') -%}
    {{ return(adapter.dispatch('rolling_list', 'tradlyte_macros')(expr, size, partition_by, order_by)) }}
{%- endmacro %}
{% macro default__rolling_list(expr, size, partition_by, order_by) -%}
    array_agg({{ expr }}) {{ tradlyte_macros.rolling_frame(size, partition_by, order_by) }}
{%- endmacro %}
{% macro duckdb__rolling_list(expr, size, partition_by, order_by) -%}
    list({{ expr }}) {{ tradlyte_macros.rolling_frame(size, partition_by, order_by) }}
{%- endmacro %}

{# The last `size` elements of a list (all of it when shorter). #}
{% macro list_tail(list_expr, size) -%}
    {{ return(adapter.dispatch('list_tail', 'tradlyte_macros')(list_expr, size)) }}
{%- endmacro %}
{% macro default__list_tail(list_expr, size) -%}
    ({{ list_expr }})[greatest(array_length({{ list_expr }}, 1) - {{ size - 1 }}, 1):array_length({{ list_expr }}, 1)]
{%- endmacro %}
{% macro duckdb__list_tail(list_expr, size) -%}
    list_slice({{ list_expr }}, greatest(len({{ list_expr }}) - {{ size - 1 }}, 1), len({{ list_expr }}))
{%- endmacro %}

{# How many elements of a list are <= `value` (the rank of `value` in it, ties counted as <=). #}
{% macro list_count_at_most(list_expr, value) -%}
    {{ return(adapter.dispatch('list_count_at_most', 'tradlyte_macros')(list_expr, value)) }}
{%- endmacro %}
{% macro default__list_count_at_most(list_expr, value) -%}
    (select count(*) from unnest({{ list_expr }}) as element (v) where element.v <= {{ value }})
{%- endmacro %}
{% macro duckdb__list_count_at_most(list_expr, value) -%}
    len(list_filter({{ list_expr }}, lambda v: v <= {{ value }}))
{%- endmacro %}

{# 1-based position of the first (oldest) largest / smallest element of a list (numpy argmax + 1). #}
{% macro list_argmax(list_expr) -%}
    {{ return(adapter.dispatch('list_argmax', 'tradlyte_macros')(list_expr)) }}
{%- endmacro %}
{% macro default__list_argmax(list_expr) -%}
    array_position({{ list_expr }}, (select max(element.v) from unnest({{ list_expr }}) as element (v)))
{%- endmacro %}
{% macro duckdb__list_argmax(list_expr) -%}
    list_position({{ list_expr }}, list_max({{ list_expr }}))
{%- endmacro %}

{% macro list_argmin(list_expr) -%}
    {{ return(adapter.dispatch('list_argmin', 'tradlyte_macros')(list_expr)) }}
{%- endmacro %}
{% macro default__list_argmin(list_expr) -%}
    array_position({{ list_expr }}, (select min(element.v) from unnest({{ list_expr }}) as element (v)))
{%- endmacro %}
{% macro duckdb__list_argmin(list_expr) -%}
    list_position({{ list_expr }}, list_min({{ list_expr }}))
{%- endmacro %}

{# The q-quantile (linear interpolation, as pandas' `quantile`) of a list's elements. #}
{% macro list_quantile(list_expr, q) -%}
    {{ return(adapter.dispatch('list_quantile', 'tradlyte_macros')(list_expr, q)) }}
{%- endmacro %}
{% macro default__list_quantile(list_expr, q) -%}
    (
        select percentile_cont({{ q }}) within group (order by element.v)
        from unnest({{ list_expr }}) as element (v)
    )
{%- endmacro %}
{% macro duckdb__list_quantile(list_expr, q) -%}
    list_aggregate({{ list_expr }}, 'quantile_cont', {{ q }})
{%- endmacro %}

{# Pearson correlation over the last `size` rows; NULL (never NaN) when either side is constant.
   PostgreSQL's corr already returns NULL then; DuckDB's returns NaN, mapped to NULL. #}
{% macro rolling_corr(x, y, size, partition_by='ticker, security_key', order_by='rn') -%}
    {{ return(adapter.dispatch('rolling_corr', 'tradlyte_macros')(x, y, size, partition_by, order_by)) }}
{%- endmacro %}
{% macro default__rolling_corr(x, y, size, partition_by, order_by) -%}
    corr({{ x }}, {{ y }}) {{ tradlyte_macros.rolling_frame(size, partition_by, order_by) }}
{%- endmacro %}
{% macro duckdb__rolling_corr(x, y, size, partition_by, order_by) -%}
    nullif(corr({{ x }}, {{ y }}) {{ tradlyte_macros.rolling_frame(size, partition_by, order_by) }}, cast('nan' as double))
{%- endmacro %}
