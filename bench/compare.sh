#!/usr/bin/env bash
# Two (or more) builds of ferropress side by side, in one run, under bench/http.sh's load.
#
#   bench/compare.sh [--scenarios A,B,C,D,G] [--rounds N] [--duration SECS]
#                    [--connections N] [--users N] [--posts N] NAME=BINARY NAME=BINARY...
#
# e.g. bench/compare.sh --scenarios B,G old=/work/reltarget-old/release/ferropress \
#          new=target/release/ferropress
#
# Each build seeds its own data dir through its REST API (bench/seed.py, the same data),
# then all builds serve at the same time, and for every round and
# scenario each build gets one wrk run, in alternating order (first to last on even rounds,
# last to first on odd ones), so that the machine's drift over the run (it is shared and
# noisy) falls on all of them alike. The scenarios are bench/http.sh's (same wrk.lua). It
# prints requests/s per run and, per scenario, each build's median and its ratio to the
# first build's median.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIOS=A,B,C,D,G
ROUNDS=3
DURATION=10
CONNECTIONS=16
USERS=100
POSTS=5000
BUILDS=()
while (($#)); do
    case $1 in
        --scenarios) SCENARIOS=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --connections) CONNECTIONS=$2; shift ;;
        --users) USERS=$2; shift ;;
        --posts) POSTS=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *=*) BUILDS+=("$1") ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
((${#BUILDS[@]} >= 2)) || { echo "give at least two NAME=BINARY" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

OUT=$(mktemp -d /tmp/ferropress-compare.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$OUT"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Ready: /ferropress/health/ready answers 200 (builds older than it: /wp-json/ does).
wait_ready() {
    local i code
    for ((i = 0; i < 600; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/ferropress/health/ready" || true)
        [[ $code == 200 ]] && return 0
        [[ $code == 404 ]] && curl -fs -o /dev/null "http://127.0.0.1:$1/wp-json/" && return 0
        sleep 0.1
    done
    echo "ferropress on port $1 never became ready" >&2
    return 1
}
b64() { printf '%s:%s' "$1" "$2" | base64 -w0; }
serve() { # BIN DATA: starts an instance; sets PORT, adds to PIDS
    PORT=$(free_port)
    "$1" serve --bind "127.0.0.1:$PORT" --data-dir "$2" >>"$OUT/server.log" 2>&1 &
    PIDS+=($!)
    wait_ready "$PORT"
}

# Each build seeds its own data dir the same way (bench/seed.py), so each serves a
# database its own migrations made; then all serve at once.
URLS=()
AUTHS=()
for i in "${!BUILDS[@]}"; do
    bin=${BUILDS[$i]#*=}
    data=$OUT/data-$i
    "$bin" user create admin admin@bench.example --role=administrator --user_pass=bench-admin \
        --data-dir "$data" >/dev/null
    admin_token=$("$bin" user application-password create admin bench --porcelain --data-dir "$data")
    serve "$bin" "$data"
    echo "seeding ${BUILDS[$i]%%=*} ($USERS users, $POSTS posts)…" >&2
    eval "$(python3 bench/seed.py "http://127.0.0.1:$PORT" admin "$admin_token" \
        --users "$USERS" --posts "$POSTS" --many-tokens 2)"
    # Measured from a fresh start with the seeded data.
    kill "${PIDS[-1]}"
    wait "${PIDS[-1]}" 2>/dev/null || true
    unset 'PIDS[-1]'
    serve "$bin" "$data"
    URLS+=("http://127.0.0.1:$PORT")
    AUTHS+=("$(b64 "$BENCH_ONE_USER" "$BENCH_ONE_TOKEN")")
done

list='/wp-json/wp/v2/posts?per_page=10'
draft='{"title":"Bench draft","content":"<p>Draft body.</p>","status":"draft"}'
scenario() { # LETTER BUILD -> METHOD PATH_ AUTH BODY PAGES in globals
    local one=${AUTHS[$2]}
    PAGES=
    case $1 in
        A) METHOD=GET PATH_=$list AUTH= BODY= ;;
        B) METHOD=GET PATH_=$list AUTH=$one BODY= ;;
        C) METHOD=GET PATH_=/wp-json/wp/v2/users/me AUTH=$one BODY= ;;
        D) METHOD=POST PATH_=/wp-json/wp/v2/posts AUTH=$one BODY=$draft ;;
        G) METHOD=GET PATH_='/wp-json/wp/v2/posts?per_page=100' AUTH= BODY= PAGES=50 ;;
        *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
}

RESULTS=$OUT/results.tsv
: >"$RESULTS"
IFS=, read -r -a LETTERS <<<"$SCENARIOS"
for ((r = 0; r < ROUNDS; r++)); do
    order=("${!BUILDS[@]}")
    if ((r % 2)); then
        mapfile -t order < <(printf '%s\n' "${order[@]}" | tac)
    fi
    for s in "${LETTERS[@]}"; do
        for i in "${order[@]}"; do
            scenario "$s" "$i"
            line=$(BENCH_PAGES=$PAGES BENCH_METHOD=$METHOD BENCH_PATH=$PATH_ BENCH_AUTH=$AUTH \
                BENCH_BODY=$BODY wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/wrk.lua \
                "${URLS[$i]}" | sed -n 's/^BENCH_JSON //p')
            rps=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); ok=sum(v for k,v in r["statuses"].items() if k.startswith("2")); print(round(ok / r["seconds"]))' "$line")
            printf '%s\t%s\t%s\t%s\n' "$r" "$s" "${BUILDS[$i]%%=*}" "$rps" | tee -a "$RESULTS" >&2
        done
    done
done

python3 - "$RESULTS" "${BUILDS[@]%%=*}" <<'PY'
import statistics, sys
path, *names = sys.argv[1:]
rows = [l.split("\t") for l in open(path).read().splitlines()]
scen = list(dict.fromkeys(r[1] for r in rows))
print(f"| scenario | " + " | ".join(f"{n} req/s (median)" for n in names)
      + " | " + " | ".join(f"{n} / {names[0]}" for n in names[1:]) + " |")
print("|---|" + "---:|" * (2 * len(names) - 1))
for s in scen:
    med = {n: statistics.median(float(r[3]) for r in rows if r[1] == s and r[2] == n) for n in names}
    cells = [f"{med[n]:,.0f}" for n in names]
    cells += [f"{med[n] / med[names[0]]:.2f}" if med[names[0]] else "-" for n in names[1:]]
    print(f"| {s} | " + " | ".join(cells) + " |")
PY
