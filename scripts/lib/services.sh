# Shared by scripts/test and the benchmarks: find, install or start what the suites need.
# Every function is idempotent and prints what it does.

POSTGRES_URL="${PLENARY_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

redact_url() { sed -E 's#(://[^:/@]+:)[^@]*@#\1***@#' <<<"$1"; }

apt_install() {
  if [ -z "${PLENARY_APT_UPDATED:-}" ]; then
    apt-get update -qq
    PLENARY_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

postgres_answers() { psql "$POSTGRES_URL" -Atqc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
  command -v psql >/dev/null || { echo "==> Installing the PostgreSQL client and server"; apt_install postgresql postgresql-client; }
  if postgres_answers; then return; fi
  echo "==> PostgreSQL does not answer at $(redact_url "$POSTGRES_URL"); starting the local cluster"
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  # Loopback connections without a password, as on the development machines.
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster --skip-systemctl-redirect "$version" main restart
  for _ in $(seq 1 30); do postgres_answers && return; sleep 1; done
  echo "error: PostgreSQL is still not answering at $(redact_url "$POSTGRES_URL"); the PostgreSQL run cannot go ahead." >&2
  exit 1
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then return; fi
  echo "==> Installing Chromium and chromedriver for the browser tests"
  apt_install chromium chromium-driver
}

# The Python packages of the independent iCalendar check (tests/python/requirements.txt), in a
# virtualenv under target/, reinstalled only when the pinned list changes. Exports
# PLENARY_TEST_PYTHON, which the feeds suite runs tests/python/check_feed.py with.
ensure_python_packages() {
  local venv="${PLENARY_PYTHON_VENV:-$PWD/target/python-venv}" requirements="$PWD/tests/python/requirements.txt"
  command -v python3 >/dev/null || { echo "==> Installing Python 3"; apt_install python3 python3-venv; }
  if [ ! -x "$venv/bin/python" ]; then
    echo "==> Creating the Python virtualenv for the test helpers at $venv"
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$venv"; }
  fi
  if ! cmp -s "$requirements" "$venv/.requirements.txt"; then
    echo "==> Installing the test helpers' Python packages (tests/python/requirements.txt)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.requirements.txt"
  fi
  export PLENARY_TEST_PYTHON="$venv/bin/python"
}

# axe-core, pinned by tests/axe/package-lock.json, for the browser suite's accessibility check
# (it reads tests/axe/node_modules/axe-core/axe.min.js); reinstalled only when the lock changes.
ensure_axe() {
  local dir="$PWD/tests/axe"
  command -v npm >/dev/null || { echo "==> Installing npm"; apt_install npm; }
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"; then
    echo "==> Installing axe-core (tests/axe/package-lock.json)"
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
    cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
  fi
}

# initdb and pg_ctl (Debian's postgresql package) for the test that stops a private cluster of
# its own (tests/src/postgres.rs), also when the suite's PostgreSQL server is on another machine.
ensure_postgres_server_binaries() {
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then return; fi
  echo "==> Installing the PostgreSQL server binaries for the database outage test"
  apt_install postgresql
}

# Debian's nginx for the cluster suite and the benchmarks, which run their own nginx as a child
# process on a generated configuration. The system service is neither started nor enabled: a
# policy-rc.d refuses the start during the install, and the unit is disabled after it.
ensure_nginx() {
  if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then return; fi
  echo "==> Installing nginx (the system service stays stopped and disabled)"
  local policy=/usr/sbin/policy-rc.d placed=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && placed=1
  fi
  apt_install nginx
  if [ -n "$placed" ]; then rm -f "$policy"; fi
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
  fi
}

ensure_test_tools() {
  ensure_postgres_server_binaries
  ensure_python_packages
  ensure_nginx
  ensure_chromium
  ensure_axe
}
