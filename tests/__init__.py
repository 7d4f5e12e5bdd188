"""The test suite mirrors app/: the tests of app/x/y.py are in tests/x/test_y.py (or a
clearly named file beside it), and app/'s platform modules (db/, routing, config, health,
observability, ratelimit, housekeeping, money, main, cli) are tested in tests/platform/.

- tests/conftest.py: the databases (SQLite and PostgreSQL), the app and its client, users
  (`make_user`, `guest`, `staff`, `admin`).
- tests/factories.py: shared set-up made through the API (settings, bookings, menu
  items, orders, tables, kitchen tickets).
- tests/servers.py: a real uvicorn server and a Server-Sent Events reader.
"""
