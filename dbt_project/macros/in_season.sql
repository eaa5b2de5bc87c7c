{#- Whether a 'MM-DD' text lies in the season start..end ('MM-DD', inclusive), which may run over
    New Year (start later than end, e.g. 09-15 .. 01-31). A null season means all year. -#}
{% macro in_season(month_day_expr, start_expr, end_expr) -%}
    (
        {{ start_expr }} is null
        or ({{ start_expr }} <= {{ end_expr }} and {{ month_day_expr }} between {{ start_expr }} and {{ end_expr }})
        or ({{ start_expr }} > {{ end_expr }} and ({{ month_day_expr }} >= {{ start_expr }} or {{ month_day_expr }} <= {{ end_expr }}))
    )
{%- endmacro %}
