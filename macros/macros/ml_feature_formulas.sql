{#- The formulas of gold.ml_features (Qlib Alpha158-style), one definition each: the model
    computes most of them once per row and the cross-sectional inputs again in a narrow pass of
    their own, from the same macros. Columns are those of the model's `moves` CTE (window
    stats: ticker, security_key, rn, OHLCV and the day-over-day moves) and of its window stats
    (window features: <stat>_<d>, and the order statistics close_q80_<d>, close_q20_<d>,
    close_rank_count_<d>, high_argmax_<d>, low_argmin_<d>). -#}

{#- The names each formula macro knows, in the mart's column order. -#}
{% macro ml_window_stats() -%}
    {{ return([
        'close_lag', 'close_mean', 'close_std', 'close_slope', 'high_max', 'low_min', 'close_volume_corr',
        'change_corr', 'up_share', 'down_share', 'gain_sum', 'loss_sum', 'volume_mean', 'volume_std',
        'return_volume_mean', 'return_volume_std', 'volume_gain_sum', 'volume_loss_sum']) }}
{%- endmacro %}

{% macro ml_window_features() -%}
    {{ return([
        'roc', 'ma', 'std', 'beta', 'rsqr', 'resi', 'max', 'min', 'qtlu', 'qtld', 'rank', 'rsv', 'imax', 'imin',
        'imxd', 'corr', 'cord', 'cntp', 'cntn', 'cntd', 'sump', 'sumn', 'sumd', 'vma', 'vstd', 'wvma', 'vsump',
        'vsumn', 'vsumd']) }}
{%- endmacro %}

{% macro ml_row_features() -%}
    {{ return(['kmid', 'klen', 'kmid2', 'kup', 'kup2', 'klow', 'klow2', 'ksft', 'ksft2', 'open0', 'high0', 'low0',
               'vwap0']) }}
{%- endmacro %}

{#- The CTE `name`: every column of `relation` (a security's daily rows: ticker, security_key, rn,
    OHLCV) plus the day-over-day moves the window stats read. -#}
{% macro ml_moves_cte(name, relation) -%}
{{ name }} as (

    select
        *,
        close - previous_close as close_move,
        volume - previous_volume as volume_move,
        -- ln(volume), not Qlib's ln(volume + 1): a split rescales volume, and only a pure log
        -- moves by a constant then, which leaves the correlation unchanged
        ln(nullif(volume, 0)) as log_volume,
        close / previous_close as close_ratio,
        ln(volume / nullif(previous_volume, 0) + 1) as log_volume_ratio,
        abs(close / previous_close - 1) * volume as return_volume,
        {{ tradlyte_macros.indicator('close > previous_close') }} as is_up,
        {{ tradlyte_macros.indicator('close < previous_close') }} as is_down
    from (
        select
            *,
            lag(close) over (partition by ticker, security_key order by rn) as previous_close,
            lag(volume) over (partition by ticker, security_key order by rn) as previous_volume
        from {{ relation }}
    ) as with_previous

)
{%- endmacro %}

{#- Added to a denominator that can be zero (Qlib's 1e-12). -#}
{% macro ml_epsilon() -%}
    1e-12
{%- endmacro %}

{#- Features of the last d day-over-day changes: known from row d (the others from row d - 1). -#}
{% macro ml_change_features() -%}
    {{ return(['roc', 'cord', 'cntp', 'cntn', 'cntd', 'sump', 'sumn', 'sumd', 'wvma', 'vsump', 'vsumn', 'vsumd']) }}
{%- endmacro %}

{#- One rolling aggregate over the last d rows of a security's series (`moves` columns). -#}
{% macro ml_window_stat(stat, d) -%}
    {%- set w = tradlyte_macros.rolling_frame(d) -%}
    {%- if stat == 'close_lag' -%} lag(close, {{ d }}) over (partition by ticker, security_key order by rn)
    {%- elif stat == 'close_mean' -%} avg(close) {{ w }}
    {%- elif stat == 'close_std' -%} stddev_samp(close) {{ w }}
    {%- elif stat == 'close_slope' -%} regr_slope(close, rn) {{ w }}
    {%- elif stat == 'high_max' -%} max(high) {{ w }}
    {%- elif stat == 'low_min' -%} min(low) {{ w }}
    {%- elif stat == 'close_volume_corr' -%} {{ tradlyte_macros.rolling_corr('close', 'log_volume', d) }}
    {%- elif stat == 'change_corr' -%} {{ tradlyte_macros.rolling_corr('close_ratio', 'log_volume_ratio', d) }}
    {%- elif stat == 'up_share' -%} avg(is_up) {{ w }}
    {%- elif stat == 'down_share' -%} avg(is_down) {{ w }}
    {%- elif stat == 'gain_sum' -%} sum(greatest(close_move, 0)) {{ w }}
    {%- elif stat == 'loss_sum' -%} sum(greatest(-close_move, 0)) {{ w }}
    {%- elif stat == 'volume_mean' -%} avg(volume) {{ w }}
    {%- elif stat == 'volume_std' -%} stddev_samp(volume) {{ w }}
    {%- elif stat == 'return_volume_mean' -%} avg(return_volume) {{ w }}
    {%- elif stat == 'return_volume_std' -%} stddev_samp(return_volume) {{ w }}
    {%- elif stat == 'volume_gain_sum' -%} sum(greatest(volume_move, 0)) {{ w }}
    {%- elif stat == 'volume_loss_sum' -%} sum(greatest(-volume_move, 0)) {{ w }}
    {%- else -%} {{ exceptions.raise_compiler_error('ml_features: no window stat ' ~ stat) }}
    {%- endif -%}
{%- endmacro %}

{#- One window feature of the last d rows, from the stats of `rolling_stats` / `ordered`; NULL
    until the series has the rows it needs (d, or d + 1 for a change feature). -#}
{% macro ml_window_feature(feature, d) -%}
    {%- set eps = tradlyte_macros.ml_epsilon() -%}
    {%- set double = tradlyte_macros.double_type() -%}
    {%- set sum_of_moves = 'gain_sum_' ~ d ~ ' + loss_sum_' ~ d ~ ' + ' ~ eps -%}
    {%- set sum_of_volume_moves = 'volume_gain_sum_' ~ d ~ ' + volume_loss_sum_' ~ d ~ ' + ' ~ eps -%}
    case when rn >= {{ d if feature in tradlyte_macros.ml_change_features() else d - 1 }} then
    {%- if feature == 'roc' %} close_lag_{{ d }} / close
    {%- elif feature == 'ma' %} close_mean_{{ d }} / close
    {%- elif feature == 'std' %} close_std_{{ d }} / close
    {%- elif feature == 'beta' %} close_slope_{{ d }} / close
    {#- R-squared from the slope: slope^2 var(x) / var(y), x = consecutive row numbers #}
    {%- elif feature == 'rsqr' %} case when close_std_{{ d }} = 0 then 1.0 else
        close_slope_{{ d }} * close_slope_{{ d }} * {{ d * (d + 1) / 12 }} / (close_std_{{ d }} * close_std_{{ d }}) end
    {%- elif feature == 'resi' %} (close - close_mean_{{ d }} - close_slope_{{ d }} * {{ (d - 1) / 2 }}) / close
    {%- elif feature == 'max' %} high_max_{{ d }} / close
    {%- elif feature == 'min' %} low_min_{{ d }} / close
    {%- elif feature == 'qtlu' %} close_q80_{{ d }} / close
    {%- elif feature == 'qtld' %} close_q20_{{ d }} / close
    {%- elif feature == 'rank' %} cast(close_rank_count_{{ d }} as {{ double }}) / {{ d }}
    {%- elif feature == 'rsv' %} (close - low_min_{{ d }}) / (high_max_{{ d }} - low_min_{{ d }} + {{ eps }})
    {%- elif feature == 'imax' %} cast(high_argmax_{{ d }} as {{ double }}) / {{ d }}
    {%- elif feature == 'imin' %} cast(low_argmin_{{ d }} as {{ double }}) / {{ d }}
    {%- elif feature == 'imxd' %} cast(high_argmax_{{ d }} - low_argmin_{{ d }} as {{ double }}) / {{ d }}
    {%- elif feature == 'corr' %} close_volume_corr_{{ d }}
    {%- elif feature == 'cord' %} change_corr_{{ d }}
    {%- elif feature == 'cntp' %} up_share_{{ d }}
    {%- elif feature == 'cntn' %} down_share_{{ d }}
    {%- elif feature == 'cntd' %} up_share_{{ d }} - down_share_{{ d }}
    {%- elif feature == 'sump' %} gain_sum_{{ d }} / ({{ sum_of_moves }})
    {%- elif feature == 'sumn' %} loss_sum_{{ d }} / ({{ sum_of_moves }})
    {%- elif feature == 'sumd' %} (gain_sum_{{ d }} - loss_sum_{{ d }}) / ({{ sum_of_moves }})
    {%- elif feature == 'vma' %} volume_mean_{{ d }} / (volume + {{ eps }})
    {%- elif feature == 'vstd' %} volume_std_{{ d }} / (volume + {{ eps }})
    {%- elif feature == 'wvma' %} return_volume_std_{{ d }} / (return_volume_mean_{{ d }} + {{ eps }})
    {%- elif feature == 'vsump' %} volume_gain_sum_{{ d }} / ({{ sum_of_volume_moves }})
    {%- elif feature == 'vsumn' %} volume_loss_sum_{{ d }} / ({{ sum_of_volume_moves }})
    {%- elif feature == 'vsumd' %} (volume_gain_sum_{{ d }} - volume_loss_sum_{{ d }}) / ({{ sum_of_volume_moves }})
    {%- else %} {{ exceptions.raise_compiler_error('ml_features: no window feature ' ~ feature) }}
    {%- endif %} end
{%- endmacro %}

{#- One feature of the row's own bar: candle shape (Qlib KBAR) and prices over close. -#}
{% macro ml_row_feature(feature) -%}
    {%- set eps = tradlyte_macros.ml_epsilon() -%}
    {%- set bar_range = '(high - low + ' ~ eps ~ ')' -%}
    {%- if feature == 'kmid' -%} (close - open) / open
    {%- elif feature == 'klen' -%} (high - low) / open
    {%- elif feature == 'kmid2' -%} (close - open) / {{ bar_range }}
    {%- elif feature == 'kup' -%} (high - greatest(open, close)) / open
    {%- elif feature == 'kup2' -%} (high - greatest(open, close)) / {{ bar_range }}
    {%- elif feature == 'klow' -%} (least(open, close) - low) / open
    {%- elif feature == 'klow2' -%} (least(open, close) - low) / {{ bar_range }}
    {%- elif feature == 'ksft' -%} (2 * close - high - low) / open
    {%- elif feature == 'ksft2' -%} (2 * close - high - low) / {{ bar_range }}
    {%- elif feature == 'open0' -%} open / close
    {%- elif feature == 'high0' -%} high / close
    {%- elif feature == 'low0' -%} low / close
    {%- elif feature == 'vwap0' -%} vwap / close
    {%- else -%} {{ exceptions.raise_compiler_error('ml_features: no row feature ' ~ feature) }}
    {%- endif -%}
{%- endmacro %}
