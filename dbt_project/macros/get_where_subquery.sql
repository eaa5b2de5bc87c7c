{#- Which rows a data test reads. dbt's own rule (the test's `where` config) plus one of ours: on
    an incremental run, a test of a model partitioned by day (meta `day_column`: the incremental
    sales models, and the staging views of the raw tables the ingest loads by day) reads only the
    days the run rebuilt (the others were tested when they were built), so a daily run's tests
    cost what its models cost. A full refresh, or a run without a partition window, tests every
    row. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set day_column = marketprep.day_column_of(relation) -%}
    {%- if day_column and not flags.FULL_REFRESH and var('window_end') is not none -%}
        {%- do conditions.append(marketprep.rebuilt_days(day_column)) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The day column (meta `day_column`) of the model built in `relation`, or none. -#}
{% macro day_column_of(relation) -%}
    {%- if execute and relation.identifier is defined -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.alias == relation.identifier
                and node.schema == relation.schema -%}
                {%- do return(node.config.meta.get('day_column')) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do return(none) -%}
{%- endmacro %}
