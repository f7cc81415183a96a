#!/usr/bin/env bash
# `GET /feeds/{token}.ics` under load, against nginx serving the identical bytes as a static file,
# in one run: full responses (200) and conditional ones (304 to If-None-Match).
#
# Builds plenary --release, starts it on a temporary SQLite database (it plans this year and
# next at start), creates a delegation feed (Austria, the default window), saves the feed's bytes
# for nginx, starts nginx on another loopback port with a temporary configuration, and runs wrk
# (keep-alive, 2 threads, 32 connections, ~10 s each). Each server is pinned to CPU 1 and wrk to
# CPU 0 with taskset, so each server gets one core. Also reports each server's CPU time per
# request (from /proc), which load from elsewhere blurs less than req/s. Prints a table, then
# stops everything it started. Installs wrk and nginx with apt-get when missing.
#
# Usage: bench/feeds-load.sh [seconds]     (PLENARY_BENCH_PORT / NGINX_BENCH_PORT to move ports;
# CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/services.sh

duration="${1:-10}"
# The machine's load before this script adds its own (the wrk runs themselves add about 2).
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
plenary_port="${PLENARY_BENCH_PORT:-18480}"
nginx_port="${NGINX_BENCH_PORT:-18481}"
server_cpu=1 load_cpu=0
[ "$(nproc)" -ge 2 ] || { server_cpu=0; load_cpu=0; echo "note: one CPU only; servers and wrk share it"; }

command -v wrk >/dev/null || { echo "==> Installing wrk"; apt_install wrk; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "==> Installing nginx"; apt_install nginx; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v curl >/dev/null || apt_install curl

echo "==> cargo build --release -p plenary"
cargo build --release --locked -p plenary 2>&1 | tail -n 1
plenary="${CARGO_TARGET_DIR:-target}/release/plenary"

tmp=$(mktemp -d /tmp/plenary-feeds-bench.XXXXXX)
plenary_pid="" nginx_pid=""
cleanup() {
  [ -n "$plenary_pid" ] && kill "$plenary_pid" 2>/dev/null && wait "$plenary_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

export PLENARY_DATABASE_URL="sqlite://$tmp/plenary.db"
export PLENARY_ADMIN_PASSWORD="bench-password"
# Request logging off on both sides (nginx: access_log off).
export PLENARY_LOG=warn
echo "==> Starting plenary on 127.0.0.1:$plenary_port (CPU $server_cpu)"
taskset -c "$server_cpu" "$plenary" serve --addr "127.0.0.1:$plenary_port" >"$tmp/plenary.log" 2>&1 &
plenary_pid=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$plenary_port/healthz" >/dev/null 2>&1 && break
  kill -0 "$plenary_pid" 2>/dev/null || { cat "$tmp/plenary.log"; exit 1; }
  sleep 0.5
done
token=$("$plenary" token create --role organiser)
feed_url=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"scope": "delegation", "state": "AT"}' "http://127.0.0.1:$plenary_port/api/v1/feeds" | jq -r .url)
feed_path=${feed_url#http://127.0.0.1:$plenary_port}
mkdir -p "$tmp/www/feeds"
curl -fsS -D "$tmp/plenary.headers" -o "$tmp/www/feeds/feed.ics" "$feed_url"
plenary_etag=$(grep -i '^etag:' "$tmp/plenary.headers" | cut -d' ' -f2 | tr -d '\r')
# nginx's worker drops root's rights: let it read the file.
chmod 755 "$tmp" "$tmp/www" "$tmp/www/feeds" && chmod 644 "$tmp/www/feeds/feed.ics"
events=$(grep -c '^BEGIN:VEVENT' "$tmp/www/feeds/feed.ics")
bytes=$(stat -c %s "$tmp/www/feeds/feed.ics")
echo "    feed: $events events, $bytes bytes, ETag $plenary_etag"

cat >"$tmp/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx.error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  types { text/calendar ics; }
  client_body_temp_path $tmp/nginx-body;
  proxy_temp_path $tmp/nginx-proxy;
  fastcgi_temp_path $tmp/nginx-fastcgi;
  uwsgi_temp_path $tmp/nginx-uwsgi;
  scgi_temp_path $tmp/nginx-scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $tmp/www;
    location /feeds/ { add_header Cache-Control "private, max-age=300"; }
  }
}
NGINX
echo "==> Starting nginx on 127.0.0.1:$nginx_port (CPU $server_cpu)"
taskset -c "$server_cpu" "$NGINX" -c "$tmp/nginx.conf" -p "$tmp" &
nginx_pid=$!
for _ in $(seq 1 40); do curl -fsS -o /dev/null "http://127.0.0.1:$nginx_port/feeds/feed.ics" 2>/dev/null && break; sleep 0.25; done
nginx_etag=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$nginx_port/feeds/feed.ics" | grep -i '^etag:' | cut -d' ' -f2 | tr -d '\r')
cmp <(curl -fsS "http://127.0.0.1:$nginx_port/feeds/feed.ics") "$tmp/www/feeds/feed.ics"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $plenary_etag" "$feed_url")" = 304 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $nginx_etag" "http://127.0.0.1:$nginx_port/feeds/feed.ics")" = 304 ]

# A Lua script for wrk that sends If-None-Match with an ETag (which holds double quotes only).
conditional() { printf 'wrk.headers["If-None-Match"] = [[%s]]\n' "$1" >"$tmp/$2.lua"; echo "$tmp/$2.lua"; }
# CPU time (user + system, in clock ticks) a process has used: per request, it is what the
# server spends on one, which other load on the machine blurs far less than requests per second.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run_wrk() { # name url server-pid [lua]
  local out="$tmp/wrk-$1.txt" ticks_before ticks
  ticks_before=$(cpu_ticks "$3")
  taskset -c "$load_cpu" wrk -t2 -c32 -d"${duration}s" --latency ${4:+-s "$4"} "$2" >"$out" 2>&1
  ticks=$(( $(cpu_ticks "$3") - ticks_before ))
  if ! grep -q 'Requests/sec' "$out" || grep -qiE 'lua|unexpected' "$out"; then cat "$out"; exit 1; fi
  local rps p50 p99 non2xx requests cpu_us
  rps=$(awk '/Requests\/sec/ {print $2}' "$out")
  requests=$(awk '/requests in/ {print $1}' "$out")
  cpu_us=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx/ {print $NF}' "$out")
  echo "$1 $rps $p50 $p99 ${non2xx:-0} $cpu_us" >>"$tmp/results"
  echo "    $1: $rps req/s, $cpu_us µs CPU/request (p50 $p50, p99 $p99${non2xx:+, $non2xx non-2xx/3xx})"
}
echo "==> wrk, ${duration}s each: keep-alive, 2 threads, 32 connections, wrk on CPU $load_cpu"
# nginx serves from its one worker process.
nginx_worker=$(pgrep -P "$nginx_pid" | head -n 1)
run_wrk plenary-200 "$feed_url" "$plenary_pid"
run_wrk nginx-200 "http://127.0.0.1:$nginx_port/feeds/feed.ics" "$nginx_worker"
run_wrk plenary-304 "$feed_url" "$plenary_pid" "$(conditional "$plenary_etag" plenary)"
run_wrk nginx-304 "http://127.0.0.1:$nginx_port/feeds/feed.ics" "$nginx_worker" "$(conditional "$nginx_etag" nginx)"

echo
echo "Load average (1, 5, 15 min): $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) after the wrk runs."
echo "Feed: delegation of Austria, default window, $events events, $bytes bytes (identity)."
awk -v goal200=0.6 -v goal304=0.8 '
  { rps[$1] = $2; p50[$1] = $3; p99[$1] = $4; cpu[$1] = $6 }
  END {
    print "| path | plenary req/s | nginx req/s | plenary / nginx | goal | plenary p50 / p99 | nginx p50 / p99 | CPU µs/request plenary / nginx (nginx / plenary) |"
    print "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |"
    for (i = 0; i < 2; i++) {
      kind = i == 0 ? "200" : "304"; goal = i == 0 ? goal200 : goal304
      r = rps["plenary-" kind] / rps["nginx-" kind]
      printf "| %s | %.0f | %.0f | %.2f× | ≥%.1f× %s | %s / %s | %s / %s | %s / %s (%.2f×) |\n", (i == 0 ? "200 (full feed)" : "304 (If-None-Match)"),
        rps["plenary-" kind], rps["nginx-" kind], r, goal, (r >= goal ? "met" : "MISSED"),
        p50["plenary-" kind], p99["plenary-" kind], p50["nginx-" kind], p99["nginx-" kind],
        cpu["plenary-" kind], cpu["nginx-" kind], cpu["nginx-" kind] / cpu["plenary-" kind]
    }
  }' "$tmp/results"
