#!/usr/bin/env bash
# CPU time per request of one or more builds of ferropress (and of the bare handler), which
# is steadier than requests/s on a shared machine (docs/performance.md).
#
#   bench/cpu.sh [--scenarios A,B] [--rounds N] [--seconds S] [--bare BINARY]
#                NAME=BINARY [NAME=BINARY...]
#
# Seeds one data dir with the first build (bench/seed.py: 20 users, 200 posts, the token
# user of bench/http.sh), gives every build a copy, serves them all, and per round, scenario
# and build (order alternating every round): wrk -t1 -c8 for 1 s of warm-up, then S seconds
# (default 4) during which the server's utime+stime (/proc/PID/stat) is read before and after;
# prints µs of server CPU per request, and each build's median. --bare serves B's body from
# benches/bare_axum.rs (its executable) as a target too (scenario B only).
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIOS=B
ROUNDS=3
SECONDS_RUN=4
BARE=
BUILDS=()
while (($#)); do
    case $1 in
        --scenarios) SCENARIOS=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --seconds) SECONDS_RUN=$2; shift ;;
        --bare) BARE=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *=*) BUILDS+=("$1") ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
((${#BUILDS[@]} >= 1)) || { echo "give at least one NAME=BINARY" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

OUT=$(mktemp -d /tmp/ferropress-cpu.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$OUT"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {
    local i
    for ((i = 0; i < 600; i++)); do
        curl -fs -o /dev/null "http://127.0.0.1:$1${2:-/ferropress/health/ready}" && return 0
        sleep 0.1
    done
    echo "port $1 never became ready" >&2
    return 1
}
b64() { printf '%s:%s' "$1" "$2" | base64 -w0; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

first=${BUILDS[0]#*=}
seed=$OUT/seed
admin=$("$first" user create admin admin@bench.example --role=administrator --user_pass=bench-admin \
    --data-dir "$seed" >/dev/null && "$first" user application-password create admin bench --porcelain --data-dir "$seed")
port=$(free_port)
"$first" serve --bind "127.0.0.1:$port" --data-dir "$seed" >>"$OUT/seed.log" 2>&1 &
PIDS+=($!)
wait_ready "$port"
eval "$(python3 bench/seed.py "http://127.0.0.1:$port" admin "$admin" --users 20 --posts 200 --many-tokens 2)"
kill "${PIDS[-1]}"
wait "${PIDS[-1]}" 2>/dev/null || true
unset 'PIDS[-1]'
one=$(b64 "$BENCH_ONE_USER" "$BENCH_ONE_TOKEN")
list='/wp-json/wp/v2/posts?per_page=10'

NAMES=() PORTS=() SPIDS=()
for b in "${BUILDS[@]}"; do
    name=${b%%=*} bin=${b#*=}
    cp -a "$seed" "$OUT/data-$name"
    port=$(free_port)
    "$bin" serve --bind "127.0.0.1:$port" --data-dir "$OUT/data-$name" >"$OUT/$name.log" 2>&1 &
    PIDS+=($!)
    NAMES+=("$name") PORTS+=("$port") SPIDS+=($!)
    wait_ready "$port"
done
if [[ -n $BARE ]]; then
    curl -fsS -H "Authorization: Basic $one" "http://127.0.0.1:${PORTS[0]}$list" -o "$OUT/b-body.json"
    port=$(free_port)
    "$BARE" --serve "127.0.0.1:$port" --body "$OUT/b-body.json" &
    PIDS+=($!)
    NAMES+=(bare) PORTS+=("$port") SPIDS+=($!)
    wait_ready "$port" /body
fi

hz=$(getconf CLK_TCK)
RES=$OUT/results
: >"$RES"
# measure NAME PORT PID SCENARIO
measure() {
    local name=$1 port=$2 pid=$3 sc=$4 path=$list auth=
    [[ $sc == B ]] && auth=$one
    [[ $name == bare ]] && { [[ $sc == B ]] || return 0; path=/body; auth=; }
    BENCH_PATH=$path BENCH_AUTH=$auth wrk -t1 -c8 -d1s -s bench/wrk.lua "http://127.0.0.1:$port" >/dev/null
    local before after out reqs
    before=$(ticks "$pid")
    out=$(BENCH_PATH=$path BENCH_AUTH=$auth wrk -t1 -c8 -d"${SECONDS_RUN}s" -s bench/wrk.lua "http://127.0.0.1:$port")
    after=$(ticks "$pid")
    reqs=$(sed -n 's/^BENCH_JSON .*"requests":\([0-9]*\).*/\1/p' <<<"$out")
    python3 -c "import sys; n,s,t,hz,r=sys.argv[1:]; r=int(r); print(n, s, round((int(t)/int(hz))*1e6/max(r,1), 2), r)" \
        "$name" "$sc" "$((after - before))" "$hz" "$reqs" | tee -a "$RES"
}
n=${#NAMES[@]}
for ((round = 0; round < ROUNDS; round++)); do
    for sc in ${SCENARIOS//,/ }; do
        for ((k = 0; k < n; k++)); do
            i=$((round % 2 ? n - 1 - k : k))
            measure "${NAMES[$i]}" "${PORTS[$i]}" "${SPIDS[$i]}" "$sc"
        done
    done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RES" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for name, sc, us, reqs in rows:
    by.setdefault((sc, name), []).append(float(us))
print("| scenario | build | µs CPU per request (median) | runs |")
print("|---|---|---:|---|")
for (sc, name), v in by.items():
    print(f"| {sc} | {name} | {statistics.median(v):.2f} | {', '.join(f'{x:.2f}' for x in v)} |")
PY
