#!/bin/sh
# Apply migrations, then run the given command (gunicorn by default).
set -e
restaurant migrate
exec "$@"
