#!/usr/bin/env python3
"""25 post creations: one `POST /batch/v1` against 25 `POST /wp/v2/posts`, on one
keep-alive connection each, against a fresh ferropress (SQLite) started here.

    python3 bench/batch.py target/debug/ferropress [rounds]

Prints the median wall time of each way over `rounds` (default 5) and their ratio."""
import base64, http.client, json, os, socket, statistics, subprocess, sys, tempfile, time

binary = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
data = tempfile.mkdtemp(prefix="fp-batch-bench-")

def cli(*args):
    return subprocess.run([binary, "--data-dir", data, *args], check=True,
                          capture_output=True, text=True).stdout.strip()

cli("user", "create", "bench", "bench@example.com", "--role=administrator",
    "--user_pass=bench-password-1", "--porcelain")
token = cli("user", "application-password", "create", "bench", "bench", "--porcelain")
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
server = subprocess.Popen([binary, "--data-dir", data, "serve", "--bind", f"127.0.0.1:{port}",
                           "--environment", "local"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
auth = "Basic " + base64.b64encode(f"bench:{token}".encode()).decode()
headers = {"Authorization": auth, "Content-Type": "application/json"}
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)

    def post(conn, path, body):
        conn.request("POST", "/wp-json" + path, body=json.dumps(body), headers=headers)
        r = conn.getresponse()
        r.read()
        return r.status

    def separate(n):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        t = time.perf_counter()
        for i in range(25):
            assert post(conn, "/wp/v2/posts", {"title": f"s{n}-{i}", "status": "publish"}) == 201
        return time.perf_counter() - t

    def batched(n):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        reqs = [{"path": "/wp/v2/posts", "body": {"title": f"b{n}-{i}", "status": "publish"}}
                for i in range(25)]
        t = time.perf_counter()
        assert post(conn, "/batch/v1", {"requests": reqs}) == 207
        return time.perf_counter() - t

    separate(-1), batched(-1)  # warm up
    a = [separate(n) for n in range(rounds)]
    b = [batched(n) for n in range(rounds)]
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"25 separate requests: {ma*1000:.1f} ms (median of {rounds})")
    print(f"one batch of 25:      {mb*1000:.1f} ms (median of {rounds})")
    print(f"separate / batch:     {ma/mb:.2f}")
finally:
    server.terminate()
    server.wait()
