{#- Exact first-order linear recurrences, the core of every recursive indicator:

        value[origin] = term[origin],   value[t] = beta * value[t-1] + term[t]   for t > origin

    EMA(n):    beta = 1 - 2/(n+1), term = (2/(n+1)) * x, origin term = the SMA of the first n values
    Wilder(n): beta = (n-1)/n,     term = x / n,          origin term = the mean of the first n values
    (TA-Lib's seeding, so results match TA-Lib to rounding.) An incremental run starts the
    same recurrence at a stored row instead: its origin term is the stored average, and the
    new bars continue from it (`recurrence_term` builds both kinds of term).

    `linear_recurrences_cte(name, source, partition_by, recurrences)` emits CTEs ending in one
    named `name`: every column of `source` plus one per recurrence. `recurrences` is a list of
    (column, term_expr, origin_expr, beta); `source` must have `rn` (the row's position in its
    partition) and the columns the expressions use; an origin may differ per partition. Before
    its origin a recurrence is NULL. All recurrences of one call share one pass over the rows.

    DuckDB has no user-defined aggregates in SQL and a row-by-row recursive CTE would join the
    whole table once per bar, so it (and every engine but PostgreSQL) uses the exact closed form
        value[t] = sum over k in [origin, t] of term[k] * beta^(t-k)
    computed with window sums. beta^-k overflows a double for long series, so rows are cut
    into blocks of B rows, B * |ln beta| <= 600 for the smallest beta of the call: inside a
    block the sum is rescaled to the block start, and each block's carry-in is the value at
    the end of the previous blocks,
        E[j] = sum over i <= j of S_end[i] * beta^(B*(j-i))
    (a small self-join of block ends; the exponent is negative, so nothing overflows). This is
    an algebraic rewrite, not a truncated window: every term contributes. The blocks are the
    same for every recurrence of the call, so they share one sort, one self-join and no join
    of the wide rows: that keeps gold.indicators' memory to a few passes over the table.

    Spark uses the same closed form and blocks (one body, default__linear_recurrences_cte):
    exact, with no user-defined aggregate to ship to the cluster.

    PostgreSQL (postgres__linear_recurrences_cte) runs the recurrence itself, in order, with a
    custom aggregate (`tradlyte_linear_recurrence`, created by the on-run-start hook
    `create_indicator_functions`) used as a running window function: one pass, O(1) state,
    exactly TA-Lib's arithmetic. -#}

{#- The term of a recurrence that starts at `start_rn` with TA-Lib's seed `seed_expr`, unless an
    earlier run stored its value on row `anchor_index` (the series' last stored row, at or
    after `start_rn`): then it continues from that stored value `anchor_expr`. -#}
{% macro recurrence_term(x_expr, weight, seed_expr, start_rn, anchor_expr) -%}
    case
        when rn = anchor_index and anchor_index >= {{ start_rn }} then {{ anchor_expr }}
        when rn = {{ start_rn }} and coalesce(anchor_index, -1) < {{ start_rn }} then {{ seed_expr }}
        else {{ weight }} * ({{ x_expr }})
    end
{%- endmacro %}

{% macro recurrence_origin(start_rn) -%}
    case when anchor_index >= {{ start_rn }} then anchor_index else {{ start_rn }} end
{%- endmacro %}

{% macro linear_recurrences_cte(name, source, partition_by, recurrences) -%}
    {{ return(adapter.dispatch('linear_recurrences_cte', 'tradlyte_macros')(
        name, source, partition_by, recurrences)) }}
{%- endmacro %}

{#- DuckDB, Spark and any engine without the PostgreSQL aggregate: the closed form in blocks.
    The engines differ only in integer division (`int_div`) and in whether the helper columns
    can be dropped by name (`star_pruned`: DuckDB's `* exclude`; Spark SQL has no such form, so
    there they stay, prefixed with the CTE's name so two calls in one query never clash, and the
    models select their columns by name afterwards). -#}
{% macro default__linear_recurrences_cte(name, source, partition_by, recurrences) -%}
{#- -ln(b) <= (1 - b) / b, so B = 600 b / (1 - b) keeps B * |ln b| <= 600: beta^-B never overflows -#}
{%- set ns = namespace(block=100000) -%}
{%- for _column, _term, _origin, beta in recurrences -%}
    {%- set b = (beta | float) -%}
    {%- set ns.block = [ns.block, [1, (600.0 * b / (1.0 - b)) | int] | max] | min -%}
{%- endfor -%}
{%- set block = ns.block -%}
{%- set keys = partition_by | join(', ') -%}
{%- set blk = name ~ '_blk' -%}
{%- set pos = name ~ '_pos' -%}
{%- set helper_columns = [blk, pos] -%}
{%- for column, _term, _origin, _beta in recurrences -%}
    {%- do helper_columns.extend([column ~ '_live', column ~ '_term', column ~ '_partial']) -%}
{%- endfor -%}
{{ name }}_terms as (

    select
        *,
        {{ tradlyte_macros.int_div('rn', block) }} as {{ blk }},
        rn % {{ block }} as {{ pos }},
        {% for column, term_expr, origin_expr, _beta in recurrences %}
            rn >= {{ origin_expr }} as {{ column }}_live,
            case when rn >= {{ origin_expr }} then {{ term_expr }} end as {{ column }}_term{{ ',' if not loop.last }}
        {% endfor %}
    from {{ source }}

),

{{ name }}_partial as (

    select
        *,
        {% for column, _term, _origin, beta in recurrences %}
            pow({{ beta }}, {{ pos }}) * sum({{ column }}_term * pow({{ beta }}, -{{ pos }})) over in_block
                as {{ column }}_partial{{ ',' if not loop.last }}
        {% endfor %}
    from {{ name }}_terms
    window in_block as (
        partition by {{ keys }}, {{ blk }}
        order by rn
        rows between unbounded preceding and current row
    )

),

{{ name }}_block_ends as (

    select
        {{ keys }},
        {{ blk }} as blk,
        {% for column, _term, _origin, _beta in recurrences %}
            {{ column }}_partial as {{ column }}_end{{ ',' if not loop.last }}
        {% endfor %}
    from {{ name }}_partial
    where {{ pos }} = {{ block - 1 }}

),

{{ name }}_carry as (

    select
        {% for key in partition_by %}later.{{ key }}, {% endfor %}
        later.blk + 1 as next_blk,
        {% for column, _term, _origin, beta in recurrences %}
            sum(earlier.{{ column }}_end * pow({{ beta }}, {{ block }} * (later.blk - earlier.blk)))
                as {{ column }}_carry{{ ',' if not loop.last }}
        {% endfor %}
    from {{ name }}_block_ends as later
    inner join {{ name }}_block_ends as earlier
        on
            {% for key in partition_by %}earlier.{{ key }} = later.{{ key }} and {% endfor %}
            earlier.blk <= later.blk
    group by {% for key in partition_by %}later.{{ key }}, {% endfor %}later.blk

),

{{ name }} as (

    select
        {{ tradlyte_macros.star_pruned('partial', helper_columns) }},
        {% for column, _term, _origin, beta in recurrences %}
            case
                when partial.{{ column }}_live
                    then coalesce(partial.{{ column }}_partial, 0)
                    + coalesce(pow({{ beta }}, partial.{{ pos }} + 1) * carry.{{ column }}_carry, 0)
            end as {{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    from {{ name }}_partial as partial
    left join {{ name }}_carry as carry
        on
            {% for key in partition_by %}carry.{{ key }} = partial.{{ key }} and {% endfor %}
            carry.next_blk = partial.{{ blk }}

)
{%- endmacro %}

{% macro postgres__linear_recurrences_cte(name, source, partition_by, recurrences) -%}
{{ name }} as (

    select
        *,
        {% for column, term_expr, origin_expr, beta in recurrences %}
            case
                when rn >= {{ origin_expr }}
                    then tradlyte_linear_recurrence(
                        case when rn >= {{ origin_expr }} then {{ term_expr }} end,
                        cast({{ beta }} as double precision)
                    ) over running
            end as {{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    from {{ source }}
    window running as (
        partition by {{ partition_by | join(', ') }}
        order by rn
        rows between unbounded preceding and current row
    )

)
{%- endmacro %}

{#- on-run-start: the PostgreSQL aggregate behind `linear_recurrence_ctes` (no-op elsewhere). -#}
{% macro create_indicator_functions() -%}
    {{ return(adapter.dispatch('create_indicator_functions', 'tradlyte_macros')()) }}
{%- endmacro %}

{% macro default__create_indicator_functions() -%}
    select 1
{%- endmacro %}

{% macro postgres__create_indicator_functions() -%}
    create or replace function tradlyte_linear_recurrence_step(
        state double precision, term double precision, beta double precision
    ) returns double precision
    language sql immutable parallel safe
    as $$
        select case
            when term is null then state
            when state is null then term
            else beta * state + term
        end
    $$;
    create or replace aggregate tradlyte_linear_recurrence(double precision, double precision) (
        sfunc = tradlyte_linear_recurrence_step,
        stype = double precision
    )
{%- endmacro %}

{#- `dbt run-operation install_indicator_functions`: the same, outside a run (for `dbt show`
    and ad-hoc SQL on a database no run has touched yet). -#}
{% macro install_indicator_functions() -%}
    {% do run_query(tradlyte_macros.create_indicator_functions()) %}
{%- endmacro %}
