#!/usr/bin/env python3
"""Compatibility suite: run the same request scenarios against ferropress and a real
WordPress (the oracle from scripts/wordpress-oracle.sh) and diff what a client can see.

    python3 compat/run.py [--ferropress BIN] [--wordpress URL] [--only PATTERN] [--verbose]

Standard library only. Scenario files: compat/scenarios/*.json (see compat/README.md).
Compared per step: status code, error `code` and `data.status`, a few headers (X-WP-Total /
X-WP-TotalPages presence, Allow, Link rel names, Content-Type main type, Location presence)
and the JSON shape (key paths with JSON types). Messages and volatile values are not compared.
Exit status 1 when a scenario differs without a documented reason, or on a harness error.

`--suite phpunit` runs compat/phpunit/*.json instead: WordPress's PHPUnit cases ported to
HTTP (compat/phpunit/README.md), each step's `expect` (the upstream assertions) checked on
every target, and with `--no-oracle` against ferropress alone (what `cargo test` runs).
"""

from __future__ import annotations

import argparse
import fcntl
import base64
import fnmatch
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid as uuidlib
import xml.parsers.expat
import xmlrpc.client
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = ROOT / "compat" / "scenarios"
COMPAT_DOC = ROOT / "docs" / "compat.md"

ROLES = ["admin", "editor", "author", "contributor", "subscriber"]
WP_ROLE = {"admin": "administrator", "editor": "editor", "author": "author",
           "contributor": "contributor", "subscriber": "subscriber"}
# Scratch principals, made per run on both targets for destructive scenarios (revoke all):
# `scratch_<role>`, `scratch2_<role>`, … (each a separate user).
SCRATCH_RE = re.compile(r"(scratch\w*)_(" + "|".join(ROLES) + ")")

# Documented shape differences that hold on every route (docs/compat.md anchors):
# fields only ferropress has (shape-path glob -> anchor) and allowed type pairs.
# A scenario whose only differences are these is reported as "documented".
EXTRA_FIELDS = {
    "*.last_user_agent": "extra-last-user-agent",
    "*.expires": "token-expiry-scopes",
    "*.scopes": "token-expiry-scopes",
    "*.class_list": "newer-wordpress-fields",
    "*.meta.footnotes": "newer-wordpress-fields",
    "*.meta.properties.footnotes": "newer-wordpress-fields",  # the same in OPTIONS schemas
    ".page_for_posts": "newer-wordpress-fields",
    ".page_on_front": "newer-wordpress-fields",
    ".show_on_front": "newer-wordpress-fields",
    # The settings route's value, and its argument and property in the OPTIONS schema.
    "*.page_for_privacy_policy": "settings-privacy-policy-page",
    # Read arguments of the current source (posts/pages OPTIONS and the index).
    "*.args.search_columns": "newer-rest-args",
    "*.args.search_semantics": "newer-rest-args",
    "*.args.ignore_sticky": "newer-rest-args",
    "*.args.format": "newer-rest-args",
    "*.args.excerpt_length": "newer-rest-args",
}
# WordPress fields ferropress does not send, for a documented reason: glob -> anchor.
MISSING_FIELDS = {
    "._links.wp:active-theme": "no-themes",
    "._links.curies": "no-themes",
}
# Methods WordPress allows that ferropress does not serve yet: (route regex, methods) -> anchor.
ALLOW_MISSING = {}
# (glob, wordpress type, ferropress type) -> anchor
TYPE_RULES = {
    # PHP encodes the empty meta array of 6.1 as []; with `footnotes` registered it is an object.
    ("*.meta", "array", "object"): "newer-wordpress-fields",
    ("*.meta.properties", "array", "object"): "newer-wordpress-fields",
}

DEFAULT_COMPARE = ["status", "code", "headers", "shape"]
# The PHPUnit port asserts values through `expect`; against the oracle it compares only
# what every upstream assertion implies (status and error code) unless a step asks for more.
PHPUNIT_COMPARE = ["status", "code"]
TIMEOUT = 30

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)(?::([^{}]*))?\}")


class HarnessError(Exception):
    """Something wrong with the harness, a scenario file or a target's setup."""


# ---------------------------------------------------------------------------------------
# HTTP

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.raw = body
        try:
            self.json = json.loads(body.decode("utf-8")) if body.strip() else None
            self.is_json = bool(body.strip())
        except (ValueError, UnicodeDecodeError):
            self.json = None
            self.is_json = False

    def header(self, name):
        vals = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(vals) if vals else None


def http_request(base, method, target, headers, body):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=TIMEOUT)
    try:
        conn.request(method, target, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data)
    finally:
        conn.close()


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ---------------------------------------------------------------------------------------
# Targets

class Target:
    """One server under test, with its users ("principals")."""

    label = "?"

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.principals = {}  # name -> dict(login, id, email, token, password)
        self.scratch = []     # scratch principal names created in this run

    def request(self, method, path, query=None, headers=None, body=None):
        target = path
        if query:
            qs = urllib.parse.urlencode(query, doseq=True)
            target += ("&" if "?" in target else "?") + qs
        return http_request(self.base, method, target, headers or {}, body)

    def auth_header(self, name):
        p = self.principal(name)
        return basic(p["login"], p["token"])

    def principal(self, name):
        if name not in self.principals:
            m = SCRATCH_RE.fullmatch(name)
            if m:
                self.principals[name] = self.create_scratch(m.group(2), m.group(1))
                self.scratch.append(name)
            else:
                raise HarnessError(f"unknown principal {name!r} (roles: {ROLES}, or scratch…_<role>)")
        return self.principals[name]

    def create_scratch(self, role, name):
        raise NotImplementedError

    def close(self):
        pass


class WordPress(Target):
    label = "wordpress"

    def __init__(self, base, run_id):
        super().__init__(base)
        self.run_id = run_id
        for role in ROLES:
            key = f"WP_ORACLE_{role.upper()}"
            try:
                self.principals[role] = {
                    "login": os.environ[f"{key}_USER"],
                    "id": int(os.environ[f"{key}_ID"]),
                    "email": os.environ.get(f"{key}_EMAIL", f"{role}@example.com"),
                    "password": os.environ.get(f"{key}_PASSWORD", ""),
                    "token": os.environ[f"{key}_APP_PASSWORD"],
                }
            except KeyError as e:
                raise HarnessError(
                    f"{e.args[0]} is not set: run `eval \"$(scripts/wordpress-oracle.sh env)\"`")
        r = self.request("GET", "/wp-json/wp/v2/users/me",
                         headers={"Authorization": self.auth_header("admin")})
        if r.status != 200:
            raise HarnessError(f"the oracle's admin credentials do not work "
                               f"(GET /wp/v2/users/me -> {r.status}); `scripts/wordpress-oracle.sh reset`?")

    def admin_call(self, method, path, payload=None):
        headers = {"Authorization": self.auth_header("admin")}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        return self.request(method, "/wp-json" + path, headers=headers, body=body)

    def create_scratch(self, role, name):
        login = f"compat-{name}-{role}-{self.run_id}"
        pw = secrets.token_hex(12)
        r = self.admin_call("POST", "/wp/v2/users", {
            "username": login, "email": f"{login}@example.com", "password": pw,
            "roles": [WP_ROLE[role]]})
        if r.status != 201:
            raise HarnessError(f"wordpress: creating scratch user {login}: {r.status} {r.raw[:200]!r}")
        uid = r.json["id"]
        r = self.admin_call("POST", f"/wp/v2/users/{uid}/application-passwords", {"name": "compat"})
        if r.status != 201:
            raise HarnessError(f"wordpress: scratch app password: {r.status} {r.raw[:200]!r}")
        return {"login": login, "id": uid, "email": f"{login}@example.com",
                "password": pw, "token": r.json["password"]}

    def sweep(self):
        """Revokes this run's tokens left on the permanent users; deletes scratch users."""
        admin_id = self.principals["admin"]["id"]
        for role in ROLES:
            uid = self.principals[role]["id"]
            r = self.admin_call("GET", f"/wp/v2/users/{uid}/application-passwords")
            if r.status == 200 and isinstance(r.json, list):
                for item in r.json:
                    if self.run_id in str(item.get("name", "")):
                        self.admin_call("DELETE", f"/wp/v2/users/{uid}/application-passwords/{item['uuid']}")
        for name in self.scratch:
            uid = self.principals[name]["id"]
            self.admin_call("DELETE", f"/wp/v2/users/{uid}?force=true&reassign={admin_id}")


class Ferropress(Target):
    label = "ferropress"

    def __init__(self, binary, run_id, keep=False):
        self.binary = binary
        self.run_id = run_id
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="ferropress-compat-")
        self.data = os.path.join(self.dir, "data")
        self.proc = None
        principals = {}
        # Users first: with a user in the database, `serve` creates no `admin` of its own.
        for role in ROLES:
            pw = f"password-{role}"
            uid = self.cli("user", "create", role, f"{role}@example.com", f"--role={WP_ROLE[role]}",
                           f"--user_pass={pw}", "--porcelain")
            # Named like the oracle's tokens (scripts/wordpress-oracle.sh), so introspection matches.
            token = self.cli("user", "application-password", "create", role, "oracle", "--porcelain")
            principals[role] = {"login": role, "id": int(uid), "email": f"{role}@example.com",
                                "password": pw, "token": token}
        self.log = open(os.path.join(self.dir, "serve.log"), "wb")
        # WordPress's default: every user may use Application Passwords (docs/compat.md
        # "app-password-gate"); ferropress's own default gate is edit_posts.
        self.proc = subprocess.Popen(
            [binary, "--data-dir", self.data, "serve", "--bind", "127.0.0.1:0",
             "--environment", "local", "--application-passwords-for", "all",
             "--usage-flush-secs", "1",
             # WordPress core has no failed-login throttle (docs/compat.md "brute-force"):
             # off, so that scenarios with wrong credentials do not depend on their order.
             "--auth-failures-per-minute", "0", "--auth-account-failures-per-minute", "0"],
            stdout=subprocess.PIPE, stderr=self.log, start_new_session=True)
        first = self._read_first_line(20)
        m = re.search(r"(http://127\.0\.0\.1:\d+)/wp-json/", first)
        if not m:
            self.close()
            raise HarnessError(f"ferropress serve printed {first!r}, expected 'ferropress is serving http://…'")
        super().__init__(m.group(1))
        self.principals = principals
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=lambda: self.proc.stdout.read(), daemon=True).start()
        self.seed()

    def seed(self):
        """The content of a fresh WordPress site (docs/oracle-facts.md "Fresh site contents"),
        so that e.g. the administrator is a public author on both targets."""
        auth = {"Authorization": self.auth_header("admin"), "Content-Type": "application/json"}
        for route, item in [
            ("posts", {"title": "Hello world!", "slug": "hello-world", "status": "publish",
                       "content": "Welcome to WordPress. This is your first post. Edit or delete it, then start writing!"}),
            ("pages", {"title": "Sample Page", "slug": "sample-page", "status": "publish",
                       "content": "This is an example page."}),
            ("pages", {"title": "Privacy Policy", "slug": "privacy-policy", "status": "draft",
                       "content": "Who we are"}),
        ]:
            r = self.request("POST", f"/wp-json/wp/v2/{route}", headers=auth, body=json.dumps(item).encode())
            if r.status != 201:
                self.close()
                raise HarnessError(f"ferropress: seeding {route} {item['slug']}: {r.status} {r.raw[:200]!r}")
            if item["slug"] == "hello-world":
                # The sample comment `wp_install_defaults()` leaves on the first post.
                comment = {"post": r.json["id"], "author_name": "A WordPress Commenter",
                           "author_email": "wapuu@wordpress.example", "author_url": "https://wordpress.org/",
                           "content": "Hi, this is a comment.\nTo get started with moderating, editing, and deleting comments, please visit the Comments screen in the dashboard.\nCommenter avatars come from <a href=\"https://en.gravatar.com/\">Gravatar</a>."}
                c = self.request("POST", "/wp-json/wp/v2/comments", headers=auth, body=json.dumps(comment).encode())
                if c.status != 201:
                    self.close()
                    raise HarnessError(f"ferropress: seeding the sample comment: {c.status} {c.raw[:200]!r}")

    def _read_first_line(self, timeout):
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("line", self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        line = out.get("line", b"").decode(errors="replace").strip()
        if not line:
            self.close()
            raise HarnessError(f"ferropress serve printed nothing within {timeout}s; log: {self.log_tail()}")
        return line

    def log_tail(self):
        try:
            return Path(self.dir, "serve.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def cli(self, *args):
        r = subprocess.run([self.binary, "--data-dir", self.data, *args],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise HarnessError(f"ferropress {' '.join(args[:3])}: exit {r.returncode}: {r.stderr.strip()}")
        return r.stdout.strip()

    def create_scratch(self, role, name):
        login = f"compat-{name}-{role}-{self.run_id}"
        pw = secrets.token_hex(12)
        uid = self.cli("user", "create", login, f"{login}@example.com", f"--role={WP_ROLE[role]}",
                       f"--user_pass={pw}", "--porcelain")
        token = self.cli("user", "application-password", "create", login, "compat", "--porcelain")
        return {"login": login, "id": int(uid), "email": f"{login}@example.com",
                "password": pw, "token": token}

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# Placeholders

def expand(value, target, saved, run_id):
    """Replaces placeholders in strings (recursively in lists/dicts). A string that is exactly
    one placeholder keeps the value's type (so `"author": "{id:editor}"` sends a number)."""
    if isinstance(value, dict):
        return {expand(k, target, saved, run_id): expand(v, target, saved, run_id) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, target, saved, run_id) for v in value]
    if not isinstance(value, str):
        return value

    def lookup(kind, arg):
        if kind == "run":
            return run_id
        if kind in ("id", "user", "email", "token", "password"):
            p = target.principal(arg)
            return p[{"user": "login"}.get(kind, kind)]
        if kind == "saved":
            if arg not in saved:
                raise HarnessError(f"{{saved:{arg}}} used before a step saved it")
            return saved[arg]
        if kind == "uuid":  # {uuid} / {uuid:new}: a fresh random v4
            return str(uuidlib.uuid4())
        if kind == "base":
            return target.base
        raise HarnessError(f"unknown placeholder {{{kind}:{arg}}}")

    m = PLACEHOLDER_RE.fullmatch(value)
    if m:
        return lookup(m.group(1), m.group(2))
    return PLACEHOLDER_RE.sub(lambda m: str(lookup(m.group(1), m.group(2))), value)


def json_path(doc, path):
    """`a.b.0.c` (also `0.uuid` for the first item of an array); raises KeyError."""
    cur = doc
    if path in ("", "."):
        return cur
    parts = path.split(".")
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(cur, list):
            cur = cur[int(part)]
        elif isinstance(cur, dict):
            # A key holding dots (`_links.https://api.w.org/post_type.0.href`): the shortest
            # run of parts that names a key.
            j = i
            while part not in cur and j + 1 < len(parts):
                j += 1
                part += "." + parts[j]
            cur = cur[part]
            i = j
        else:
            raise KeyError(path)
        i += 1
    return cur


# ---------------------------------------------------------------------------------------
# Comparison

def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def shape(v, path="", out=None, collection=False):
    """{path: type}: every key path with its JSON type; arrays contribute the shape of their
    first element (path suffix `[]`)."""
    if out is None:
        out = {}
    out[path or "."] = jtype(v)
    if isinstance(v, dict):
        for k, x in v.items():
            shape(x, f"{path}.{k}", out)
    elif isinstance(v, list) and v:
        shape(v[0], f"{path}[]", out)
    return out


def ignored(path, patterns):
    return any(fnmatch.fnmatchcase(path, p) or path.startswith(p + ".") or path.startswith(p + "[")
               for p in patterns)


def strip_documented(sh, other, rules, used):
    """Drops from shape `sh` the paths (and what is below them) that `other` lacks and that
    a documented rule ({glob: anchor}) covers; records the anchors used."""
    out = {}
    for p, t in sh.items():
        hit = None
        if p not in other:
            for glob, anchor in rules.items():
                if fnmatch.fnmatchcase(p, glob) or fnmatch.fnmatchcase(p, glob + ".*") \
                        or fnmatch.fnmatchcase(p, glob + "[[]]*"):
                    hit = anchor
                    break
        if hit:
            used.add(hit)
        else:
            out[p] = t
    return out


def strip_extra(sh, s_wp, used):
    """ferropress's documented extra fields."""
    return strip_documented(sh, s_wp, EXTRA_FIELDS, used)


def strip_missing(s_wp, s_fp, used):
    """WordPress's fields that ferropress leaves out for a documented reason."""
    return strip_documented(s_wp, s_fp, MISSING_FIELDS, used)


def allow_documented(step, a_wp, a_fp):
    """The anchor when ferropress's Allow lacks only methods documented as not served."""
    if a_wp is None or a_fp is None or not set(a_fp) <= set(a_wp):
        return None
    route = step.get("path") or step.get("url", "")
    route = re.sub(r"^/\?rest_route=", "", route)
    missing = set(a_wp) - set(a_fp)
    for (rx, methods), anchor in ALLOW_MISSING.items():
        if re.search(rx, route) and missing <= methods:
            return anchor
    return None


def type_rule(p, t_wp, t_fp):
    for (glob, a, b), anchor in TYPE_RULES.items():
        if (t_wp, t_fp) == (a, b) and fnmatch.fnmatchcase(p, glob):
            return anchor
    return None


def link_rels(value):
    if not value:
        return None
    return sorted(set(re.findall(r'rel="?([^";,]+)"?', value)))


def allow_set(value):
    if value is None:
        return None
    return sorted({m.strip().upper() for m in value.split(",") if m.strip()})


def ctype(value):
    if not value:
        return None
    return value.split(";")[0].strip().lower()


def header_view(r):
    return {
        "X-WP-Total": "present" if r.header("X-WP-Total") is not None else None,
        "X-WP-TotalPages": "present" if r.header("X-WP-TotalPages") is not None else None,
        "Allow": allow_set(r.header("Allow")),
        "Link rels": link_rels(r.header("Link")),
        "Content-Type": ctype(r.header("Content-Type")),
        "Location": "present" if r.header("Location") else None,
    }


def error_view(r):
    j = r.json
    if r.status >= 400 and isinstance(j, dict) and "code" in j:
        data = j.get("data")
        view = {"code": j.get("code"),
                "data.status": data.get("status") if isinstance(data, dict) else None}
        details = data.get("details") if isinstance(data, dict) else None
        if isinstance(details, dict):  # per-parameter codes of rest_invalid_param
            view["details"] = {k: v.get("code") for k, v in sorted(details.items()) if isinstance(v, dict)}
        return view
    return None


def compatible(t_wp, t_fp):
    # null stands for "no value yet" (last_used, last_ip, …); either side may hold it.
    return t_wp == t_fp or "null" in (t_wp, t_fp)


ID_KEYS = {"id", "author", "user", "user_id", "parent"}


WP_IMAGE_RE = re.compile(r"(wp-image-|attachment[_-])\d+")
# Players of `[audio]`/`[video]` are named after the post shown: `audio-<post>-<instance>`.
PLAYER_RE = re.compile(r"\b(audio|video)-\d+-(\d+)")
# Galleries name the post shown (`galleryid-<post>`), their captions the attachment
# (`gallery-<instance>-<attachment>`), and unattached images' pages `?attachment_id=<id>`.
GALLERY_RE = re.compile(r"\b(galleryid-|attachment_id=)\d+|\b(gallery-\d+-)\d+")


def normalize_value(v, target, key=None):
    """Volatile values → stable tokens, so that chosen values can be compared."""
    if isinstance(v, str):
        v = v.replace(target.base, "{base}")
        # The same inside JSON that `wp_json_encode()` escaped (`[playlist]` tracks).
        v = v.replace(target.base.replace("/", "\\/"), "{base}")
        v = UUID_RE.sub("<uuid>", v)
        v = DATE_RE.sub("<date>", v)
        # Attachment ids inside rendered content (`class="wp-image-N"`, caption ids
        # `attachment_N`) differ per target.
        v = WP_IMAGE_RE.sub(r"\1<id>", v)
        v = PLAYER_RE.sub(r"\1-<id>-\2", v)
        v = GALLERY_RE.sub(lambda m: (m.group(1) or m.group(2)) + "<id>", v)
        for p in target.principals.values():
            if p.get("token") and p["token"] in v:
                v = v.replace(p["token"], "<token>")
        return v
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        if key in ID_KEYS:
            for name, p in target.principals.items():
                if p["id"] == v:
                    return f"<id:{name}>"
        return v
    if isinstance(v, list):
        return [normalize_value(x, target, key) for x in v]
    if isinstance(v, dict):
        return {k: normalize_value(x, target, k) for k, x in v.items()}
    return v


def compare_step(step, wp, fp, r_wp, r_fp, used):
    """Returns a list of difference lines (empty when identical); adds the anchors of the
    documented shape rules that applied to `used`."""
    what = step.get("compare", step.get("_default_compare", DEFAULT_COMPARE))
    if what is False:
        return []
    if what is True:
        what = DEFAULT_COMPARE
    diffs = []
    if "status" in what and r_wp.status != r_fp.status:
        diffs.append(f"status: wordpress {r_wp.status}, ferropress {r_fp.status}")
    if "code" in what:
        e_wp, e_fp = error_view(r_wp), error_view(r_fp)
        if e_wp != e_fp:
            diffs.append(f"error: wordpress {fmt_err(e_wp)}, ferropress {fmt_err(e_fp)}")
    if "headers" in what:
        h_wp, h_fp = header_view(r_wp), header_view(r_fp)
        for k in h_wp:
            if k in step.get("ignore_headers", []):
                continue
            if h_wp[k] != h_fp[k]:
                anchor = allow_documented(step, h_wp[k], h_fp[k]) if k == "Allow" else None
                if anchor:
                    used.add(anchor)
                    continue
                diffs.append(f"header {k}: wordpress {h_wp[k]}, ferropress {h_fp[k]}")
    if "shape" in what:
        ign = step.get("ignore", [])
        if r_wp.is_json != r_fp.is_json:
            diffs.append(f"body: wordpress {'JSON' if r_wp.is_json else 'not JSON'}, "
                         f"ferropress {'JSON' if r_fp.is_json else 'not JSON'}")
        elif r_wp.is_json:
            body_wp, body_fp = r_wp.json, r_fp.json
            if "select" in step:  # compare one part of the body only
                body_wp = get_or_missing(body_wp, step["select"])
                body_fp = get_or_missing(body_fp, step["select"])
            if step.get("collection") and isinstance(body_wp, list) and isinstance(body_fp, list):
                # Lengths legitimately differ: compare the item shapes only.
                if not body_wp or not body_fp:
                    body_wp = body_fp = []
            s_wp = shape(body_wp)
            s_fp = strip_extra(shape(body_fp), s_wp, used)
            s_wp = strip_missing(s_wp, s_fp, used)
            # Subtrees that differ for a documented reason: {"glob": "anchor"}.
            for glob, anchor in step.get("documented_ignore", {}).items():
                sub_wp = {p: t for p, t in s_wp.items() if ignored(p, [glob])}
                sub_fp = {p: t for p, t in s_fp.items() if ignored(p, [glob])}
                if sub_wp != sub_fp:
                    used.add(anchor)
                for p in sub_wp:
                    del s_wp[p]
                for p in sub_fp:
                    del s_fp[p]
            only_wp = sorted(p for p in s_wp if p not in s_fp and not ignored(p, ign))
            only_fp = sorted(p for p in s_fp if p not in s_wp and not ignored(p, ign))
            typed = []
            for p in sorted(s_wp):
                if p in s_fp and not ignored(p, ign) and not compatible(s_wp[p], s_fp[p]):
                    anchor = type_rule(p, s_wp[p], s_fp[p])
                    if anchor:
                        used.add(anchor)
                    else:
                        typed.append(p)
            only_wp = collapse(only_wp)
            only_fp = collapse(only_fp)
            if only_wp:
                diffs.append("fields only in wordpress: " + ", ".join(f"{p}:{s_wp[p]}" for p in only_wp))
            if only_fp:
                diffs.append("fields only in ferropress: " + ", ".join(f"{p}:{s_fp[p]}" for p in only_fp))
            for p in typed:
                diffs.append(f"type of {p}: wordpress {s_wp[p]}, ferropress {s_fp[p]}")
    values = list(step.get("values", []))
    if is_xmlrpc(step) and "faultCode" not in values:
        values.append("faultCode")
    for path in values:
        last = path.rsplit(".", 1)[-1]
        v_wp = normalize_value(get_or_missing(r_wp.json, path), wp, last)
        v_fp = normalize_value(get_or_missing(r_fp.json, path), fp, last)
        if v_wp != v_fp:
            diffs.append(f"value {path}: wordpress {json.dumps(v_wp)[:120]}, ferropress {json.dumps(v_fp)[:120]}")
    return diffs


def check_expect(step, target, r, saved, run_id):
    """The step's `expect` (status, code, values) on one target's response: failure lines."""
    exp = step.get("expect")
    if not exp:
        return []
    exp = expand(exp, target, saved, run_id)
    out = []
    if "status" in exp and r.status != exp["status"]:
        out.append(f"status {r.status}, expected {exp['status']}")
    if "code" in exp:
        code = r.json.get("code") if r.is_json and isinstance(r.json, dict) else None
        if code != exp["code"]:
            out.append(f"code {code!r}, expected {exp['code']!r}")
    for path, want in exp.get("values", {}).items():
        got = get_or_missing(r.json, path) if r.is_json else "<not JSON>"
        if not matches(got, want):
            out.append(f"{path} = {json.dumps(got)[:160]}, expected {json.dumps(want)[:160]}")
    for name, want in exp.get("headers", {}).items():  # upstream `$response->get_headers()`
        got = r.header(name)
        if not matches("<missing>" if got is None else got, want):
            out.append(f"header {name}: {got!r}, expected {json.dumps(want)[:160]}")
    return out


def matches(got, want):
    """Equality, or a matcher object: {"$ne": v}, {"$len": n}, {"$contains": v},
    {"$startswith": s}, {"$regex": r}, {"$trimmed": s}, {"$missing": true}, {"$type": "string"}, {"$sameset": [...]},
    {"$has_item": {k: v}} (a list item with these keys), {"$keys": [...]} (an object's keys, in
    order: PHPUnit's `array_keys()`), {"$sameset_keys": [...]} or {"$keyset": [...]} (in any order),
    {"$ids": [...]} (the set of the items' `id`), {"$pluck": [key, m]} (the list of each item's
    `key`, matched against m), {"$has_key": k} (PHPUnit's `assertArrayHasKey()`, for keys a
    path cannot reach such as `_links` rels), {"$all": [m, …]}, {"$not": m}."""
    if isinstance(want, dict) and len(want) == 1 and next(iter(want)).startswith("$"):
        op, arg = next(iter(want.items()))
        if op == "$all":
            return all(matches(got, m) for m in arg)
        if op == "$not":
            return not matches(got, arg)
        if op == "$missing":
            return (got == "<missing>") == bool(arg)
        if got == "<missing>":
            return False
        if op == "$ne":
            return got != arg
        if op == "$len":
            return isinstance(got, (list, dict, str)) and len(got) == arg
        if op == "$contains":
            return isinstance(got, (list, str)) and arg in got
        if op == "$startswith":
            return isinstance(got, str) and got.startswith(arg)
        if op == "$type":
            return jtype(got) == arg
        if op == "$has_item":
            return isinstance(got, list) and any(
                isinstance(x, dict) and all(x.get(k) == v for k, v in arg.items()) for x in got)
        if op == "$regex":
            return isinstance(got, str) and re.search(arg, got) is not None
        if op == "$trimmed":  # assertSame( $s, trim( $got ) )
            return isinstance(got, str) and got.strip(" \t\n\r\0\x0b") == arg
        if op == "$ids":  # assertSameSets( $ids, wp_list_pluck( $data, 'id' ) )
            return isinstance(got, list) and all(isinstance(x, dict) for x in got) \
                and sorted(map(json.dumps, (x.get("id") for x in got))) == sorted(map(json.dumps, arg))
        if op in ("$sameset_keys", "$keyset"):  # assertSameSets( $expected, array_keys( $data ) )
            return isinstance(got, dict) and sorted(got) == sorted(arg)
        if op == "$keys":
            return isinstance(got, dict) and list(got) == arg
        if op == "$has_key":
            return isinstance(got, dict) and arg in got
        if op == "$pluck":
            return isinstance(got, list) and all(isinstance(x, dict) for x in got) \
                and matches([x.get(arg[0], "<missing>") for x in got], arg[1])
        if op == "$sameset":
            return isinstance(got, list) and sorted(map(json.dumps, got)) == sorted(map(json.dumps, arg))
        raise HarnessError(f"unknown matcher {op}")
    return got == want


def get_or_missing(doc, path):
    try:
        return json_path(doc, path)
    except (KeyError, IndexError, ValueError, TypeError):
        return "<missing>"


def collapse(paths):
    """Lists only the top of each missing subtree (`.a` rather than `.a`, `.a.b`, …)."""
    out = []
    for p in paths:
        if out and (p.startswith(out[-1] + ".") or p.startswith(out[-1] + "[")):
            continue
        out.append(p)
    return out


def fmt_err(e):
    if e is None:
        return "(no error envelope)"
    details = "".join(f" {k}:{v}" for k, v in e.get("details", {}).items())
    return f"{e['code']} ({e['data.status']}{details})"


# ---------------------------------------------------------------------------------------
# Scenarios

def load_scenarios(only, suite_dir=SCENARIO_DIR):
    scenarios = []
    names = set()
    for f in sorted(suite_dir.glob("*.json")):
        try:
            doc = json.loads(f.read_text())
        except ValueError as e:
            raise HarnessError(f"{f.name}: invalid JSON: {e}")
        items = doc["scenarios"] if isinstance(doc, dict) else doc
        for s in items:
            s["_file"] = f.stem
            full = f"{f.stem}/{s['name']}"
            if full in names:
                raise HarnessError(f"duplicate scenario name {full}")
            names.add(full)
            s["_full"] = full
            if only and not (fnmatch.fnmatchcase(full, only) or only in full):
                continue
            scenarios.append(s)
    return scenarios


def doc_anchors():
    """Anchors of docs/compat.md: GitHub heading slugs and explicit <a id="…">."""
    text = COMPAT_DOC.read_text()
    anchors = set(re.findall(r'<a\s+(?:id|name)="([^"]+)"', text))
    for line in text.splitlines():
        m = re.match(r"#+\s+(.*)", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            anchors.add(slug)
    return anchors


# ---------------------------------------------------------------------------------------
# XML-RPC steps: {"xmlrpc": {"method": "wp.getPost", "params": [1, "{user:author}", …]}}.
# Params are JSON; {"$base64": "…"}, {"$date": "20261207T10:00:00"} and {"$double": 1.5}
# send those XML-RPC types. The answer is compared as JSON: {"result": value} or
# {"faultCode", "faultString"}, with dateTime, base64 and double values as the same markers
# (`$dateTime`), so that their types count in the shape; faultCode values are compared too.

def xmlrpc_param(v):
    if isinstance(v, dict):
        if set(v) == {"$base64"}:
            return xmlrpc.client.Binary(base64.b64decode(v["$base64"]))
        if set(v) == {"$date"}:
            return xmlrpc.client.DateTime(v["$date"])
        if set(v) == {"$double"}:
            return float(v["$double"])
        return {k: xmlrpc_param(x) for k, x in v.items()}
    if isinstance(v, list):
        return [xmlrpc_param(x) for x in v]
    return v


def xmlrpc_view(v):
    if isinstance(v, xmlrpc.client.DateTime):
        return {"$dateTime": v.value}
    if isinstance(v, xmlrpc.client.Binary):
        return {"$base64": base64.b64encode(v.data).decode()}
    if isinstance(v, float):
        return {"$double": v}
    if isinstance(v, dict):
        return {k: xmlrpc_view(x) for k, x in v.items()}
    if isinstance(v, list):
        return [xmlrpc_view(x) for x in v]
    return v


def is_xmlrpc(step):
    return "xmlrpc" in step or str(step.get("url", "")).startswith("/xmlrpc.php")


def read_xmlrpc(r):
    """Sets r.json from an XML-RPC answer (left alone when the body is not XML-RPC)."""
    try:
        params, _ = xmlrpc.client.loads(r.raw, use_builtin_types=False)
        r.json = {"result": xmlrpc_view(params[0]) if params else None}
    except xmlrpc.client.Fault as f:
        r.json = {"faultCode": f.faultCode, "faultString": f.faultString}
    except (xml.parsers.expat.ExpatError, xmlrpc.client.ResponseError, ValueError, IndexError, TypeError):
        return
    r.is_json = True


def build_request(step, target, saved, run_id):
    method = step.get("method", "GET").upper()
    if "xmlrpc" in step:
        x = expand(step["xmlrpc"], target, saved, run_id)
        body = xmlrpc.client.dumps(tuple(xmlrpc_param(p) for p in x.get("params", [])),
                                   x["method"], allow_none=False).encode()
        headers = {k: str(v) for k, v in expand(step.get("headers", {}), target, saved, run_id).items()}
        headers.setdefault("Content-Type", "text/xml")
        return "POST", "/xmlrpc.php", expand(step.get("query"), target, saved, run_id), headers, body
    if "url" in step:  # a raw server path, e.g. "/?rest_route=/wp/v2"
        path = expand(step["url"], target, saved, run_id)
    else:
        route = expand(step["path"], target, saved, run_id)
        path = "/wp-json" + route
    query = expand(step.get("query"), target, saved, run_id)
    headers = {k: str(v) for k, v in expand(step.get("headers", {}), target, saved, run_id).items()}
    as_ = step.get("as", "anonymous")
    if isinstance(as_, dict):  # custom Basic credentials
        a = expand(as_, target, saved, run_id)
        headers["Authorization"] = basic(a.get("user", ""), a.get("password", ""))
    elif as_ != "anonymous":
        headers["Authorization"] = target.auth_header(as_)
    body = None
    if "json" in step:
        body = json.dumps(expand(step["json"], target, saved, run_id)).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "form" in step:
        body = urllib.parse.urlencode(expand(step["form"], target, saved, run_id), doseq=True).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif "raw_body" in step:
        body = step["raw_body"].encode()
    elif "raw_body_base64" in step:  # binary uploads (media)
        body = base64.b64decode(step["raw_body_base64"])
    if query:
        query = {k: (json.dumps(v) if isinstance(v, (dict, list)) else str(v)) for k, v in query.items()}
    return method, path, query, headers, body


def run_step(step, target, saved, run_id):
    method, path, query, headers, body = build_request(step, target, saved, run_id)
    r = target.request(method, path, query=query, headers=headers, body=body)
    if is_xmlrpc(step):
        read_xmlrpc(r)
    for name, jp in step.get("save", {}).items():
        try:
            saved[name] = json_path(r.json, jp)
        except (KeyError, IndexError, ValueError, TypeError):
            saved[name] = f"<unsaved:{name}>"
    label = f"{method} {path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    if "xmlrpc" in step:
        label += " " + step["xmlrpc"]["method"]
    return r, label


def run_scenario(s, wp, fp, run_id, verbose, expects=None):
    """Returns (diff lines, detail lines, anchors of documented shape rules that applied).
    `wp` may be None (no oracle: nothing is compared). `expects`, when a dict, collects the
    failed `expect` lines per target label."""
    saved = {"wordpress": {}, "ferropress": {}}
    used = set()
    diffs, detail = [], []
    steps = s["steps"]
    cleanup = [st for st in steps if st.get("cleanup")]
    main = [st for st in steps if not st.get("cleanup")]
    targets = [t for t in (wp, fp) if t is not None]
    try:
        for i, step in enumerate(main, 1):
            if "_default_compare" in s:
                step = dict(step, _default_compare=s["_default_compare"])
            responses = {}
            for t in targets:
                responses[t.label] = run_step(step, t, saved[t.label], run_id)
            label = step.get("label") or responses["ferropress"][1].replace(fp.base, "")
            if expects is not None:
                for t in targets:
                    for line in check_expect(step, t, responses[t.label][0], saved[t.label], run_id):
                        expects.setdefault(t.label, []).append(f"step {i} {label}: {line}")
            if wp is not None and not s.get("since"):
                d = compare_step(step, wp, fp, responses["wordpress"][0], responses["ferropress"][0], used)
                for line in d:
                    diffs.append(f"step {i} {label}: {line}")
            if verbose:
                detail.append(f"  step {i}: {label}")
                for t in targets:
                    r = responses[t.label][0]
                    body = normalize_value(r.json, t) if r.is_json else r.raw[:200]
                    detail.append(f"    {t.label:10} {r.status} {json.dumps(body)[:600] if r.is_json else body!r}")
    finally:
        for step in cleanup:
            for t in targets:
                try:
                    run_step(step, t, saved[t.label], run_id)
                except Exception:  # noqa: BLE001 — best-effort cleanup
                    pass
    return diffs, detail, used


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ferropress", default=os.environ.get("FERROPRESS_BIN", str(ROOT / "target" / "debug" / "ferropress")),
                    help="ferropress binary (default: $FERROPRESS_BIN or target/debug/ferropress)")
    ap.add_argument("--wordpress", default=os.environ.get("WP_ORACLE_URL"),
                    help="WordPress base URL (default: $WP_ORACLE_URL)")
    ap.add_argument("--only", help="run scenarios whose file/name matches (glob or substring)")
    ap.add_argument("--verbose", "-v", action="store_true", help="show both responses of every step")
    ap.add_argument("--keep", action="store_true", help="keep ferropress's temporary data dir and log")
    ap.add_argument("--suite", default="scenarios", choices=["scenarios", "phpunit"],
                    help="compat/scenarios (default), or compat/phpunit: the ported PHPUnit cases")
    ap.add_argument("--no-oracle", action="store_true",
                    help="phpunit suite only: check the expectations against ferropress alone")
    args = ap.parse_args()
    phpunit = args.suite == "phpunit"
    if args.no_oracle and not phpunit:
        print("compat: --no-oracle needs --suite phpunit (scenarios are comparisons)", file=sys.stderr)
        return 2
    if args.no_oracle:
        args.wordpress = None
    elif not args.wordpress:
        print("compat: WP_ORACLE_URL is not set. Start the oracle and load its credentials:\n"
              "  scripts/wordpress-oracle.sh start && eval \"$(scripts/wordpress-oracle.sh env)\"",
              file=sys.stderr)
        return 2

    # One run at a time per oracle: runs share its users, and lists and counts there would
    # see another run's posts (the PostgreSQL pass of `cargo test` runs the suite again).
    if args.wordpress:
        lock_name = re.sub(r"[^A-Za-z0-9]+", "_", args.wordpress)
        lock = open(os.path.join(tempfile.gettempdir(), f"ferropress-compat-{lock_name}.lock"), "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
    if not os.access(args.ferropress, os.X_OK):
        print(f"compat: ferropress binary {args.ferropress} not found (cargo build, or --ferropress BIN)",
              file=sys.stderr)
        return 2

    run_id = secrets.token_hex(3)
    try:
        scenarios = load_scenarios(args.only, ROOT / "compat" / args.suite)
        if phpunit:
            for sc in scenarios:
                sc["_default_compare"] = PHPUNIT_COMPARE
        anchors = doc_anchors()
        step_anchors = [a for sc in scenarios for st in sc["steps"]
                        for a in st.get("documented_ignore", {}).values()]
        rule_anchors = list(MISSING_FIELDS.values()) + list(ALLOW_MISSING.values())
        for a in list(EXTRA_FIELDS.values()) + list(TYPE_RULES.values()) + rule_anchors + step_anchors:
            if a not in anchors:
                raise HarnessError(f"EXTRA_FIELDS anchor #{a} missing from docs/compat.md")
    except HarnessError as e:
        print(f"compat: {e}", file=sys.stderr)
        return 1
    if not scenarios:
        print("compat: no scenario matches", file=sys.stderr)
        return 1

    wp = fp = None
    counts = {"identical": 0, "documented": 0, "documented-but-identical": 0, "DIFFERING": 0, "ERROR": 0,
              "passes": 0, "newer": 0, "newer-but-passes": 0, "FAILS": 0}
    problems = []
    rules_used = set()
    started = time.time()
    try:
        wp = WordPress(args.wordpress, run_id) if args.wordpress else None
        fp = Ferropress(args.ferropress, run_id, keep=args.keep)
        print(f"compat: run {run_id}: wordpress {wp.base if wp else '(none)'}, ferropress {fp.base} "
              f"({args.ferropress}), {len(scenarios)} {'ported cases' if phpunit else 'scenarios'}\n")
        width = max(len(s["_full"]) for s in scenarios)
        for s in scenarios:
            doc = s.get("documented_difference")
            try:
                if doc is not None and doc not in anchors:
                    raise HarnessError(f"documented_difference #{doc} is not an anchor in docs/compat.md")
                expects = {} if phpunit else None
                diffs, detail, used = run_scenario(s, wp, fp, run_id, args.verbose, expects)
                rules_used |= used
                if phpunit:
                    outcome, doc, diffs = phpunit_outcome(s, wp, expects, diffs, doc)
                elif not diffs:
                    if doc:
                        outcome = "documented-but-identical"
                    elif used:
                        outcome, doc = "documented", ", #".join(sorted(used))
                    else:
                        outcome = "identical"
                else:
                    outcome = "documented" if doc else "DIFFERING"
            except HarnessError as e:
                outcome, diffs, detail = "ERROR", [str(e)], []
            except OSError as e:  # connection refused/reset, timeout
                outcome, diffs, detail = "ERROR", [f"{type(e).__name__}: {e}"], []
            except Exception as e:  # noqa: BLE001 — report and go on
                outcome, diffs, detail = "ERROR", [f"{type(e).__name__}: {e}"], \
                    traceback.format_exc().splitlines()[-6:] if args.verbose else []
            counts[outcome] += 1
            tag = {"identical": "identical", "documented": f"documented (#{doc})",
                   "passes": "passes", "newer": f"passes; newer than the oracle (since {s.get('since')})",
                   "newer-but-passes": f"passes; marked since {s.get('since')} but the oracle passes too",
                   "FAILS": "FAILS",
                   "documented-but-identical": f"DOCUMENTED BUT NOW IDENTICAL (#{doc}: remove the mark)",
                   "DIFFERING": "DIFFERING", "ERROR": "HARNESS ERROR"}[outcome]
            print(f"{s['_full']:<{width}}  {tag}")
            if outcome in ("DIFFERING", "ERROR", "FAILS") or (args.verbose and diffs):
                for line in diffs:
                    print(f"    - {line if args.verbose or len(line) <= 600 else line[:600] + ' …'}")
            if args.verbose:
                for line in detail:
                    print(line)
            if outcome in ("DIFFERING", "ERROR", "FAILS"):
                problems.append(s["_full"])
    except HarnessError as e:
        print(f"compat: {e}", file=sys.stderr)
        return 1
    finally:
        if wp is not None:
            try:
                wp.sweep()
            except Exception as e:  # noqa: BLE001
                print(f"compat: warning: cleaning up the oracle: {e}", file=sys.stderr)
        if fp is not None:
            fp.close()

    total = sum(counts.values())
    if phpunit:
        print(f"\n{total} ported cases in {time.time() - started:.0f}s: {counts['passes']} pass"
              f" ({'oracle and ferropress' if wp else 'ferropress; no oracle'}), "
              f"{counts['newer']} newer than the oracle, "
              f"{counts['documented']} documented differences, {counts['FAILS']} failing, "
              f"{counts['DIFFERING']} differing, {counts['ERROR']} harness errors"
              + (f", {counts['newer-but-passes']} marked newer but passing on the oracle"
                 if counts["newer-but-passes"] else ""))
        return 1 if problems else 0
    print(f"\n{total} scenarios in {time.time() - started:.0f}s: {counts['identical']} identical, "
          f"{counts['documented']} documented differences, {counts['DIFFERING']} differing, "
          f"{counts['ERROR']} harness errors"
          + (f", {counts['documented-but-identical']} documented but now identical"
             if counts["documented-but-identical"] else ""))
    if not args.only:
        unused = set(EXTRA_FIELDS.values()) | set(TYPE_RULES.values()) \
            | set(MISSING_FIELDS.values()) | set(ALLOW_MISSING.values())
        for a in sorted(unused - rules_used):
            print(f"compat: documented shape rule #{a} never applied: ferropress may now match; "
                  "remove it from EXTRA_FIELDS/TYPE_RULES and docs/compat.md")
    return 1 if problems else 0


def phpunit_outcome(s, wp, expects, diffs, doc):
    """A ported case: its expectations must hold on ferropress, and on the oracle unless the
    case is newer than it (`since`); differences from the oracle count as in scenarios."""
    fails = [f"ferropress: {x}" for x in expects.get("ferropress", [])]
    wp_fails = expects.get("wordpress", [])
    if s.get("since"):
        if fails:
            return "FAILS", doc, fails
        if wp is not None and not wp_fails:
            return "newer-but-passes", doc, []
        return "newer", doc, [f"wordpress: {x}" for x in wp_fails]
    if wp_fails:
        # The port says what WordPress does: the oracle failing it is a porting mistake.
        return "ERROR", doc, [f"wordpress (the port is wrong?): {x}" for x in wp_fails] + fails
    if fails:
        return ("documented" if doc else "FAILS"), doc, fails + diffs
    if diffs:
        return ("documented" if doc else "DIFFERING"), doc, diffs
    return ("documented-but-identical" if doc else "passes"), doc, []


if __name__ == "__main__":
    sys.exit(main())
