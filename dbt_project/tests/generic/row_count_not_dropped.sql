{#- Fails when the latest build of `counted` has fewer than (1 - max_drop) times the rows of the
    build before it: a load that stopped delivering or a join that lost rows, caught before the
    forecast reads the table. The counts come from <model>__row_counts, which the model's
    post-hook (written by data_contracts.dbt with this test) fills after every build; a first
    build has nothing to compare with and passes.

    `counted` is the model itself (ref('<model>')): the test's `model` may be a filtered
    subquery (a `where` config, or an incremental run's rebuilt days), and this test counts the
    whole table. -#}
{% test row_count_not_dropped(model, counted, max_drop) %}

with

builds as (

    select
        row_count,
        row_number() over (order by built_at desc) as recency

    from {{ counted.schema }}.{{ counted.identifier }}__row_counts

),

latest as (

    select row_count from builds
    where recency = 1

),

previous as (

    select row_count from builds
    where recency = 2

)

select
    latest.row_count as rows_now,
    previous.row_count as rows_before

from latest

cross join previous

where latest.row_count < (1 - {{ max_drop }}) * previous.row_count

{% endtest %}
