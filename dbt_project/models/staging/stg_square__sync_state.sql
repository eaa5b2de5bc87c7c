with

source as (

    select * from {{ source('raw', 'square_sync_state') }}

),

renamed as (

    select

        ---------- ids
        vendor_id,

        ---------- text
        stream,
        status,
        error_code,
        mode as sync_mode,

        ---------- numerics
        rows_loaded,
        quarantined,
        lines_excluded,

        ---------- booleans
        status = 'failed' as is_failing,

        ---------- timestamps
        last_attempt_at,
        -- the vendor's rows of this stream are as fresh as this, whatever the last attempt did
        last_success_at as data_as_of,
        watermark

    from source

)

select * from renamed
