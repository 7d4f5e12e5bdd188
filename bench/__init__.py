"""Load benchmark for the booking engine (`make bench`, `python -m bench`); see bench/README.md.

Load mode (default): make a scratch database (SQLite file or the PostgreSQL database
`restaurant_bench`), migrate it, open the restaurant 24 hours a day for two years, add
users and some bookings, start ONE server (`python -m app.cli serve`) on a free port of
127.0.0.1, then drive it from here with a small keep-alive HTTP/1.1 client (one
connection per concurrent worker) and print requests, successes, requests/s and
p50/p95/p99 latency per scenario, plus a markdown table. The server is stopped by its PID
and the scratch database dropped at the end, whatever happens.

Explain mode (`--explain`, PostgreSQL only): seed 1,000 and 1,000,000 bookings with
generate_series, ANALYZE, then EXPLAIN (ANALYZE, BUFFERS) the exact SQL that
app.bookings.availability issues for one slot (captured from the real functions), so the
plans and buffer counts of the two sizes can be compared.

Modules, from the bottom up: common (project root, host, log), machine (CPU readings,
PgWatch), database (scratch database, migrate), fixture (the load's data), client (the
HTTP client), server (the server under test), scenarios, results, load (the load loop),
outbox (the e-mail backlog), pyspy (profiling), loadtest (load mode), explain/ (explain
mode), cli (the options and main).
"""
