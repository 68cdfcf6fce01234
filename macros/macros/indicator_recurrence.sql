{#- Exact first-order linear recurrences, the core of every recursive indicator:

        value[t] = beta * value[t-1] + c[t]      for t > start,   value[start] = seed

    EMA(n):    beta = 1 - 2/(n+1), c = (2/(n+1)) * x, seeded with the SMA of the first n values
    Wilder(n): beta = (n-1)/n,     c = x / n,          seeded with the mean of the first n values
    (TA-Lib's seeding, so results match TA-Lib to rounding.)

    `linear_recurrence_ctes(name, source, partition_by, value_expr, seed_expr, start_rn, beta, weight)`
    emits CTEs ending in one named `name` with columns (partition columns..., rn, value); `source`
    must have `rn` (0-based row number inside the partition) and the columns used by the
    expressions. Rows before `start_rn` get no value.

    DuckDB has no user-defined aggregates in SQL and a row-by-row recursive CTE would join the
    whole table once per bar, so it uses the exact closed form
        value[t] = sum over k in [start, t] of c'[k] * beta^(t-k)   (c'[start] = seed, c'[k] = weight * x[k])
    computed with window sums. beta^-k overflows a double for long series, so rows are cut
    into blocks of B rows (B * |ln beta| <= 600): inside a block the sum is rescaled to the
    block start, and each block's carry-in is the value at the end of the previous blocks,
        E[j] = sum over i <= j of S_end[i] * beta^(B*(j-i))
    (a small self-join of block ends; the exponent is negative, so nothing overflows). This is
    an algebraic rewrite, not a truncated window: every term contributes.

    PostgreSQL runs the recurrence itself, in order, with a custom aggregate
    (`tradlyte_linear_recurrence`, created by the on-run-start hook `create_indicator_functions`)
    used as a running window function: one pass, O(1) state, exactly TA-Lib's arithmetic. -#}

{% macro linear_recurrence_ctes(name, source, partition_by, value_expr, seed_expr, start_rn, beta, weight) -%}
    {{ return(adapter.dispatch('linear_recurrence_ctes', 'tradlyte_macros')(
        name, source, partition_by, value_expr, seed_expr, start_rn, beta, weight)) }}
{%- endmacro %}

{% macro default__linear_recurrence_ctes(name, source, partition_by, value_expr, seed_expr, start_rn, beta, weight) -%}
{{ name }} as (

    select
        {{ partition_by | join(', ') }},
        rn,
        case
            when rn >= {{ start_rn }}
                then tradlyte_linear_recurrence(
                    case
                        when rn = {{ start_rn }} then {{ seed_expr }}
                        when rn > {{ start_rn }} then {{ weight }} * ({{ value_expr }})
                    end,
                    cast({{ beta }} as double precision)
                ) over (
                    partition by {{ partition_by | join(', ') }}
                    order by rn
                    rows between unbounded preceding and current row
                )
        end as value
    from {{ source }}

)
{%- endmacro %}

{% macro duckdb__linear_recurrence_ctes(name, source, partition_by, value_expr, seed_expr, start_rn, beta, weight) -%}
{#- -ln(b) <= (1 - b) / b, so B = 600 b / (1 - b) keeps B * |ln b| <= 600: beta^-B never overflows -#}
{%- set b = (beta | float) -%}
{%- set block = [1, [100000, (600.0 * b / (1.0 - b)) | int] | min] | max -%}
{%- set keys = partition_by | join(', ') -%}
{{ name }}_terms as (

    select
        {{ keys }},
        rn,
        (rn - {{ start_rn }}) // {{ block }} as blk,
        (rn - {{ start_rn }}) % {{ block }} as pos,
        case
            when rn = {{ start_rn }} then {{ seed_expr }}
            else {{ weight }} * ({{ value_expr }})
        end as term
    from {{ source }}
    where rn >= {{ start_rn }}

),

{{ name }}_partial as (

    select
        {{ keys }},
        rn,
        blk,
        pos,
        pow({{ beta }}, pos) * sum(term * pow({{ beta }}, -pos)) over (
            partition by {{ keys }}, blk
            order by rn
            rows between unbounded preceding and current row
        ) as partial_value
    from {{ name }}_terms

),

{{ name }}_block_ends as (

    select
        {{ keys }},
        blk,
        partial_value as block_end_value
    from {{ name }}_partial
    where pos = {{ block - 1 }}

),

{{ name }}_carry as (

    select
        {% for key in partition_by %}later.{{ key }}, {% endfor %}
        later.blk + 1 as next_blk,
        sum(earlier.block_end_value * pow({{ beta }}, {{ block }} * (later.blk - earlier.blk))) as carry_value
    from {{ name }}_block_ends as later
    inner join {{ name }}_block_ends as earlier
        on
            {% for key in partition_by %}earlier.{{ key }} = later.{{ key }} and {% endfor %}
            earlier.blk <= later.blk
    group by {% for key in partition_by %}later.{{ key }}, {% endfor %}later.blk

),

{{ name }} as (

    select
        {% for key in partition_by %}partial.{{ key }}, {% endfor %}
        partial.rn,
        partial.partial_value
        + coalesce(pow({{ beta }}, partial.pos + 1) * carry.carry_value, 0) as value
    from {{ name }}_partial as partial
    left join {{ name }}_carry as carry
        on
            {% for key in partition_by %}carry.{{ key }} = partial.{{ key }} and {% endfor %}
            carry.next_blk = partial.blk

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
