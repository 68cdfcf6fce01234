{#- PostgreSQL only: no nested-loop joins for the rest of the model's transaction.

    gold.ml_features chains window passes and self-joins whose row counts PostgreSQL cannot
    estimate (it guesses 1-65 rows for CTEs of thousands); on an incremental run it then picks
    nested loops that re-run a whole window pass per outer row (measured: 174 s for one
    incremental run of the test universe, 2.4 s with hash joins). `set local` ends with the
    model's transaction; other engines get no statement. -#}
{% macro postgres_no_nested_loops() %}
    {%- if target.type == 'postgres' -%}
        set local enable_nestloop = off
    {%- endif -%}
{% endmacro %}
