# Shared by the benchmarks that run Plenary as the README deploys it: replicas of one release
# binary on loopback ports, behind a child nginx running deploy/nginx.conf (the file the cluster
# test runs), with its pid, logs and temporary files in a directory of its own. Source after
# scripts/lib/services.sh; `stop_cluster` stops what was started (call it from an EXIT trap).

REPLICA_PIDS=()
NGINX_PID=""

# start_replicas BINARY LOG_DIR PORT...: `plenary serve` on each port, on the database of
# PLENARY_DATABASE_URL, started together; returns once every one answers 200 at /readyz.
start_replicas() {
  local binary="$1" logs="$2" port
  shift 2
  for port in "$@"; do
    "$binary" serve --addr "127.0.0.1:$port" >"$logs/replica-$port.log" 2>&1 &
    REPLICA_PIDS+=($!)
  done
  for port in "$@"; do
    for _ in $(seq 1 300); do
      curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
      sleep 0.2
    done
    curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" || { cat "$logs/replica-$port.log"; return 1; }
  done
}

# start_nginx DIR LISTEN_PORT REPLICA_PORT...: nginx on 127.0.0.1:LISTEN_PORT with
# deploy/nginx.conf (plain HTTP instead of the `# tls` lines, no access log, the feed cache in DIR) in front of the
# replicas. Any further server blocks for the same nginx may be put in DIR/extra.conf first.
start_nginx() {
  local dir="$1" listen="$2" port
  shift 2
  mkdir -p "$dir/logs"
  # The worker processes drop root's rights: let them reach their temporary directories.
  chmod 755 "$dir"
  : >"$dir/plenary-replicas.conf"
  for port in "$@"; do echo "server 127.0.0.1:$port;" >>"$dir/plenary-replicas.conf"; done
  grep -v '# tls$' deploy/nginx.conf \
    | sed -E "s#^( *)access_log .*#\1access_log off;#; s#/var/lib/nginx/#$dir/#; 0,/^server \{\$/s##server {\n    listen 127.0.0.1:$listen;#" \
    >"$dir/plenary.conf"
  touch "$dir/extra.conf"
  cat >"$dir/nginx.conf" <<NGINX
worker_processes ${NGINX_WORKERS:-1};
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  include $dir/plenary.conf;
  include $dir/extra.conf;
}
NGINX
  local nginx
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  "$nginx" -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" -g 'daemon off;' &
  NGINX_PID=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$listen/healthz" 2>/dev/null && return 0
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/logs/error.log" >&2
  return 1
}

stop_cluster() {
  local pid
  if [ -n "$NGINX_PID" ]; then kill -QUIT "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; fi
  for pid in "${REPLICA_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${REPLICA_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  NGINX_PID="" REPLICA_PIDS=()
}
