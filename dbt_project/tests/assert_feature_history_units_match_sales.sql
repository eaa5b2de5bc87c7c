{#- An asset check of the feature table (it reads three models: dagster-dbt needs to be told
    which one it checks, or it only logs an observation). -#}
{{ config(meta={'dagster': {'ref': {'name': 'feature_product_market_day'}}}) }}
-- A failing row is a vendor × market × product × day inside a history series of
-- feature_product_market_day whose units_sold differs from fct_product_sales, or from what the
-- vendor reported selling where it did (feedback wins; a missing row reads as -1, a day without
-- sales must read 0): the zero-filling joins lost, invented or duplicated sales, and the
-- forecast would train on wrong actuals. The 1e-6 tolerance only
-- absorbs floating-point rounding; units are exact decimals otherwise.
with

features as (

    select * from {{ ref('feature_product_market_day') }}
    where not is_future

),

sales as (

    select * from {{ ref('fct_product_sales') }}

),

feedback as (

    select * from {{ ref('stg_app__vendor_feedback') }}
    where units_sold is not null

),

series_spans as (

    select
        vendor_id,
        market_id,
        product_id,
        min(market_date) as first_date,
        max(market_date) as last_date

    from features

    group by vendor_id, market_id, product_id

),

sales_in_spans as (

    select sales.*

    from sales

    inner join series_spans
        on sales.vendor_id = series_spans.vendor_id
        and sales.market_id = series_spans.market_id
        and sales.product_id = series_spans.product_id

    where sales.market_date between series_spans.first_date and series_spans.last_date

),

compared as (

    select
        coalesce(features.vendor_id, sales_in_spans.vendor_id) as vendor_id,
        coalesce(features.market_id, sales_in_spans.market_id) as market_id,
        coalesce(features.product_id, sales_in_spans.product_id) as product_id,
        coalesce(features.market_date, sales_in_spans.market_date) as market_date,
        coalesce(features.units_sold, -1) as feature_units,
        coalesce(feedback.units_sold, sales_in_spans.units_sold, 0) as sold_units

    from features

    full outer join sales_in_spans
        on features.vendor_id = sales_in_spans.vendor_id
        and features.market_id = sales_in_spans.market_id
        and features.product_id = sales_in_spans.product_id
        and features.market_date = sales_in_spans.market_date

    left join feedback
        on coalesce(features.vendor_id, sales_in_spans.vendor_id) = feedback.vendor_id
        and coalesce(features.market_id, sales_in_spans.market_id) = feedback.market_id
        and coalesce(features.product_id, sales_in_spans.product_id) = feedback.product_id
        and coalesce(features.market_date, sales_in_spans.market_date) = feedback.market_date

)

select * from compared
where abs(feature_units - sold_units) > 1e-6
