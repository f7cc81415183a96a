#!/usr/bin/env bash
# `GET /feeds/{token}.ics` through nginx in front of three release replicas on PostgreSQL, the
# way the README deploys Plenary (deploy/nginx.conf, as the cluster test runs it), against the
# same nginx serving the identical bytes as a static file, in one run. Goal: at least 0.6x.
#
# Builds plenary --release, makes a fresh PostgreSQL database, starts three replicas together,
# creates a delegation feed (Austria, the default window), saves its bytes for nginx's static
# server (and its gzip, with gzip_static), and runs wrk (keep-alive, 2 threads, 32 connections)
# against both, without and with Accept-Encoding: gzip. Prints requests/s,
# the ratio and the load average before and after; stops everything it started. The
# single-replica comparison (pinned CPUs, 304s, CPU per request) is bench/feeds-load.sh.
#
# Usage: bench/feeds-cluster.sh [seconds]    (default 10; PLENARY_BENCH_PORT moves the ports;
# PLENARY_TEST_DATABASE_URL may name another PostgreSQL server; CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/services.sh
source bench/lib/cluster.sh

duration="${1:-10}"
load_start=$(cat /proc/loadavg)
base_port="${PLENARY_BENCH_PORT:-18490}"
replica_ports=($((base_port + 1)) $((base_port + 2)) $((base_port + 3)))
proxy_port=$base_port static_port=$((base_port + 4))
db=plenary_bench_feeds_cluster
bench_url="$(sed -E "s#/[^/?]*(\?.*)?\$#/$db\1#" <<<"$POSTGRES_URL")"

ensure_postgres
ensure_nginx
command -v wrk >/dev/null || { echo "==> Installing wrk"; apt_install wrk; }
command -v curl >/dev/null || apt_install curl
command -v jq >/dev/null || apt_install jq

echo "==> cargo build --release -p plenary"
cargo build --release --locked -p plenary 2>&1 | tail -n 1
plenary="${CARGO_TARGET_DIR:-target}/release/plenary"

tmp=$(mktemp -d /tmp/plenary-feeds-cluster.XXXXXX)
cleanup() {
  stop_cluster
  psql "$POSTGRES_URL" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "==> Fresh database $db, three replicas on ports ${replica_ports[*]}"
psql "$POSTGRES_URL" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
psql "$POSTGRES_URL" -qAtc "CREATE DATABASE $db" >/dev/null
# One public address for all replicas, as deployed: the feed's links are then the same bytes
# whichever replica renders it.
export PLENARY_DATABASE_URL="$bench_url" PLENARY_ADMIN_PASSWORD=bench-password PLENARY_LOG=warn \
  PLENARY_PUBLIC_URL="http://127.0.0.1:$proxy_port"
start_replicas "$plenary" "$tmp" "${replica_ports[@]}"

token=$("$plenary" token create --role organiser)
feed_url=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"scope": "delegation", "state": "AT"}' "http://127.0.0.1:${replica_ports[0]}/api/v1/feeds" | jq -r .url)
feed_path=${feed_url#http://127.0.0.1:$proxy_port}
mkdir -p "$tmp/www/feeds"
curl -fsS -o "$tmp/www/feeds/feed.ics" "http://127.0.0.1:${replica_ports[0]}$feed_path"
# The gzip the replica sends to calendar clients that ask for it, for nginx's gzip_static.
curl -fsS -H 'Accept-Encoding: gzip' -o "$tmp/www/feeds/feed.ics.gz" "http://127.0.0.1:${replica_ports[0]}$feed_path"
# nginx's worker drops root's rights: let it read the files.
chmod 755 "$tmp" "$tmp/www" "$tmp/www/feeds" && chmod 644 "$tmp/www/feeds/feed.ics" "$tmp/www/feeds/feed.ics.gz"
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/extra.conf" <<NGINX
server {
  listen 127.0.0.1:$static_port;
  root $tmp/www;
  location /feeds/ { gzip_static on; add_header Cache-Control "private, max-age=300"; }
}
NGINX
echo "==> nginx (deploy/nginx.conf) on 127.0.0.1:$proxy_port, the static file on 127.0.0.1:$static_port"
start_nginx "$tmp/nginx" "$proxy_port" "${replica_ports[@]}"
proxied="http://127.0.0.1:$proxy_port$feed_path" static="http://127.0.0.1:$static_port/feeds/feed.ics"
cmp <(curl -fsS "$proxied") "$tmp/www/feeds/feed.ics"
cmp <(curl -fsS "$static") "$tmp/www/feeds/feed.ics"
cmp <(curl -fsS -H 'Accept-Encoding: gzip' "$proxied") "$tmp/www/feeds/feed.ics.gz"
cmp <(curl -fsS -H 'Accept-Encoding: gzip' "$static") "$tmp/www/feeds/feed.ics.gz"
events=$(grep -c '^BEGIN:VEVENT' "$tmp/www/feeds/feed.ics")
bytes=$(stat -c %s "$tmp/www/feeds/feed.ics")

run_wrk() { # name url [wrk options]
  wrk -t2 -c32 -d"${duration}s" --latency "${@:3}" "$2" >"$tmp/wrk-$1.txt" 2>&1
  grep -q 'Requests/sec' "$tmp/wrk-$1.txt" || { cat "$tmp/wrk-$1.txt"; exit 1; }
  if grep -q 'Non-2xx' "$tmp/wrk-$1.txt"; then cat "$tmp/wrk-$1.txt"; exit 1; fi
  awk '/Requests\/sec/ {print $2}' "$tmp/wrk-$1.txt"
}
echo "==> wrk, ${duration}s each: keep-alive, 2 threads, 32 connections"
load_before=$(cat /proc/loadavg)
cluster_rps=$(run_wrk cluster "$proxied")
echo "    nginx + 3 replicas: $cluster_rps req/s"
static_rps=$(run_wrk static "$static")
echo "    nginx, static file: $static_rps req/s"
gzip=(-H 'Accept-Encoding: gzip')
cluster_gzip_rps=$(run_wrk cluster-gzip "$proxied" "${gzip[@]}")
echo "    nginx + 3 replicas, gzip: $cluster_gzip_rps req/s"
static_gzip_rps=$(run_wrk static-gzip "$static" "${gzip[@]}")
echo "    nginx, static file, gzip: $static_gzip_rps req/s"
load_after=$(cat /proc/loadavg)

row() { # label cluster static
  local ratio goal
  ratio=$(awk -v c="$2" -v s="$3" 'BEGIN { printf "%.2f", c / s }')
  goal=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.6 ? "met" : "MISSED") }')
  printf '| %s | %.0f | %.0f | %s× | ≥0.6× %s |\n' "$1" "$2" "$3" "$ratio" "$goal"
}
echo
echo "/proc/loadavg at the start: $load_start; before wrk: $load_before; after: $load_after"
echo "Feed: delegation of Austria, default window, $events events, $bytes bytes (identity), $(stat -c %s "$tmp/www/feeds/feed.ics.gz") bytes (gzip)."
echo "| path | nginx + 3 replicas req/s | nginx static req/s | ratio | goal |"
echo "| --- | ---: | ---: | ---: | ---: |"
row "GET /feeds/{token}.ics, 200" "$cluster_rps" "$static_rps"
row "the same, Accept-Encoding: gzip" "$cluster_gzip_rps" "$static_gzip_rps"
