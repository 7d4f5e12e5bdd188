"""The database layer, one idea per module.

- `base`: the declarative base, the naming convention and the UTC instant column type.
- `engine`: creating engines (SQLite and PostgreSQL settings) and `Database`, the
  process's engine with its session factories and its hot-path `connect()`.
- `sessions`: the request's session dependencies (one transaction per request).
- `statements`: the fast statement layer: `Query`, built once, run on a `Conn`.
- `checkout`: PostgreSQL's pooled driver connections for that layer, handed out in order.
- `locks`: advisory locks (PostgreSQL) that serialise what must not interleave.

Import from the module that holds a name, e.g. `from app.db.base import Base`.
"""
