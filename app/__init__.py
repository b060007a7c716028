"""The dashboard's Streamlit glue: login, cached data access, filters, charts.

`Home.py` is the entry point (it runs `router.main` in each session and loads the data when the
server starts), `router.py` the login and page router, and `app_pages/` holds one thin file
per page; they call this package, which calls `services` (the backend, which imports no
Streamlit). No SQL lives here.
"""
