with

source as (

    select * from {{ source('raw', 'public_holidays') }}

),

renamed as (

    select

        ---------- ids
        country,

        ---------- text
        holiday_name,

        ---------- dates
        holiday_date,

        ---------- timestamps
        loaded_at

    from source

)

select * from renamed
