{#- Rolling-window helpers for gold.ml_features (Qlib Alpha158-style features), cross-engine.

    Windows are rows of one security's daily series (sessions it traded), ordered by `rn`.
    Order statistics (rank of the current value, quantiles, index of the max/min) need the
    window's values themselves: each row carries the list of the last `max_window` values
    (`rolling_list`), and the smaller windows are its tail (`list_tail`). Exact on both engines:
    DuckDB uses list functions (`list_aggregate(..., 'quantile_cont', q)`); PostgreSQL (no
    windowed percentile_cont) unnests the array in a scalar subquery and runs the ordered-set
    aggregate `percentile_cont` on it; Spark (no exact windowed percentile: `percentile_approx`
    is approximate) sorts the array (`array_sort`) and interpolates between the two order
    statistics around (n - 1) q itself; all interpolate like pandas' `quantile` (linear). -#}

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
{#- Spark: collect_list over the rows frame keeps the frame's order (the window's `order by`),
    oldest first; it skips NULLs, which the series' prices never are -#}
{% macro spark__rolling_list(expr, size, partition_by, order_by) -%}
    collect_list({{ expr }}) {{ tradlyte_macros.rolling_frame(size, partition_by, order_by) }}
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
{#- Spark: slice(list, start, length); a negative start past the head would give an empty list -#}
{% macro spark__list_tail(list_expr, size) -%}
    slice({{ list_expr }}, greatest(size({{ list_expr }}) - {{ size - 1 }}, 1), {{ size }})
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
{% macro spark__list_count_at_most(list_expr, value) -%}
    size(filter({{ list_expr }}, v -> v <= {{ value }}))
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
{% macro spark__list_argmax(list_expr) -%}
    array_position({{ list_expr }}, array_max({{ list_expr }}))
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
{% macro spark__list_argmin(list_expr) -%}
    array_position({{ list_expr }}, array_min({{ list_expr }}))
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
{#- Spark: the sorted list s (1-based) and h = (n - 1) q give s[floor(h) + 1] + (h - floor(h))
    (s[floor(h) + 2] - s[floor(h) + 1]), as DuckDB's quantile_cont computes it; the upper index
    is capped at n (h whole: the lower element itself). NULL for an empty list. -#}
{% macro spark__list_quantile(list_expr, q) -%}
    {%- set sorted = 'array_sort(' ~ list_expr ~ ')' -%}
    {%- set h = '((size(' ~ list_expr ~ ') - 1) * ' ~ q ~ ')' -%}
    {%- set lower = '(cast(floor(' ~ h ~ ') as int) + 1)' -%}
    case
        when size({{ list_expr }}) > 0
            then element_at({{ sorted }}, {{ lower }}) + ({{ h }} - floor({{ h }}))
            * (element_at({{ sorted }}, least({{ lower }} + 1, size({{ list_expr }}))) - element_at({{ sorted }}, {{ lower }}))
    end
{%- endmacro %}

{# Pearson correlation over the last `size` rows; NULL (never NaN) when either side is constant.
   PostgreSQL's and Spark's (3.x, spark.sql.legacy.statisticalAggregate off) corr already
   return NULL then; DuckDB's returns NaN, mapped to NULL. #}
{% macro rolling_corr(x, y, size, partition_by='ticker, security_key', order_by='rn') -%}
    {{ return(adapter.dispatch('rolling_corr', 'tradlyte_macros')(x, y, size, partition_by, order_by)) }}
{%- endmacro %}
{% macro default__rolling_corr(x, y, size, partition_by, order_by) -%}
    corr({{ x }}, {{ y }}) {{ tradlyte_macros.rolling_frame(size, partition_by, order_by) }}
{%- endmacro %}
{% macro duckdb__rolling_corr(x, y, size, partition_by, order_by) -%}
    nullif(corr({{ x }}, {{ y }}) {{ tradlyte_macros.rolling_frame(size, partition_by, order_by) }}, cast('nan' as double))
{%- endmacro %}

{# 1.0 where `condition` holds, else 0.0 (an up / down day), to average into a share. Spark
   types the literal 1.0 as decimal(2,1), and its avg of a decimal keeps only 4 more decimal
   places (1/30 would come out 0.03333), so the Spark literals are doubles. #}
{% macro indicator(condition) -%}
    {{ return(adapter.dispatch('indicator', 'tradlyte_macros')(condition)) }}
{%- endmacro %}
{% macro default__indicator(condition) -%}
    case when {{ condition }} then 1.0 else 0.0 end
{%- endmacro %}
{% macro spark__indicator(condition) -%}
    case when {{ condition }} then 1.0d else 0.0d end
{%- endmacro %}
