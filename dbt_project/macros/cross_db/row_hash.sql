{#- A 64-bit hash of some columns' values, NULL told apart from any text, for fingerprints that
    are summed per day: equal sums mean (all but certainly) equal rows. -#}
{% macro row_hash(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('row_hash', 'marketprep')(parts | join(" || '|' || "))) }}
{%- endmacro %}

{% macro default__row_hash(text_expr) -%}
    cast(hash({{ text_expr }}) as hugeint)
{%- endmacro %}

{% macro postgres__row_hash(text_expr) -%}
    cast(hashtextextended({{ text_expr }}, 0) as numeric)
{%- endmacro %}
