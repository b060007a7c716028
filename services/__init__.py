"""The dashboard's backend (ARCHITECTURE §2): warehouse, SQL, KPI math, pipeline control, users.

Nothing in this package imports Streamlit; pages call these functions and render the results.
"""
