"""The dashboard's Streamlit glue: login, cached data access, filters, charts.

`Home.py` is the router and `app_pages/` holds one thin file per page; both call this package,
which calls `services` (the backend, which imports no Streamlit). No SQL lives here.
"""
