#!/usr/bin/env python3
"""Login-flood measurements for bench/flood.sh (issue 14, findings 2 and 6).

    python3 bench/flood.py URL --login VICTIM --honest-login USER --honest-password PASS
                           --token-user USER --token TOKEN
                           [--in-flight 250] [--seconds 8] [--parallel 40] [--rounds 5]

The server must trust 127.0.0.1 as a proxy (--trusted-proxy 127.0.0.1), so that each request
can say which client address it comes from (X-Forwarded-For). Standard library only; every
loop is bounded by a deadline or a count, so the script stops by itself.

1. Parallel guesses: --parallel wrong Basic-auth requests at once from one address, then as
   many wrong login posts for VICTIM: how many were checked (401 / 200 form) vs refused (429).
2. Idle: honest-login latency (USER's correct password, own address) and honest-token
   latency (Application Password on users/me).
3. The same two under a flood of --in-flight bad login posts for VICTIM kept in flight for
   --seconds, (a) all from one address, (b) each from a fresh address (a botnet).
Prints one JSON object per line and a Markdown summary.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import statistics
import threading
import time
import urllib.parse


def post_login(conn_args, ip: str, log: str, pwd: str):
    body = urllib.parse.urlencode({"log": log, "pwd": pwd})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Forwarded-For": ip,
    }
    return request(conn_args, "POST", "/wp-login.php", body, headers)


def get_me(conn_args, ip: str, user: str, token: str):
    cred = base64.b64encode(f"{user}:{token}".encode()).decode()
    headers = {"Authorization": f"Basic {cred}", "X-Forwarded-For": ip}
    return request(conn_args, "GET", "/wp-json/wp/v2/users/me", None, headers)


def request(conn_args, method, path, body, headers):
    """One request on a fresh connection: (status, seconds). Status 0: transport error."""
    host, port = conn_args
    start = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=90)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        status = resp.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return status, time.perf_counter() - start


def parallel(conn_args, n, fn):
    """Runs fn(i) n times at once (a barrier releases them together): statuses by count."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        barrier.wait()
        results[i] = fn(i)[0]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    counts = {}
    for s in results:
        counts[s] = counts.get(s, 0) + 1
    return counts


def honest(conn_args, args, rounds):
    """Sequential honest requests: login (with its status) and token latencies."""
    login, token = [], []
    for i in range(rounds):
        status, secs = post_login(conn_args, "10.50.0.1", args.honest_login, args.honest_password)
        login.append((status, secs))
        status, secs = get_me(conn_args, "10.50.0.2", args.token_user, args.token)
        token.append((status, secs))
        time.sleep(0.1)
    return login, token


def summary(samples, ok):
    good = [s for st, s in samples if st in ok]
    return {
        "n": len(samples),
        "ok": len(good),
        "statuses": sorted({st for st, _ in samples}),
        "median_ms": round(statistics.median(good) * 1000, 1) if good else None,
        "max_ms": round(max(good) * 1000, 1) if good else None,
        "all_ms": [round(s * 1000, 1) for _, s in samples],
    }


def attack(conn_args, login, in_flight, seconds, mode, results):
    """The attacker, in a process of its own (so its threads do not hold up the honest
    client's measurements through the GIL): in_flight bad logins kept in flight."""
    stop = time.monotonic() + seconds
    counts = {}
    lock = threading.Lock()
    seq = [0]

    def attacker(i):
        while time.monotonic() < stop:
            if mode == "one-ip":
                ip = "10.60.0.1"
            else:
                with lock:
                    seq[0] += 1
                    n = seq[0]
                ip = f"10.{100 + n // 65536 % 100}.{n // 256 % 256}.{n % 256}"
            status, _ = post_login(conn_args, ip, login, f"wrong-{i}")
            with lock:
                counts[status] = counts.get(status, 0) + 1

    threads = [threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(in_flight)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, stop - time.monotonic()) + 90)
    results.put(counts)


def flood(conn_args, args, mode):
    """Keeps args.in_flight bad logins in flight for args.seconds; measures honest ones."""
    results = multiprocessing.Queue()
    proc = multiprocessing.Process(
        target=attack, args=(conn_args, args.login, args.in_flight, args.seconds, mode, results)
    )
    proc.start()
    time.sleep(1.0)  # let the flood build up
    login, token = honest(conn_args, args, args.rounds)
    # Time until an honest login succeeds, retrying at once on 503 (bounded).
    start = time.perf_counter()
    first_ok = None
    for _ in range(200):
        status, _ = post_login(conn_args, "10.50.0.3", args.honest_login, args.honest_password)
        if status in (302, 303):
            first_ok = time.perf_counter() - start
            break
        time.sleep(0.05)
    counts = results.get(timeout=args.seconds + 120)
    proc.join(30)
    return login, token, first_ok, counts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--login", required=True)
    p.add_argument("--honest-login", required=True)
    p.add_argument("--honest-password", required=True)
    p.add_argument("--token-user", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--in-flight", type=int, default=250)
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--parallel", type=int, default=40)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--modes", default="one-ip,many-ip")
    args = p.parse_args()
    u = urllib.parse.urlsplit(args.url)
    conn_args = (u.hostname, u.port or 80)
    out = {}

    cred_user = args.token_user
    out["parallel_basic"] = parallel(
        conn_args, args.parallel, lambda i: get_me(conn_args, "10.70.0.1", cred_user, f"wrong {i}")
    )
    out["parallel_login"] = parallel(
        conn_args, args.parallel, lambda i: post_login(conn_args, "10.70.0.2", args.login, f"wrong {i}")
    )
    print(json.dumps({"parallel_basic": out["parallel_basic"], "parallel_login": out["parallel_login"]}), flush=True)

    login, token = honest(conn_args, args, args.rounds)
    out["idle"] = {"login": summary(login, (302, 303)), "token": summary(token, (200,))}
    print(json.dumps({"idle": out["idle"]}), flush=True)

    for mode in args.modes.split(","):
        login, token, first_ok, counts = flood(conn_args, args, mode)
        out[mode] = {
            "login": summary(login, (302, 303)),
            "token": summary(token, (200,)),
            "login_success_after_ms": round(first_ok * 1000, 1) if first_ok is not None else None,
            "flood_statuses": counts,
        }
        print(json.dumps({mode: out[mode]}), flush=True)
        time.sleep(2)

    idle_login = out["idle"]["login"]["median_ms"]
    idle_token = out["idle"]["token"]["median_ms"]
    print()
    print(f"| measurement | result |")
    print(f"|---|---|")
    for key in ("parallel_basic", "parallel_login"):
        print(f"| {args.parallel} parallel wrong guesses, {key.split('_')[1]}: answers by status | {out[key]} |")
    print(f"| honest login, idle (median) | {idle_login} ms, each {out['idle']['login']['all_ms']} |")
    print(f"| honest token, idle (median) | {idle_token} ms, each {out['idle']['token']['all_ms']} |")
    for mode in args.modes.split(","):
        r = out[mode]
        for kind, idle in (("login", idle_login), ("token", idle_token)):
            m, x = r[kind]["median_ms"], r[kind]["max_ms"]
            ratio = f"{m / idle:.1f}x / {x / idle:.1f}x idle" if m and idle else "n/a"
            print(f"| flood {mode} ({args.in_flight} in flight): honest {kind} median / max | {m} / {x} ms "
                  f"({ratio}); {r[kind]['ok']}/{r[kind]['n']} ok first time, statuses {r[kind]['statuses']}, "
                  f"each {r[kind]['all_ms']} |")
        print(f"| flood {mode}: honest login succeeds after (retrying at once on 503) | {r['login_success_after_ms']} ms |")
        print(f"| flood {mode}: attacker answers by status | {r['flood_statuses']} |")


if __name__ == "__main__":
    main()
