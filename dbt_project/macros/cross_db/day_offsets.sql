{#- A table expression of integer day offsets 0 .. last_offset (inclusive), to expand date ranges
    into days: `cross join lateral {{ marketprep.day_offsets('n') }} as offsets (day_offset)`. -#}
{% macro day_offsets(last_offset_expr) -%}
    {{ return(adapter.dispatch('day_offsets', 'marketprep')(last_offset_expr)) }}
{%- endmacro %}

{% macro default__day_offsets(last_offset_expr) -%}
    generate_series(0, cast({{ last_offset_expr }} as integer))
{%- endmacro %}
