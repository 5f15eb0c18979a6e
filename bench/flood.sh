#!/usr/bin/env bash
# Login-flood benchmark (issue 14, findings 2 and 6): a release build on loopback.
#
#   bench/flood.sh [--bin PATH] [--in-flight N] [--seconds S] [--parallel N] [--modes one-ip,many-ip]
#                  [-- extra serve flags, e.g. --cpu-workers 2 --cpu-queue 64]
#
# Starts `ferropress serve` (release, fresh data dir, --trusted-proxy 127.0.0.1 so the load
# generator can give each request a client address in X-Forwarded-For), creates the attacked
# user `victim` and an honest `author` (account password and an Application Password), then
# runs bench/flood.py:
#   - 40 wrong Basic-auth guesses and 40 wrong login posts sent at once from one address:
#     how many were checked (401 / 200) vs refused (429); the burst is 5;
#   - honest-login and honest-token latency idle, then under 250 bad login posts kept in
#     flight for 8 s, from one address and from a fresh address per request (a botnet);
#     the ratio under flood / idle is printed.
# Everything is bounded (fixed counts and deadlines) and the server is stopped at the end.
# --bin measures another binary (e.g. a release build of an older commit) the same way.
# Needs: python3, cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BIN=
IN_FLIGHT=250
SECONDS_=8
PARALLEL=40
MODES=one-ip,many-ip
EXTRA=()
while (($#)); do
    case $1 in
        --bin) BIN=$2; shift ;;
        --in-flight) IN_FLIGHT=$2; shift ;;
        --seconds) SECONDS_=$2; shift ;;
        --parallel) PARALLEL=$2; shift ;;
        --modes) MODES=$2; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if [[ -z $BIN ]]; then
    echo "building (release)…" >&2
    nice -n 10 cargo build --release -j2 --quiet
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/ferropress"
fi

OUT="${CARGO_TARGET_DIR:-$ROOT/target}/bench-flood"
rm -rf "$OUT"
mkdir -p "$OUT"
DATA="$OUT/data"
SERVER=
cleanup() { [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

# Open files: 250 in flight plus the honest ones need more than a default of 256 or 1024.
ulimit -n 4096 2>/dev/null || true

"$BIN" user create victim victim@bench.example --role=author --user_pass=victim-password \
    --data-dir "$DATA" >/dev/null
"$BIN" user create author author@bench.example --role=author --user_pass=author-password \
    --data-dir "$DATA" >/dev/null
TOKEN=$("$BIN" user application-password create author bench --porcelain --data-dir "$DATA")
PORT=$(free_port)
"$BIN" serve --bind "127.0.0.1:$PORT" --data-dir "$DATA" --trusted-proxy 127.0.0.1 "${EXTRA[@]}" \
    >"$OUT/ferropress.log" 2>&1 &
SERVER=$!
wait_port "$PORT"
echo "binary: $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') checked out)" >&2
echo "machine: $(nproc) cores; flags: ${EXTRA[*]:-(defaults)}" >&2
python3 bench/flood.py "http://127.0.0.1:$PORT" --login victim \
    --honest-login author --honest-password author-password --token-user author --token "$TOKEN" \
    --in-flight "$IN_FLIGHT" --seconds "$SECONDS_" --parallel "$PARALLEL" --modes "$MODES" |
    tee "$OUT/report.txt"
echo "peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$SERVER/status")" | tee -a "$OUT/report.txt"
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true
SERVER=
