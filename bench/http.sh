#!/usr/bin/env bash
# HTTP load benchmark: ferropress beside the real WordPress and beside a bare axum handler.
#
#   bench/http.sh [--targets ferropress,postgres,postgres2,wordpress,bare] [--duration SECS]
#                 [--connections N] [--users N] [--posts N] [--many-tokens N] [--wp-posts N]
#                 [--update-docs]
#
# FERROPRESS_BENCH_BIN=path/to/ferropress benchmarks that binary instead of building one
# (to compare two commits in one run).
#
# ferropress (release build, embedded SQLite) is started on loopback with a fresh data dir
# and seeded through its REST API by bench/seed.py (1,000 users, 10,000 posts, a user with
# 1 Application Password and one with 200). `postgres` is the same build on the PostgreSQL
# database FERROPRESS_BENCH_DATABASE_URL (emptied first: every table in its schema is
# dropped), seeded the same way; `postgres2` is two instances on that database, each wrk run
# split in two halves (connections/2 each) hitting one instance each at the same time, as a
# load balancer alternating between them would (requests and percentiles are merged: the
# sum of requests/s, the worse p50/p99). WordPress is a second oracle instance from
# scripts/wordpress-oracle.sh (own state dir and port, so the compatibility suite's oracle
# is left alone), seeded by the same script. The bare handler is benches/bare_axum.rs,
# answering a small JSON object (hello) and, when ferropress ran first, the very bytes
# ferropress answered to B (body: the ceiling B is held to).
# wrk runs each scenario with fixed connections and duration:
#   A  GET /wp-json/wp/v2/posts?per_page=10, anonymous
#   B  the same with Basic Auth (Application Password)
#   C  GET /wp-json/wp/v2/users/me with Basic Auth
#   D  POST /wp-json/wp/v2/posts creating drafts with Basic Auth
#   E  B as the user holding 200 tokens, with the oldest one
#   F  B with a wrong token (throttled per client: mostly 429)
#   G  GET /wp-json/wp/v2/posts?per_page=100&page=N, anonymous, N cycling over 50 pages
#      (the content issue: 100 of 10,000 posts without loading them all; see peak RSS)
# and prints requests/s, p50/p99 latency and the server's peak RSS (VmHWM, reset before
# each scenario) as a Markdown table, then the ratios the performance issue sets targets
# for. --update-docs writes the result into docs/performance.md between its markers.
# Needs: wrk (apt-get install wrk), python3, cargo; WordPress needs root (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TARGETS=ferropress,wordpress,bare
DURATION=10
CONNECTIONS=16
USERS=1000
POSTS=10000
MANY=200
WP_POSTS=
UPDATE_DOCS=0
while (($#)); do
    case $1 in
        --targets) TARGETS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --connections) CONNECTIONS=$2; shift ;;
        --users) USERS=$2; shift ;;
        --posts) POSTS=$2; shift ;;
        --many-tokens) MANY=$2; shift ;;
        --wp-posts) WP_POSTS=$2; shift ;;
        --update-docs) UPDATE_DOCS=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
WP_POSTS=${WP_POSTS:-$POSTS}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

OUT="${CARGO_TARGET_DIR:-$ROOT/target}/bench-http"
rm -rf "$OUT"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    if [[ -n ${WP_BENCH_STARTED:-} ]]; then
        WP_ORACLE_DIR=$WP_DIR WP_ORACLE_PORT=$WP_PORT scripts/wordpress-oracle.sh stop || true
    fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_port PORT [HEALTH_PATH]: until something listens (and, given a path, answers it 200:
# ferropress binds before it has migrated, and answers 503 until it is ready).
wait_port() {
    local i
    for ((i = 0; i < 300; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            [[ -z ${2:-} ]] && return 0
            curl -fs -o /dev/null "http://127.0.0.1:$1$2" && return 0
        fi
        sleep 0.1
    done
    echo "nothing (ready) listens on port $1" >&2
    return 1
}
b64() { printf '%s:%s' "$1" "$2" | base64 -w0; }

# run TARGET SCENARIO URLS METHOD PATH AUTH BODY PIDS...: one wrk run, one JSON result line.
# URLS is one URL, or several separated by spaces: the connections are split between them
# and the wrk runs go at the same time (one instance each), their results merged.
run() {
    local target=$1 scenario=$2 urls=$3 method=$4 path=$5 auth=$6 body=$7
    shift 7
    local p u rss=0 n conns
    local -a list parts=() wrks=()
    read -r -a list <<<"$urls"
    n=${#list[@]}
    conns=$(((CONNECTIONS + n - 1) / n))
    for p in "$@"; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done
    for u in "${list[@]}"; do
        parts+=("$OUT/wrk.$RANDOM.out")
        BENCH_PAGES=${BENCH_PAGES:-} BENCH_METHOD=$method BENCH_PATH=$path BENCH_AUTH=$auth BENCH_BODY=$body \
            wrk -t"$((n > 1 ? 1 : 2))" -c"$conns" -d"${DURATION}s" -s bench/wrk.lua "$u" >"${parts[-1]}" &
        wrks+=($!)
    done
    wait "${wrks[@]}"
    for p in "$@"; do
        rss=$((rss + $(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    python3 - "$target" "$scenario" "$rss" "${parts[@]}" >>"$RESULTS" <<'PY'
import json, sys
target, scenario, rss, *files = sys.argv[1:]
rs = []
for f in files:
    for line in open(f):
        if line.startswith("BENCH_JSON "):
            rs.append(json.loads(line[len("BENCH_JSON "):]))
r = rs[0]
for o in rs[1:]:
    # Runs of the same length at the same time: requests/s add up; latency is the worse one.
    r["requests"] += o["requests"]
    r["seconds"] = max(r["seconds"], o["seconds"])
    r["p50_us"] = max(r["p50_us"], o["p50_us"])
    r["p99_us"] = max(r["p99_us"], o["p99_us"])
    r["errors"] += o["errors"]
    for k, v in o["statuses"].items():
        r["statuses"][k] = r["statuses"].get(k, 0) + v
r.update(target=target, scenario=scenario, rss_kb=int(rss))
print(json.dumps(r))
PY
    rm -f "${parts[@]}"
    echo "  $target $scenario: $(tail -n 1 "$RESULTS")" >&2
}

# scenarios TARGET URL ADMIN_AUTH PIDS...: A-F against a seeded site ($BENCH_* set).
scenarios() {
    local target=$1 url=$2
    shift 2
    local one many wrong list='/wp-json/wp/v2/posts?per_page=10'
    one=$(b64 "$BENCH_ONE_USER" "$BENCH_ONE_TOKEN")
    many=$(b64 "$BENCH_MANY_USER" "$BENCH_MANY_OLDEST_TOKEN")
    wrong=$(b64 "$BENCH_ONE_USER" "abcd efgh ijkl mnop qrst uvwx")
    run "$target" A "$url" GET "$list" "" "" "$@"
    run "$target" B "$url" GET "$list" "$one" "" "$@"
    # B's answer, for the bare handler to serve the same bytes (the fair ceiling).
    [[ $target == ferropress ]] &&
        curl -fsS -H "Authorization: Basic $one" "$url$list" -o "$OUT/b-body.json"
    run "$target" C "$url" GET /wp-json/wp/v2/users/me "$one" "" "$@"
    run "$target" D "$url" POST /wp-json/wp/v2/posts "$one" '{"title":"Bench draft","content":"<p>Draft body.</p>","status":"draft"}' "$@"
    run "$target" E "$url" GET "$list" "$many" "" "$@"
    run "$target" F "$url" GET "$list" "$wrong" "" "$@"
    BENCH_PAGES=50 run "$target" G "$url" GET '/wp-json/wp/v2/posts?per_page=100' "" "" "$@"
}

if [[ -n ${FERROPRESS_BENCH_BIN:-} ]]; then
    # Another build of ferropress (e.g. an older commit's) to compare with in the same run.
    BIN=$FERROPRESS_BENCH_BIN
elif [[ ,$TARGETS, == *,ferropress,* || ,$TARGETS, == *,postgres* || ,$TARGETS, == *,bare,* ]]; then
    echo "building (release)…" >&2
    cargo build --release -j2 --quiet
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/ferropress"
fi

# serve_ferropress DATA ARGS...: starts an instance on a free port; sets PORT, adds to PIDS.
serve_ferropress() {
    local data=$1
    shift
    PORT=$(free_port)
    "$BIN" serve --bind "127.0.0.1:$PORT" --data-dir "$data" "$@" >>"$OUT/ferropress.log" 2>&1 &
    PIDS+=($!)
    wait_port "$PORT" /ferropress/health/ready
}

# seed_ferropress DATA ARGS...: an admin and its token made with the CLI, then the site seeded
# through one instance ($BENCH_* set); the instance is stopped again.
seed_ferropress() {
    local data=$1 admin_token
    shift
    "$BIN" user create admin admin@bench.example --role=administrator --user_pass=bench-admin \
        --data-dir "$data" "$@" >/dev/null
    admin_token=$("$BIN" user application-password create admin bench --porcelain --data-dir "$data" "$@")
    # Seeding makes 1,000 users: the failed-login throttle is not what is measured here,
    # but it stays on (F shows it working).
    serve_ferropress "$data" "$@"
    echo "seeding $data…" >&2
    eval "$(python3 bench/seed.py "http://127.0.0.1:$PORT" admin "$admin_token" \
        --users "$USERS" --posts "$POSTS" --many-tokens "$MANY")"
    # Measured from a fresh start with the seeded data (seeding itself is not the load).
    kill "${PIDS[-1]}"
    wait "${PIDS[-1]}" 2>/dev/null || true
    unset 'PIDS[-1]'
}

if [[ ,$TARGETS, == *,ferropress,* ]]; then
    DATA="$OUT/ferropress-data"
    seed_ferropress "$DATA"
    serve_ferropress "$DATA"
    scenarios ferropress "http://127.0.0.1:$PORT" "${PIDS[-1]}"
    kill "${PIDS[-1]}"
fi

if [[ ,$TARGETS, == *,postgres,* || ,$TARGETS, == *,postgres2,* ]]; then
    PG_URL=${FERROPRESS_BENCH_DATABASE_URL:?the postgres targets need FERROPRESS_BENCH_DATABASE_URL (a database the benchmark may empty)}
    # A fresh database: every table of the schema goes (the migrations make them again).
    psql -qX "$PG_URL" -c 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;' >/dev/null
    seed_ferropress "$OUT/postgres-data" --database-url "$PG_URL"
    if [[ ,$TARGETS, == *,postgres,* ]]; then
        serve_ferropress "$OUT/postgres-data" --database-url "$PG_URL"
        scenarios postgres "http://127.0.0.1:$PORT" "${PIDS[-1]}"
        kill "${PIDS[-1]}"
    fi
    if [[ ,$TARGETS, == *,postgres2,* ]]; then
        serve_ferropress "$OUT/postgres-data" --database-url "$PG_URL"
        URL1="http://127.0.0.1:$PORT"
        serve_ferropress "$OUT/postgres-data-2" --database-url "$PG_URL"
        scenarios postgres2 "$URL1 http://127.0.0.1:$PORT" "${PIDS[-2]}" "${PIDS[-1]}"
        kill "${PIDS[-2]}" "${PIDS[-1]}"
    fi
fi

if [[ ,$TARGETS, == *,bare,* ]]; then
    BARE=$(cargo bench -j2 --no-run --bench bare_axum --message-format=json 2>/dev/null |
        python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "bare_axum" and m.get("executable"):
        print(m["executable"])')
    PORT=$(free_port)
    "$BARE" --serve "127.0.0.1:$PORT" &
    PIDS+=($!)
    wait_port "$PORT"
    run bare hello "http://127.0.0.1:$PORT" GET / "" "" "${PIDS[-1]}"
    kill "${PIDS[-1]}"
    if [[ -s $OUT/b-body.json ]]; then
        PORT=$(free_port)
        "$BARE" --serve "127.0.0.1:$PORT" --body "$OUT/b-body.json" &
        PIDS+=($!)
        wait_port "$PORT"
        run bare body "http://127.0.0.1:$PORT" GET /body "" "" "${PIDS[-1]}"
        kill "${PIDS[-1]}"
    fi
fi

if [[ ,$TARGETS, == *,wordpress,* ]]; then
    WP_DIR=${WP_BENCH_DIR:-/tmp/wp-bench}
    WP_PORT=${WP_BENCH_PORT:-8882}
    WP_BENCH_STARTED=1
    WP_ORACLE_DIR=$WP_DIR WP_ORACLE_PORT=$WP_PORT scripts/wordpress-oracle.sh start
    eval "$(WP_ORACLE_DIR=$WP_DIR WP_ORACLE_PORT=$WP_PORT scripts/wordpress-oracle.sh env)"
    echo "seeding WordPress (once per state dir)…" >&2
    if [[ ! -s $WP_DIR/bench-seeded.env ]]; then
        python3 bench/seed.py "$WP_ORACLE_URL" "$WP_ORACLE_ADMIN_USER" "$WP_ORACLE_ADMIN_APP_PASSWORD" \
            --users "$USERS" --posts "$WP_POSTS" --many-tokens "$MANY" >"$WP_DIR/bench-seeded.env.tmp"
        mv "$WP_DIR/bench-seeded.env.tmp" "$WP_DIR/bench-seeded.env"
    fi
    eval "$(cat "$WP_DIR/bench-seeded.env")"
    # Every process serving it: Apache's and MariaDB's (their RSS is summed).
    mapfile -t WP_PIDS < <(pgrep -f "$WP_DIR/apache2.conf"; pgrep -f "datadir=$WP_DIR/mysql")
    scenarios wordpress "$WP_ORACLE_URL" "${WP_PIDS[@]}"
fi

DOCS=()
((UPDATE_DOCS)) && DOCS=(--update-docs docs/performance.md)
python3 bench/report.py "$RESULTS" --connections "$CONNECTIONS" --duration "$DURATION" \
    --data "users=$USERS posts=$POSTS tokens=1/$MANY wp_posts=$WP_POSTS" "${DOCS[@]}" |
    tee "$OUT/report.md"
