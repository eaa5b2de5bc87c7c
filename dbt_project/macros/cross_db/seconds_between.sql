{#- Seconds from one timestamp to another (negative when the second is earlier), as a double. -#}
{% macro seconds_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('seconds_between', 'marketprep')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__seconds_between(start_expr, end_expr) -%}
    cast(extract(epoch from ({{ end_expr }} - {{ start_expr }})) as double precision)
{%- endmacro %}
