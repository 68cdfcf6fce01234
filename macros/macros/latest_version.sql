{#- The latest version of each row of a dlt-loaded table: one row per key, chosen by the
    newest dlt load, then the latest ingestion time, then dlt's row id (so the choice is
    deterministic when one load carries the same key twice). `where` filters the source
    first (bronze's incremental load-id watermark). -#}
{% macro latest_version(relation, key_columns, where=none) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _dlt_load_id desc, ingested_at desc, _dlt_id desc
            ) as version_rank
        from {{ relation }}
        {% if where %}where {{ where }}{% endif %}
    ) as versions
    where version_rank = 1
{%- endmacro %}
