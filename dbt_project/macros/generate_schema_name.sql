{#- Custom schemas are used as-is (`gold`, not `main_gold`): the layer schemas are
    the public interface (`gold.bars`), so they must not depend on the target's
    default schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
