{#- TA-Lib's lookback of each indicator (its <FUNC>_Lookback, unstable period 0): the index of
    the first bar that has a value, for the periods of the `indicator_periods` shape:

        sma, ema     lists of periods                      sma_<n>, ema_<n>: n - 1
        macd         [fast, slow, signal]                  macd: slow + signal - 2 (TA-Lib takes the longer EMA as slow)
        rsi, atr     one period each                       rsi, atr: n (the first bar has no change)
        bollinger    [period, deviations]                  bollinger: period - 1
        stochastic   [%K look-back, %K slowing, %D]         stochastic: k - 1 + (slowing - 1) + (d - 1)

    `warm` is the largest: from that bar on every indicator of the set has its full look-back. -#}
{% macro ta_lookbacks(periods) -%}
    {%- set fast, slow, signal = periods.macd -%}
    {%- set k, k_slowing, d = periods.stochastic -%}
    {%- set lookbacks = {} -%}
    {%- for n in periods.sma %}{% do lookbacks.update({'sma_' ~ n: n - 1}) %}{% endfor -%}
    {%- for n in periods.ema %}{% do lookbacks.update({'ema_' ~ n: n - 1}) %}{% endfor -%}
    {%- do lookbacks.update({
        'macd': ([fast, slow] | max - 1) + (signal - 1),
        'rsi': periods.rsi,
        'bollinger': periods.bollinger[0] - 1,
        'atr': periods.atr,
        'stochastic': (k - 1) + (k_slowing - 1) + (d - 1),
    }) -%}
    {%- do lookbacks.update({'warm': lookbacks.values() | max}) -%}
    {{ return(lookbacks) }}
{%- endmacro %}
