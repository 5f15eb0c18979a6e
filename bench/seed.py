#!/usr/bin/env python3
"""Seed a WordPress-compatible site through its REST API for bench/http.sh.

    python3 bench/seed.py URL ADMIN_LOGIN ADMIN_APP_PASSWORD [--users N] [--posts N]
                          [--many-tokens N] [--workers N] > seeded.env

The same requests go to ferropress and to the real WordPress, so both hold the same data:
N users (authors), N published posts spread over them, one author `bench_one` with one
Application Password and one author `bench_many` holding --many-tokens of them. Prints
shell exports: BENCH_ONE_USER/TOKEN, BENCH_MANY_USER/OLDEST_TOKEN. Standard library only.
Re-running adds what is missing (users are looked up by login first).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

LOCAL = threading.local()


class Api:
    def __init__(self, base: str, user: str, password: str):
        self.url = urllib.parse.urlsplit(base)
        cred = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {cred}", "Content-Type": "application/json"}

    def conn(self) -> http.client.HTTPConnection:
        c = getattr(LOCAL, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.url.hostname, self.url.port or 80, timeout=120)
            LOCAL.conn = c
        return c

    def call(self, method: str, path: str, body=None, ok=(200, 201)):
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(3):
            c = self.conn()
            try:
                c.request(method, f"{self.url.path.rstrip('/')}/wp-json{path}", data, self.headers)
                r = c.getresponse()
                raw = r.read()
            except (OSError, http.client.HTTPException):
                c.close()
                LOCAL.conn = None
                if attempt == 2:
                    raise
                continue
            if r.status not in ok:
                raise SystemExit(f"{method} {path}: {r.status} {raw[:300]!r}")
            return json.loads(raw) if raw else None
        raise AssertionError("unreachable")


def progress(label: str, done: int, total: int) -> None:
    if done == total or done % 500 == 0:
        print(f"  {label}: {done}/{total}", file=sys.stderr, flush=True)


def user(api: Api, login: str) -> int:
    found = api.call("GET", f"/wp/v2/users?search={login}&context=edit&per_page=100")
    for u in found:
        if u["username"] == login:
            return u["id"]
    return api.call("POST", "/wp/v2/users", {
        "username": login, "email": f"{login}@bench.example", "password": f"pw-{login}-bench",
        "roles": ["author"],
    })["id"]


def token(api: Api, user_id: int, name: str) -> str:
    return api.call("POST", f"/wp/v2/users/{user_id}/application-passwords", {"name": name})[
        "password"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("admin")
    ap.add_argument("password")
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--many-tokens", type=int, default=200)
    ap.add_argument("--workers", type=int, default=4)
    a = ap.parse_args()
    api = Api(a.url, a.admin, a.password)
    started = time.monotonic()

    # Users: the two token holders first, then the rest up to --users.
    one, many = user(api, "bench_one"), user(api, "bench_many")
    existing = api.call("GET", "/wp/v2/users?per_page=1&context=edit")  # warm connection
    del existing
    logins = [f"bench_user_{i:04}" for i in range(max(0, a.users - 2))]
    ids = [one, many]
    with ThreadPoolExecutor(a.workers) as pool:
        for n, uid in enumerate(pool.map(lambda login: user(api, login), logins), 1):
            ids.append(uid)
            progress("users", n, len(logins))

    # Posts: published, authored round-robin, with a paragraph of content each.
    body = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8 + "</p>"

    def post(i: int) -> None:
        api.call("POST", "/wp/v2/posts", {
            "title": f"Bench post {i}", "content": body, "excerpt": f"Excerpt {i}",
            "status": "publish", "author": ids[i % len(ids)],
        })

    with ThreadPoolExecutor(a.workers) as pool:
        for n, _ in enumerate(pool.map(post, range(a.posts)), 1):
            progress("posts", n, a.posts)

    # Tokens: the oldest of bench_many's is the one the bench uses (a scan would find the
    # newest first, so a cost that grows with the count would show).
    one_token = token(api, one, "bench")
    oldest = token(api, many, "bench-0")
    with ThreadPoolExecutor(a.workers) as pool:
        for n, _ in enumerate(pool.map(lambda i: token(api, many, f"bench-{i}"),
                                       range(1, a.many_tokens)), 1):
            progress("tokens", n, a.many_tokens - 1)

    print(f"  seeded in {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(f"export BENCH_ONE_USER=bench_one BENCH_ONE_TOKEN='{one_token}'")
    print(f"export BENCH_MANY_USER=bench_many BENCH_MANY_OLDEST_TOKEN='{oldest}'")


if __name__ == "__main__":
    main()
