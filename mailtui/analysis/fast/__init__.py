"""The vectorized scan engine (``pip install 'mailtui[fast]'``, Polars): only ``mailtui.cli`` imports it,
and only inside ``scan``'s run, so the dashboard, ``--help`` and the live view never load Polars."""
