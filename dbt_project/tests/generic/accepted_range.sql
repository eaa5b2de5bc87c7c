{#- Fails on every row where the column is outside [min_value, max_value] (either bound may be
    left out); nulls pass (not_null is its own test). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}

select *
from {{ model }}
where
    {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% endif -%}
    {%- if min_value is not none and max_value is not none %} or{% endif -%}
    {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% endif %}

{% endtest %}
