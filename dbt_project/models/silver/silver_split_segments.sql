{#- Split-adjustment factors as date ranges per ticker: a session in
    [valid_from, valid_to) has raw prices that must be multiplied by `split_factor`
    (1 / product of the ratios of every later split) to be comparable with today's.
    Sessions on or after the last split need no row: their factor is 1. Ratios are
    combined through sums of logarithms, exact to about 1e-15 relative. -#}

with

splits as (

    select * from {{ ref('bronze_splits') }}

),

per_day as (

    select
        ticker,
        execution_date,
        sum(ln(split_ratio)) as log_ratio
    from splits
    group by ticker, execution_date

),

cumulative as (

    select
        ticker,
        execution_date as valid_to,
        lag(execution_date) over (
            partition by ticker order by execution_date
        ) as previous_split_date,
        sum(log_ratio) over (
            partition by ticker
            order by execution_date desc
            rows between unbounded preceding and current row
        ) as log_ratio_this_and_later
    from per_day

),

final as (

    select
        ticker,
        coalesce(previous_split_date, cast('0001-01-01' as date)) as valid_from,
        valid_to,
        exp(-log_ratio_this_and_later) as split_factor
    from cumulative

)

select * from final
