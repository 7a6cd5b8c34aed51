#!/bin/sh
# engine_crash_milter - engine_crash.sh with postdrip-milter on the smtpd
# the engine injects into: kill -9 at any instant, and each workflow
# message reaches the outside world exactly once.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
CRASH_WITH_MILTER=1
export CRASH_WITH_MILTER
exec sh "$top_srcdir/tests/engine_crash.sh"
