{#- Cash dividends, one row per dividend id, amounts as declared (not split-adjusted). -#}

with

ranked as (

    {{ tradlyte_macros.latest_version(source('raw_polygon', 'dividends'), ['id']) }}

),

final as (

    select
        cast(id as {{ tradlyte_macros.string_type() }}) as dividend_id,
        cast(ticker as {{ tradlyte_macros.string_type() }}) as ticker,
        cast(ex_dividend_date as date) as ex_dividend_date,
        cast(pay_date as date) as pay_date,
        cast(record_date as date) as record_date,
        cast(declaration_date as date) as declaration_date,
        cast(cash_amount as {{ tradlyte_macros.double_type() }}) as cash_amount,
        cast(currency as {{ tradlyte_macros.string_type() }}) as currency,
        cast(dividend_type as {{ tradlyte_macros.string_type() }}) as dividend_type,
        cast(frequency as bigint) as frequency,
        ingested_at
    from ranked
    where cash_amount > 0 and ex_dividend_date is not null

)

select * from final
