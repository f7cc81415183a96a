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

# Python packages the suites need (tests/python/requirements.txt, pinned): aiosmtpd for the real
# SMTP server the mail suites deliver to. Exports PLENARY_TEST_PYTHON for the tests.
ensure_python_packages() {
  local python="${PLENARY_TEST_PYTHON:-$(command -v python3 || true)}"
  if [ -z "$python" ]; then echo "==> Installing Python 3"; apt_install python3 python3-pip; python=$(command -v python3); fi
  if ! "$python" -m pip --version >/dev/null 2>&1; then echo "==> Installing pip"; apt_install python3-pip; fi
  if ! "$python" - tests/python/requirements.txt <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    name, _, pinned = line.split("#")[0].strip().partition("==")
    if name and version(name) != pinned:
        sys.exit(1)
PY
  then
    echo "==> Installing the test suites' Python packages (tests/python/requirements.txt)"
    "$python" -m pip install -q -r tests/python/requirements.txt 2>/dev/null \
      || "$python" -m pip install -q --break-system-packages -r tests/python/requirements.txt
  fi
  export PLENARY_TEST_PYTHON="$python"
}

ensure_test_tools() { ensure_python_packages; }
