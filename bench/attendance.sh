#!/usr/bin/env bash
# Attendance benchmark (issue 6): registrations per second and p99 latency of the real service on
# PostgreSQL, 68 delegations x 10 registrations sent at once against a capacity of 150, and as the
# ceiling pgbench running the same SQL transaction and mix (lock the meeting's row, read, and for
# those accepted insert the registration, its audit entry and its mail) against the same database
# in the same run. Checks every rule's invariant afterwards; prints the load average.
#
# Usage: bench/attendance.sh [--replicas N] [ROUNDS]   (default 5; each round is a fresh meeting)
# With --replicas N (N > 1) the service is N replicas started together behind nginx running
# deploy/nginx.conf (bench/lib/cluster.sh), and the load goes through nginx.
# PLENARY_TEST_DATABASE_URL may name another PostgreSQL server (a superuser URL).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/services.sh
source bench/lib/cluster.sh

REPLICAS=1
if [ "${1:-}" = "--replicas" ]; then REPLICAS="$2"; shift 2; fi
ROUNDS="${1:-5}"
CLIENTS=20   # the service's PostgreSQL pool size (api/src/db/mod.rs)
DB=plenary_bench_attendance
ADMIN_URL="$POSTGRES_URL"
BENCH_URL="$(sed -E "s#/[^/?]*(\?.*)?\$#/$DB\1#" <<<"$ADMIN_URL")"
PORT="${PLENARY_BENCH_PORT:-18086}"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  stop_cluster
  rm -rf "$WORK"
}
trap cleanup EXIT

ensure_postgres
LOAD_BEFORE="$(cat /proc/loadavg)"
command -v pgbench >/dev/null || apt_install postgresql-contrib

echo "==> Building the service and the load generator (release)"
cargo build --release --locked -p plenary -p tests --bin plenary --example attendance_load
BIN=target/release/plenary
LOAD=target/release/examples/attendance_load

echo "==> Fresh database $DB"
psql "$ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql "$ADMIN_URL" -qAtc "CREATE DATABASE $DB" >/dev/null
export PLENARY_DATABASE_URL="$BENCH_URL" PLENARY_ADMIN_PASSWORD=bench-admin-password RUST_LOG=warn
"$BIN" migrate >/dev/null
ORGANISER="$("$BIN" token create --role organiser --label bench)"
ON="$(date -u -d '+30 days' +%F)"
psql "$BENCH_URL" -qAt -F ' ' -c "SELECT DISTINCT iso2 FROM memberships WHERE valid_from <= '$ON' AND (valid_until IS NULL OR valid_until > '$ON') ORDER BY 1" >"$WORK/states"
while read -r iso2; do
  echo "$iso2 $("$BIN" token create --role delegation --state "$iso2" --label bench)"
done <"$WORK/states" >"$WORK/tokens"
echo "    $(wc -l <"$WORK/tokens") delegation tokens"

if [ "$REPLICAS" -gt 1 ]; then
  REPLICA_PORTS=($(seq $((PORT + 1)) $((PORT + REPLICAS))))
  echo "==> $REPLICAS replicas on ports ${REPLICA_PORTS[*]} behind nginx (deploy/nginx.conf) on 127.0.0.1:$PORT"
  ensure_nginx
  start_replicas "$BIN" "$WORK" "${REPLICA_PORTS[@]}"
  start_nginx "$WORK/nginx" "$PORT" "${REPLICA_PORTS[@]}"
else
echo "==> plenary serve on 127.0.0.1:$PORT"
PLENARY_ADDR="127.0.0.1:$PORT" "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null
fi

echo "==> Service: $ROUNDS rounds of $(($(wc -l <"$WORK/tokens") * 10)) registrations sent at once"
"$LOAD" "http://127.0.0.1:$PORT" "$ORGANISER" "$WORK/tokens" "$ROUNDS" | tee "$WORK/load.out"
SUMMARY="$(grep '^summary' "$WORK/load.out")"
field() { sed -E "s/.*[ ]$1=([^ ]+).*/\1/" <<<"$SUMMARY"; }
MEETINGS="$(field meetings)"
if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; fi
stop_cluster

echo "==> pgbench: the same transaction, $CLIENTS clients, $ROUNDS rounds of 680 on fresh meetings"
# What one registration's transaction does in the service (logged with log_statement=all):
# take the meeting's lock (raise its arrival counter), read its registrations, and when the
# rules accept it insert the registration, its audit entry and the attendee's mail (outbox),
# then commit; a refused one rolls back. pgbench sends the same mix as the load generator (per
# delegation two heads and eight advisers: three accepted, seven refused), with the mail and
# audit texts as long as the service's own, as prepared statements as sqlx sends them.
text_of() { head -c "$1" /dev/zero | tr '\0' x; }
read -r TEXT_LEN HTML_LEN AFTER_LEN <<<"$(psql "$BENCH_URL" -qAt -F ' ' -c "SELECT
  (SELECT round(avg(length(text_body))) FROM outbox WHERE kind LIKE 'registration_%'),
  (SELECT round(avg(length(html_body))) FROM outbox WHERE kind LIKE 'registration_%'),
  (SELECT round(avg(length(after))) FROM audit_log WHERE action = 'registration.create')")"
STATES_SQL="ARRAY[$(sed -E "s/.*/'&'/" "$WORK/states" | paste -sd,)]"
cat >"$WORK/register.sql" <<SQL
\set n :n + 1
\set request :client_id * $((680 / CLIENTS)) + :n - 1
\set d :request / 10
\set k :request % 10
BEGIN;
UPDATE attendance_settings SET last_arrival = last_arrival + 1 WHERE meeting_id = :m RETURNING last_arrival AS arrival \gset
SELECT count(*) FILTER (WHERE status = 'confirmed') AS confirmed, count(*) FILTER (WHERE status = 'waiting') AS waiting,
       count(*) FILTER (WHERE iso2 = ($STATES_SQL)[:d % $(wc -l <"$WORK/states") + 1] AND seat = CASE WHEN :k < 2 THEN 'main' ELSE 'behind' END) AS held,
       count(*) FILTER (WHERE email = 'p' || :k || '@d' || :d || '.example.org') AS same
  FROM registrations WHERE meeting_id = :m AND status <> 'withdrawn' \gset
\if :same = 0 and ((:k < 2 and :held = 0) or (:k >= 2 and :held < 2))
INSERT INTO registrations (meeting_id, iso2, name, function, email, seat, language, status, arrival, overridden, created_by, created_at, updated_at)
  VALUES (:m, ($STATES_SQL)[:d % $(wc -l <"$WORK/states") + 1], 'Person ' || :k, 'Delegate', 'p' || :k || '@d' || :d || '.example.org',
          CASE WHEN :k < 2 THEN 'main' ELSE 'behind' END, 'en',
          CASE WHEN :confirmed < 150 AND :waiting = 0 THEN 'confirmed' ELSE 'waiting' END, :arrival, false, 'pgbench', now(), now())
  RETURNING id \gset
INSERT INTO audit_log (at, actor, action, subject_type, subject_id, before, after)
  VALUES (now(), 'pgbench', 'registration.create', 'registration', :id, NULL, '$(text_of "${AFTER_LEN:-220}")') RETURNING id;
INSERT INTO outbox (kind, meeting_id, recipient_email, recipient_name, language, subject, text_body, html_body, message_id, dedupe_key,
                    status, attempts, available_at, created_at, updated_at)
  VALUES ('registration_confirmed', :m, 'p' || :k || '@d' || :d || '.example.org', 'Person ' || :k, 'en', 'You are registered',
          '$(text_of "${TEXT_LEN:-440}")', '$(text_of "${HTML_LEN:-740}")', 'pgbench-' || :id || '@plenary', 'pgbench:' || :id,
          'queued', 0, 0, now(), now())
  ON CONFLICT (dedupe_key) DO NOTHING;
COMMIT;
\else
ROLLBACK;
\endif
SQL
FIRST="${MEETINGS%%,*}"
: >"$WORK/pgbench.lat"; : >"$WORK/pgbench.tps"
for round in $(seq 1 "$ROUNDS"); do
  M="$(psql "$BENCH_URL" -qAt -c "INSERT INTO meetings (uid, plan_key, body_code, title, starts_at, ends_at, time_zone, room_code, status, sequence, created_at, updated_at)
        SELECT 'pgbench-$round-' || md5(random()::text), NULL, body_code, 'pgbench $round', starts_at, ends_at, time_zone, room_code, status, 0, now(), now()
        FROM meetings WHERE id = $FIRST RETURNING id" | head -n1)"
  psql "$BENCH_URL" -qAtc "INSERT INTO attendance_settings (meeting_id, capacity, last_arrival) VALUES ($M, 150, 0)" >/dev/null
  (cd "$WORK" && pgbench -n -M prepared -c "$CLIENTS" -j 2 -t $((680 / CLIENTS)) -D m="$M" -D n=0 -f register.sql -l --log-prefix="pgb$round" "$BENCH_URL" >"pgbench.$round.out" 2>&1)
  grep -E '^tps' "$WORK/pgbench.$round.out" | head -n1 | sed -E 's/tps = ([0-9.]+).*/\1/' >>"$WORK/pgbench.tps"
  cat "$WORK"/pgb"$round".* | awk '{print $3}' >>"$WORK/pgbench.lat"
  rm -f "$WORK"/pgb"$round".*
done
PG_TPS="$(awk -v n=680 '{ t += n / $1; c += n } END { printf "%.0f", c / t }' "$WORK/pgbench.tps")"
PG_P99="$(sort -n "$WORK/pgbench.lat" | awk '{ a[NR] = $1 } END { i = int(NR * 0.99 + 0.999); printf "%.1f", a[i] / 1000 }')"
PG_P50="$(sort -n "$WORK/pgbench.lat" | awk '{ a[NR] = $1 } END { i = int(NR * 0.50 + 0.999); printf "%.1f", a[i] / 1000 }')"

echo "==> Invariants on the service's meetings ($MEETINGS)"
VIOLATIONS="$(psql "$BENCH_URL" -qAt <<SQL
WITH m AS (SELECT unnest(string_to_array('$MEETINGS', ',')::int[]) AS id),
active AS (SELECT r.* FROM registrations r JOIN m ON r.meeting_id = m.id WHERE status <> 'withdrawn')
SELECT
  (SELECT count(*) FROM (SELECT meeting_id FROM active WHERE status = 'confirmed' GROUP BY 1 HAVING count(*) > 150) x)
+ (SELECT count(*) FROM (SELECT meeting_id, iso2 FROM active WHERE seat = 'main' GROUP BY 1, 2 HAVING count(*) > 1) x)
+ (SELECT count(*) FROM (SELECT meeting_id, iso2 FROM active WHERE seat = 'behind' GROUP BY 1, 2 HAVING count(*) > 2) x)
+ (SELECT count(*) FROM (SELECT meeting_id, email FROM active GROUP BY 1, 2 HAVING count(*) > 1) x)
+ (SELECT count(*) FROM (SELECT meeting_id FROM active GROUP BY 1
     HAVING max(arrival) FILTER (WHERE status = 'confirmed') > min(arrival) FILTER (WHERE status = 'waiting')) x)
+ (SELECT count(*) FROM (SELECT meeting_id FROM active GROUP BY 1
     HAVING count(*) <> 204 OR count(*) FILTER (WHERE status = 'confirmed') <> 150) x);
SQL
)"
ROWS="$(psql "$BENCH_URL" -qAt -c "SELECT count(*) FROM registrations WHERE meeting_id = ANY(string_to_array('$MEETINGS', ',')::int[])")"
echo "    rule violations: $VIOLATIONS; rows: $ROWS (201s announced: $(field accepted)); failed requests: $(field failed)"

RATIO="$(awk -v s="$(field requests_per_s)" -v p="$PG_TPS" 'BEGIN { printf "%.2f", s / p }')"
echo
echo "| what (PostgreSQL, $CLIENTS connections) | registrations/s | p50 ms | p99 ms |"
echo "| --- | ---: | ---: | ---: |"
echo "| plenary serve ($REPLICAS replica(s)$([ "$REPLICAS" -gt 1 ] && echo ' behind nginx')): POST /registrations, 68x10 at once, capacity 150 | $(field requests_per_s) | $(field p50_ms) | $(field p99_ms) |"
echo "| pgbench: lock, read, insert, audit, mail; same mix ($CLIENTS clients) | $PG_TPS | $PG_P50 | $PG_P99 |"
echo
echo "ratio service/pgbench: $RATIO; accepted/s: $(field accepted_per_s); rule violations: $VIOLATIONS"
echo "load average at the start: $LOAD_BEFORE; at the end: $(cat /proc/loadavg)"
psql "$ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
