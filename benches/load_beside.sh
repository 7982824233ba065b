#!/usr/bin/env bash
# `cairn bench load` against several cairn builds side by side in one run, with the machine's
# ceiling (`--floor`) in every round: each round starts every build on a fresh data directory in
# turn, loads it with the same client (the first build's), stops it, then measures the floor.
# Prints one JSON line per measurement. A shared machine drifts between minutes: compare the
# figures of one round with each other, and take the median of the rounds' ratios.
#
#   benches/load_beside.sh LABEL=PATH/TO/cairn [LABEL=PATH ...]
#   ROUNDS=3 SECONDS_PER_RUN=10 CONNECTIONS=64 benches/load_beside.sh previous=/tmp/prev/cairn this=target/release/cairn
#
# The first build given is also the load generator. Build each one with
# `cargo build --release -p cairn` at its own commit (a `git worktree` per commit).
set -euo pipefail
rounds=${ROUNDS:-2}
seconds=${SECONDS_PER_RUN:-10}
connections=${CONNECTIONS:-64}
[ $# -ge 1 ] || { sed -n 2,9p "$0" >&2; exit 2; }

client=${1#*=}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

for round in $(seq "$rounds"); do
  for spec in "$@"; do
    label=${spec%%=*}
    bin=${spec#*=}
    data=$(mktemp -d)
    port=$(free_port)
    "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" > "$data.log" 2>&1 &
    pid=$!
    wait_port "$port"
    ( eval "$("$bin" env --data-dir "$data")"
      "$client" bench load --label "$label" --connections "$connections" --duration "$seconds" \
        --server-pid "$pid" --json ) | sed "s/^{/{\"round\":$round,/"
    kill "$pid"
    wait "$pid" || true
    rm -rf "$data" "$data.log"
  done
  "$client" bench load --floor --label floor --connections "$connections" --duration "$seconds" \
    --json | sed "s/^{/{\"round\":$round,/"
done
