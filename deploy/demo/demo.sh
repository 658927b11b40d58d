#!/usr/bin/env bash
# make demo: a throwaway Samba AD DC on loopback with a few dozen sample
# users, `adsync run` on embedded defaults, an AD Sync Job ("sync all
# domains, requeue if the job fails, every 12 hours, starting immediately"),
# and the synced accounts.
#
#   deploy/demo/demo.sh        run the demo (adsync keeps running)
#   deploy/demo/demo.sh stop   stop the demo's adsync
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"

DEMO=data/demo
ADSYNC=bin/adsync
CONFIG=$DEMO/adsync.yaml
PIDFILE=$DEMO/adsync.pid

stop_adsync() {
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    kill -TERM "$(cat "$PIDFILE")"
    for _ in $(seq 1 100); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
}

if [ "${1:-}" = "stop" ]; then
  stop_adsync
  exit 0
fi

mkdir -p "$DEMO"
stop_adsync

echo "==> Samba AD DC on 127.0.0.1 (provisioned once, about 15 s)"
eval "$(go run ./internal/testenv/fixturectl samba up --format env)"
go run ./internal/testenv/fixturectl samba demo-users --ou Demo >/dev/null
BASE_DN="OU=Demo,${ADSYNC_AD_BASE_DN}"

# The HTTP API's token for the demo's platform (a viewer), and the console
# administrator's password, kept between demos.
for secret in platform.token console.password; do
  if [ ! -s "$DEMO/$secret" ]; then
    (umask 077 && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DEMO/$secret")
  fi
done

cat > "$CONFIG" <<YAML
# Written by deploy/demo/demo.sh: one Active Directory domain, embedded NATS.
data_dir: ./data
nats:
  listen: 127.0.0.1:4222
http:
  listen: 127.0.0.1:8080
  tokens:
    - name: platform
      token_file: ${PWD}/${DEMO}/platform.token
      role: viewer
job_server: true
domains:
  - name: corp
    url: ${ADSYNC_AD_URL}
    ca_file: ${ADSYNC_AD_CA_FILE}
    tls_server_name: ${ADSYNC_AD_TLS_SERVER_NAME}
    bind_dn: ${ADSYNC_AD_BIND_DN}
    bind_password_file: ${ADSYNC_AD_BIND_PASSWORD_FILE}
    base_dn: "${BASE_DN}"
YAML
rm -rf "$DEMO/data"

echo "==> adsync run -c $CONFIG (log: $DEMO/adsync.log)"
"$ADSYNC" run -c "$CONFIG" >"$DEMO/adsync.log" 2>&1 &
echo $! >"$PIDFILE"
for _ in $(seq 1 100); do
  "$ADSYNC" job list -c "$CONFIG" >/dev/null 2>&1 && break
  sleep 0.2
done

echo "==> adsync admin add demo-admin --role admin   (the console's administrator; password from $DEMO/console.password)"
"$ADSYNC" admin add demo-admin --role admin -c "$CONFIG" <"$DEMO/console.password"

echo "==> adsync job create demo --all-domains --requeue --every 12h --run-when immediately"
"$ADSYNC" job create demo -c "$CONFIG" --all-domains --requeue --every 12h --run-when immediately

echo "==> waiting for the scheduled first run (started immediately by tick)"
for _ in $(seq 1 300); do
  if "$ADSYNC" job history demo -c "$CONFIG" --json | grep -q '"outcome":"completed"'; then break; fi
  sleep 0.2
done
"$ADSYNC" job history demo -c "$CONFIG"

echo
echo "==> adsync accounts list"
"$ADSYNC" accounts list -c "$CONFIG"

echo
echo "==> the same accounts through the HTTP API (token of the demo's platform, role viewer)"
echo "    curl -s -H \"Authorization: Bearer \$(cat $DEMO/platform.token)\" 'http://127.0.0.1:8080/api/v1/accounts?limit=3'"
if command -v curl >/dev/null 2>&1; then
  curl -s -H "Authorization: Bearer $(cat "$DEMO/platform.token")" 'http://127.0.0.1:8080/api/v1/accounts?limit=3'
  echo
fi

echo
echo "==> the synced users through SCIM 2.0 (read-only), filtered"
echo "    curl -s -H \"Authorization: Bearer \$(cat $DEMO/platform.token)\" 'http://127.0.0.1:8080/scim/v2/Users?filter=active%20eq%20true&count=2'"
if command -v curl >/dev/null 2>&1; then
  curl -s -H "Authorization: Bearer $(cat "$DEMO/platform.token")" 'http://127.0.0.1:8080/scim/v2/Users?filter=active%20eq%20true&count=2'
  echo
fi

echo
echo "==> adsync job run demo --mode full --wait   (a full read with no directory change changes nothing)"
"$ADSYNC" job run demo -c "$CONFIG" --mode full --wait

echo
echo "==> adsync job run demo --wait   (the job's mode is auto: a delta read reads only what changed — nothing)"
"$ADSYNC" job run demo -c "$CONFIG" --wait

cat <<TXT

adsync is still running (pid $(cat "$PIDFILE")).

  The console:  http://127.0.0.1:8080/   name demo-admin, password $(cat "$DEMO/console.password")

Try:
  $ADSYNC watch -c $CONFIG                 # live events
  $ADSYNC accounts feed --from 1 -c $CONFIG  # every account change, in order (the platform's feed)
  curl -s -H "Authorization: Bearer \$(cat $DEMO/platform.token)" 'http://127.0.0.1:8080/api/v1/accounts?limit=5'
                                           # the accounts through the HTTP API (token of role viewer)
  curl -s -H "Authorization: Bearer \$(cat $DEMO/platform.token)" 'http://127.0.0.1:8080/scim/v2/Users?filter=userName%20sw%20%22demo0%22'
                                           # the users through SCIM 2.0
  $ADSYNC audit list -c $CONFIG            # who changed what (API, console, command line)
  $ADSYNC job show demo -c $CONFIG         # next scheduled run
  $ADSYNC sso enable saml -c $CONFIG       # refused while the job is enabled
Stop it with: make demo-clean
TXT
