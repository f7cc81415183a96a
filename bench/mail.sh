#!/usr/bin/env bash
# Mail (issue 5): N (default 1,000) invitations through a local SMTP server, Plenary against
# Postfix's `smtp-source` as the ceiling, in the same run, to the same server.
#
# - The server: tests/python/smtp_sink.py (aiosmtpd, storing every message into a Maildir), one
#   process on loopback for both senders.
# - Plenary: `plenary invite --meeting ID` (release build) for a future Permanent Council meeting
#   whose delegations have N contact points between them: it renders every invitation (text,
#   HTML, iCalendar with VTIMEZONE), queues it in the outbox (SQLite) and delivers it through
#   the pooled lettre transport with SESSIONS connections, recording each outcome.
# - Postfix: `smtp-source -s SESSIONS -m N -l SIZE`, SIZE the average size of Plenary's messages.
# - Messages per second from the wall time of each command; peak memory is the maximum RSS
#   reported by GNU time.
#
# Usage: bench/mail.sh            (N=1000 SESSIONS=8 by default; installs postfix if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/services.sh

N=${N:-1000}
SESSIONS=${SESSIONS:-8}

ensure_python_packages
PYTHON=$PLENARY_TEST_PYTHON
if ! command -v smtp-source >/dev/null; then
  echo "==> Installing postfix for smtp-source (no mail configuration)"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt_install postfix
fi
[ -x /usr/bin/time ] || apt_install time

if [ -n "${PLENARY_BIN:-}" ]; then
  BIN=$PLENARY_BIN   # for trying the script out with another build; the figures need release
else
  echo "==> Building plenary (release)"
  cargo build --release --locked -p plenary
  BIN=$PWD/target/release/plenary
fi

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

export PLENARY_DATABASE_URL="sqlite://$work/plenary.db" PLENARY_LOG=warn PLENARY_ADMIN_PASSWORD=bench-password
unset PLENARY_SMTP_URL

echo "==> Setting up a meeting and $N contact points"
http_port=$(free_port)
PLENARY_ADDR=127.0.0.1:$http_port "$BIN" serve >"$work/serve.log" 2>&1 &
serve_pid=$!; pids+=("$serve_pid")
for _ in $(seq 1 600); do curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
token=$("$BIN" token create --role organiser)
meeting=$("$PYTHON" - "$http_port" "$token" "$N" <<'PY'
import datetime, json, sys, urllib.request
port, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = f"http://127.0.0.1:{port}/api/v1"
def call(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)
start = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
meeting = call("GET", f"/meetings?body=PC&from={start}")[0]
codes = [i["iso2"] for i in call("GET", f"/meetings/{meeting['id']}/invitees")["invitees"]]
for i in range(n):
    iso2 = codes[i % len(codes)]
    call("POST", f"/delegations/{iso2}/contacts", {"name": f"Delegate {i}", "email": f"delegate{i}@{iso2.lower()}.example",
        "role": "contact_point", "language": "fr" if i % 3 == 0 else "en"})
print(meeting["id"])
PY
)
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true

smtp_port=$(free_port)
"$PYTHON" tests/python/smtp_sink.py "$smtp_port" "$work/Maildir" >"$work/sink.out" &
pids+=("$!")
for _ in $(seq 1 100); do grep -q ready "$work/sink.out" 2>/dev/null && break; sleep 0.1; done
delivered() { find "$work/Maildir/new" -type f | wc -l; }

echo "==> Plenary: plenary invite --meeting $meeting ($N messages, $SESSIONS connections)"
echo "load average before: $(cat /proc/loadavg)"
t0=$(now)
PLENARY_SMTP_URL="smtp://127.0.0.1:$smtp_port" PLENARY_MAIL_CONCURRENCY=$SESSIONS \
  /usr/bin/time -v -o "$work/plenary.time" "$BIN" invite --meeting "$meeting" 2>/dev/null
t1=$(now)
echo "load average after: $(cat /proc/loadavg)"
plenary_count=$(delivered)
size=$(( $(find "$work/Maildir/new" -type f -printf '%s\n' | awk '{s+=$1} END {print int(s)}') / plenary_count ))
plenary_rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/plenary.time")

echo "==> Postfix: smtp-source -s $SESSIONS -m $N -l $size"
echo "load average before: $(cat /proc/loadavg)"
t2=$(now)
/usr/bin/time -v -o "$work/postfix.time" smtp-source -s "$SESSIONS" -m "$N" -l "$size" \
  -f bench@plenary.example -t delegate@example.org "127.0.0.1:$smtp_port"
t3=$(now)
echo "load average after: $(cat /proc/loadavg)"
postfix_count=$(( $(delivered) - plenary_count ))
postfix_rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/postfix.time")

awk -v n="$N" -v pc="$plenary_count" -v qc="$postfix_count" -v size="$size" \
    -v p="$(echo "$t1 - $t0" | bc)" -v q="$(echo "$t3 - $t2" | bc)" -v pr="$plenary_rss" -v qr="$postfix_rss" 'BEGIN {
  printf "\n| sender | messages delivered | avg size | wall time | messages/s | peak RSS |\n|---|---|---|---|---|---|\n"
  printf "| plenary invite (render + queue + deliver) | %d | %d B | %.2f s | %.0f | %.1f MiB |\n", pc, size, p, pc / p, pr / 1024
  printf "| postfix smtp-source | %d | %d B | %.2f s | %.0f | %.1f MiB |\n", qc, size, q, qc / q, qr / 1024
  printf "\nratio plenary / smtp-source: %.2fx (goal >= 0.8x)\n", (pc / p) / (qc / q)
}'
[ "$plenary_count" -eq "$N" ] || { echo "error: plenary delivered $plenary_count of $N" >&2; exit 1; }
