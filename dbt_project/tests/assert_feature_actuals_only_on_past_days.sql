-- A failing row is a feature_product_market_day row whose is_future flag disagrees with its
-- date or its actuals: a past day (before run_date) flagged future, an upcoming day flagged
-- history, a future row carrying units_sold / orders_count / last_sale_at (leakage into what
-- the forecast must predict), or a history row with unknown units_sold. No threshold: each
-- such row is wrong.
with

features as (

    select * from {{ ref('feature_product_market_day') }}

),

inconsistent as (

    select *

    from features

    where (is_future and market_date < {{ marketprep.run_date() }})
        or (not is_future and market_date >= {{ marketprep.run_date() }})
        or (
            is_future
            and (units_sold is not null or orders_count is not null or last_sale_at is not null)
        )
        or (not is_future and (units_sold is null or orders_count is null))

)

select * from inconsistent
