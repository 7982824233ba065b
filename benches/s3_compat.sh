#!/usr/bin/env bash
# The S3 compatibility count: Ceph's s3-tests (https://github.com/ceph/s3-tests), the functional
# tests that pass against real AWS (`-m 'not fails_on_aws'`), run against cairn and moto_server one
# after the other on this machine, with the same selection. Prints one JSON line per server.
#   benches/s3_compat.sh ~/src/s3-tests            # a checkout of ceph/s3-tests
#   CAIRN_BIN=target/debug/cairn benches/s3_compat.sh ~/src/s3-tests
set -euo pipefail
cd "$(dirname "$0")/.."
tests=$(cd "${1:?usage: benches/s3_compat.sh <path to a ceph/s3-tests checkout>}" && pwd)
mkdir -p "${BENCH_OUT:-target/bench}"
out=$(cd "${BENCH_OUT:-target/bench}" && pwd)
root=$PWD
if [ -z "${CAIRN_BIN:-}" ]; then cargo build --release -p cairn; CAIRN_BIN=$root/target/release/cairn; fi
venv=$root/.venv-s3tests
if [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$tests/requirements.txt" "moto[server]==5.1.22"
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# s3tests.conf for a server: three users (main, alt, tenant) as key id, secret, user id.
conf() {
  local port=$1; shift
  python3 - "$port" "$@" <<'PY'
import sys
port, *u = sys.argv[1:]
users = [u[i:i + 3] for i in (0, 3, 6)]
def user(section, name, key, secret, uid, extra=""):
    return f"[{section}]\ndisplay_name = {name}\nuser_id = {uid}\nemail = {name}@example.com\naccess_key = {key}\nsecret_key = {secret}\n{extra}\n"
print(f"[DEFAULT]\nhost = 127.0.0.1\nport = {port}\nis_secure = False\nssl_verify = False\n")
print("[fixtures]\nbucket prefix = s3t-{random}-\niam name prefix = s3-tests-\niam path prefix = /s3-tests/\n")
print(user("s3 main", "main", users[0][0], users[0][1], users[0][2], "api_name = us-east-1"))
print(user("s3 alt", "alt", *users[1]))
print(user("s3 tenant", "tenant", *users[2], "tenant = tenant"))
print(user("iam", "iam", *users[0]))
print(user("iam root", "alt", *users[1]))
print(user("iam alt root", "tenant", *users[2]))
PY
}

run() {
  local label=$1 config=$2
  (cd "$tests" && S3TEST_CONF="$config" timeout 3600 "$venv/bin/pytest" s3tests/functional/test_s3.py \
     s3tests/functional/test_headers.py -m 'not fails_on_aws' -q -p no:cacheprovider --tb=no \
     --junitxml="$out/s3-compat-$label.xml" > "$out/s3-compat-$label.txt" 2>&1) || true
  python3 - "$label" "$out/s3-compat-$label.xml" <<'PY'
import json, sys, xml.etree.ElementTree as ET
label, path = sys.argv[1:]
status = {}
for tc in ET.parse(path).getroot().iter("testcase"):
    failed = any(ch.tag in ("failure", "error") for ch in tc)
    skipped = any(ch.tag == "skipped" for ch in tc)
    name = tc.get("name")
    if status.get(name) == "failed":
        continue  # an error in teardown after a pass counts against the test
    status[name] = "failed" if failed else "skipped" if skipped else "passed"
counts = {k: sum(1 for v in status.values() if v == k) for k in ("passed", "failed", "skipped")}
print(json.dumps({"server": label, "suite": "ceph/s3-tests, not fails_on_aws", **counts}))
PY
}

# cairn: the first account and two more (cairn accounts create).
data=$(mktemp -d)
port=$(free_port)
"$CAIRN_BIN" serve --data-dir "$data" --listen "127.0.0.1:$port" > "$out/s3-compat-cairn.log" 2>&1 &
pid=$!
wait_port "$port"
keys() { grep -E "AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|CAIRN_ACCOUNT_ID" | sed 's/^export [A-Z_]*=//' | tr '\n' ' '; }
main=$("$CAIRN_BIN" env --data-dir "$data" 2>/dev/null | keys)
alt=$("$CAIRN_BIN" accounts create --data-dir "$data" 2>/dev/null | keys)
tenant=$("$CAIRN_BIN" accounts create --data-dir "$data" 2>/dev/null | keys)
# shellcheck disable=SC2086
conf "$port" $main $alt $tenant > "$out/s3-compat-cairn.conf"
run cairn "$out/s3-compat-cairn.conf" | tee "$out/s3-compat.json"
kill "$pid"; wait "$pid" || true
rm -rf "$data"

# moto_server: any keys (one account, 123456789012).
port=$(free_port)
"$venv/bin/moto_server" -p "$port" > "$out/s3-compat-moto.log" 2>&1 &
pid=$!
wait_port "$port"
conf "$port" AKIAMAIN000000000001 main-secret 123456789012 AKIAALT0000000000002 alt-secret 123456789012 \
  AKIATENANT0000000003 tenant-secret 123456789012 > "$out/s3-compat-moto.conf"
run moto_server "$out/s3-compat-moto.conf" | tee -a "$out/s3-compat.json"
kill "$pid"; wait "$pid" || true
