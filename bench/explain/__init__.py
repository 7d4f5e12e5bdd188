"""`--explain` (PostgreSQL): the plans of the app's own statements on 1k and 1M bookings.

seed (the data), plans (reading EXPLAIN and auto_explain output), queries (the app's
statements for one slot), mode (the run and its summary table).
"""
