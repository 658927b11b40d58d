#!/usr/bin/env bash
# Builds the bench runner (cmd/adsync-bench) and runs it against bin/adsync.
# Used by `make bench`; settings come from the environment:
#   BENCH_N=10000,100000   sizes to measure (default 10000,100000)
#   BENCH_LARGE=1          also 1,000,000 users
#   BENCH_DELTA=0          leave out the Samba AD delta figures (their fixture takes minutes to create)
#   BENCH_KEEP_SAMBA=1     keep the Samba AD DC and the bench's OU for the next bench (default: removed)
#   BENCH_PROFILE=DIR      --cpuprofile/--memprofile for each `adsync serve`, if it has them
#   BENCH_ONE_PROCESS=1    adsync as one `adsync run` (embedded NATS), the default users start
#   BENCH_GROUPS=K         each slapd user in K of 100 groups (default none)
#   BENCH_NAMES=shuffled   slapd users in no order of name, as AD hands them out (default ordered)
#   BENCH_FLAGS="..."      more flags of the runner (see bin/adsync-bench -h), e.g. -keep -out FILE
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
if [ ! -x bin/adsync ]; then
  "$GO" build -o bin/adsync .
fi
"$GO" build -o bin/adsync-bench ./cmd/adsync-bench
# shellcheck disable=SC2086 # BENCH_FLAGS is a list of flags
exec bin/adsync-bench -adsync bin/adsync ${BENCH_FLAGS:-} "$@"
