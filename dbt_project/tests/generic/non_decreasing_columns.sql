{#- Fails on every row where a column is greater than the next one in `columns` (e.g. a first
    sale after the last); a pair with a null passes. -#}
{% test non_decreasing_columns(model, columns) %}

select *
from {{ model }}
where
    {%- for low, high in zip(columns[:-1], columns[1:]) %}
    {% if not loop.first %}or {% endif %}{{ low }} > {{ high }}
    {%- endfor %}

{% endtest %}
