#!/bin/sh
# smpctl under valgrind memcheck, for the integration tests (.ci/test, CI=true): SMPCTL_REAL is the
# binary; a memory error or a definite leak exits 99, which no test expects. Logs go to
# $VALGRIND_LOG_DIR/smpctl.<pid>.log.
exec valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --log-file="${VALGRIND_LOG_DIR:-/tmp}/smpctl.%p.log" "$SMPCTL_REAL" "$@"
