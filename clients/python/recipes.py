#!/usr/bin/env python3
"""The recipes of docs/recipes.md, written with Python's `requests` as a user would.

Every request is also checked against the page: its method, URL, headers and body must be
the ones of the `curl` recipe of the same name (the block after `<!-- recipe: name -->`),
so a change to the documentation that this client no longer follows fails here.

    FERROPRESS_URL   the site, without /wp-json        (required)
    WP_USER          login of an editor                 (required)
    WP_APP_PASSWORD  its Application Password           (required)
    KEEP_CREATED=1   leave what was created (default: delete it at the end)

tests/api/clients.rs runs it against ferropress; it passes against WordPress too
(docs/recipes.md, "Checking against WordPress"). The last line of output is
`RESULT {json}` with the ids of what was created.
"""

import json
import os
import re
import shlex
import sys
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
DOC = Path(os.environ.get("RECIPES_DOC", HERE.parent.parent / "docs" / "recipes.md"))
PHOTO = HERE.parent / "fixtures" / "photo.png"

SITE = os.environ["FERROPRESS_URL"].rstrip("/")
WP_USER = os.environ["WP_USER"]
WP_APP_PASSWORD = os.environ["WP_APP_PASSWORD"]


class Failure(Exception):
    pass


def expect(cond, what, r=None):
    if not cond:
        detail = f"\n--- {r.status_code} {r.text[:2000]}" if r is not None else ""
        raise Failure(f"{what}{detail}")


# --- The documentation's curl recipes ---------------------------------------------------


def doc_recipe(name):
    """The `curl` block named `name` in docs/recipes.md, parsed into method, URL, headers
    and body (shell variables are left as `$NAME`)."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line == f"<!-- recipe: {name} -->" and lines[i + 1] == "```sh":
            end = lines.index("```", i + 2)
            text = "\n".join(lines[i + 2:end]).replace("\\\n", " ")
            break
    else:
        raise Failure(f"docs/recipes.md has no sh recipe named {name!r}")
    words = shlex.split(text, posix=True)
    expect(words[0] == "curl", f"recipe {name} is not a curl command")
    out = {"method": None, "url": None, "headers": {}, "json": None, "form": {}, "file": None}
    it = iter(words[1:])
    for w in it:
        if w == "-u":
            out["user"] = next(it)
        elif w == "-H":
            k, v = next(it).split(":", 1)
            out["headers"][k.strip().lower()] = v.strip()
        elif w == "-d":
            out["json"] = next(it)
        elif w == "--data-binary":
            out["file"] = next(it).lstrip("@")
        elif w == "-F":
            k, v = next(it).split("=", 1)
            out["form"][k] = v
        elif w == "-X":
            out["method"] = next(it)
        elif w in ("-i", "--include"):
            pass
        elif w.startswith("-"):
            raise Failure(f"recipe {name}: curl option {w} is not understood by this check")
        else:
            out["url"] = w
    if out["method"] is None:
        out["method"] = "POST" if out["json"] or out["form"] or out["file"] else "GET"
    return out


def subst(text, env):
    return re.sub(r"\$(\w+)|\$\{(\w+)\}", lambda m: str(env[m.group(1) or m.group(2)]), text)


def follows(r, name, **env):
    """Checks that the request behind response `r` is the recipe `name` of the page."""
    env = {"SITE": SITE, "WP_USER": WP_USER, "WP_APP_PASSWORD": WP_APP_PASSWORD, **env}
    doc = doc_recipe(name)
    req = r.request
    where = f"recipe {name}: docs/recipes.md and this client differ in"
    expect(req.method == doc["method"], f"{where} the method ({req.method} vs {doc['method']})")
    expect(req.url == subst(doc["url"], env), f"{where} the URL ({req.url} vs {doc['url']})")
    expect(subst(doc["user"], env) == f"{WP_USER}:{env['WP_APP_PASSWORD']}", f"{where} credentials")
    for k, v in doc["headers"].items():
        expect(req.headers.get(k) == v, f"{where} header {k} ({req.headers.get(k)!r} vs {v!r})")
    body = req.body or b""
    if hasattr(body, "read"):  # a file sent as the body, streamed
        body = Path(body.name).read_bytes() if Path(body.name).name == doc["file"] else b""
    if isinstance(body, str):
        body = body.encode()
    if doc["json"] is not None:
        expect(json.loads(body) == json.loads(subst(doc["json"], env)), f"{where} the body ({body!r})")
    if doc["file"] is not None:
        expect(body == PHOTO.read_bytes() and doc["file"] == PHOTO.name, f"{where} the uploaded file")
    for k, v in doc["form"].items():
        expect(req.headers["content-type"].startswith("multipart/form-data"), f"{where} content type")
        if v.startswith("@"):
            fname, _, ctype = v[1:].partition(";type=")
            expect(f'name="{k}"; filename="{fname}"'.encode() in body, f"{where} the file part {k}")
            expect(f"Content-Type: {ctype}".encode() in body, f"{where} the file part's type")
        else:
            expect(f'name="{k}"\r\n\r\n{v}\r\n'.encode() in body, f"{where} form field {k}")
    return r


# --- The client -------------------------------------------------------------------------


def main():
    s = requests.Session()
    s.auth = (WP_USER, WP_APP_PASSWORD)
    created = []  # "posts/12", … deleted at the end unless KEEP_CREATED=1
    try:
        print("RESULT " + json.dumps(run(s, created)))
    finally:
        if os.environ.get("KEEP_CREATED") != "1":
            for path in reversed(created):
                s.delete(f"{SITE}/wp-json/wp/v2/{path}", params={"force": "true"})


def ok(name, r, note=""):
    print(f"ok   {name} -> {r.status_code}{'  ' + note if note else ''}", flush=True)


def run(s, created):
    api = f"{SITE}/wp-json/wp/v2"

    # Another Application Password, to revoke at the end.
    r = follows(s.post(f"{api}/users/me/application-passwords", json={"name": "Deploy script"}),
                "api-create-token")
    expect(r.status_code == 201, "api-create-token: 201", r)
    token = r.json()
    created.append(f"users/me/application-passwords/{token['uuid']}")
    ok("api-create-token", r)

    # Eleven drafts: more than one page of ten.
    drafts = []
    for _ in range(11):
        r = follows(s.post(f"{api}/posts", json={"title": "My first post",
                                                 "content": "Hello from the API.",
                                                 "status": "draft"}), "create-draft")
        expect(r.status_code == 201 and r.json()["status"] == "draft", "create-draft: 201 draft", r)
        drafts.append(r.json()["id"])
        created.append(f"posts/{drafts[-1]}")
    ok("create-draft", r, "x11")

    # List the drafts page by page, following the Link header's rel="next".
    r = follows(s.get(f"{api}/posts?status=draft&per_page=10&page=1"), "list-drafts")
    expect(r.status_code == 200, "list-drafts: 200", r)
    total, pages = int(r.headers["X-WP-Total"]), int(r.headers["X-WP-TotalPages"])
    expect(total >= 11 and pages == -(-total // 10), f"list-drafts: total {total}, pages {pages}", r)
    seen = [p["id"] for p in r.json()]
    expect(len(seen) == 10, "list-drafts: a first page of 10", r)
    page = 1
    while "next" in r.links:
        r = s.get(r.links["next"]["url"])
        expect(r.status_code == 200, "list-drafts: next page", r)
        page += 1
        seen += [p["id"] for p in r.json()]
    expect(page == pages and len(seen) == total, f"list-drafts: {page} pages, {len(seen)} items")
    expect(set(drafts) <= set(seen), "list-drafts: every new draft is listed")
    ok("list-drafts", r, f"X-WP-Total {total}, {pages} pages followed by Link rel=next")
    post_id = drafts[0]

    # Meta: the key must be registered on the site (ferropress.toml, register_post_meta).
    r = follows(s.post(f"{api}/posts/{post_id}", json={"meta": {"subtitle": "Notes from the field"}}),
                "update-meta", POST_ID=post_id)
    expect(r.status_code == 200, "update-meta: 200", r)
    if "subtitle" in r.json()["meta"]:
        got = s.get(f"{api}/posts/{post_id}", params={"context": "edit"}).json()["meta"]["subtitle"]
        expect(got == "Notes from the field", f"update-meta: read back {got!r}")
        ok("update-meta", r, "meta.subtitle read back")
    else:
        ok("update-meta", r, "(key 'subtitle' not registered on this site: ignored)")

    # A category, assigned to the post.
    r = follows(s.post(f"{api}/categories", json={"name": "Field notes",
                                                  "description": "Reports from outside."}),
                "create-category")
    if r.status_code == 400 and r.json().get("code") == "term_exists":
        category_id = r.json()["data"]["term_id"]  # left by an earlier, interrupted run
    else:
        expect(r.status_code == 201, "create-category: 201", r)
        category_id = r.json()["id"]
    created.insert(0, f"categories/{category_id}")
    ok("create-category", r)
    r = follows(s.post(f"{api}/posts/{post_id}", json={"categories": [category_id]}),
                "assign-category", POST_ID=post_id, CATEGORY_ID=category_id)
    expect(r.status_code == 200 and r.json()["categories"] == [category_id], "assign-category", r)
    ok("assign-category", r)

    # Media: the raw body, then a form.
    with open(PHOTO, "rb") as f:
        r = follows(s.post(f"{api}/media", data=f, headers={
            "Content-Type": "image/png",
            "Content-Disposition": 'attachment; filename="photo.png"',
        }), "upload-media")
    expect(r.status_code == 201 and r.json()["mime_type"] == "image/png", "upload-media: 201", r)
    media = r.json()
    created.append(f"media/{media['id']}")
    served = requests.get(media["source_url"])
    expect(served.status_code == 200 and served.content == PHOTO.read_bytes(), "upload-media: source_url")
    ok("upload-media", r, media["source_url"])
    with open(PHOTO, "rb") as f:
        r = follows(s.post(f"{api}/media", files={"file": ("photo.png", f, "image/png")},
                           data={"title": "Harbour at dawn", "alt_text": "Boats in the harbour"}),
                    "upload-media-form")
    expect(r.status_code == 201 and r.json()["alt_text"] == "Boats in the harbour", "upload-media-form", r)
    created.append(f"media/{r.json()['id']}")
    ok("upload-media-form", r)
    # Not a recipe: requests sends a file name as raw UTF-8; WordPress stores it without
    # accents (sanitize_file_name()), so the URL stays ASCII.
    with open(PHOTO, "rb") as f:
        r = s.post(f"{api}/media", files={"file": ("Été à la mer.png", f, "image/png")})
    expect(r.status_code == 201, "upload with an accented name", r)
    created.append(f"media/{r.json()['id']}")
    expect(re.search(r"/Ete-a-la-mer(-\d+)?\.png$", r.json()["source_url"]), "accents removed", r)
    expect(requests.get(r.json()["source_url"]).status_code == 200, "accented upload served")
    ok("upload 'Été à la mer.png'", r, r.json()["source_url"].rsplit("/", 1)[-1])

    # Publish.
    r = follows(s.post(f"{api}/posts/{post_id}", json={"status": "publish"}), "publish", POST_ID=post_id)
    expect(r.status_code == 200 and r.json()["status"] == "publish", "publish", r)
    public = requests.get(f"{api}/posts/{post_id}")  # anonymous: visible now
    expect(public.status_code == 200 and category_id in public.json()["categories"], "publish: public", public)
    ok("publish", r, "visible anonymously")

    # Schedule another one: a future date turns publish into future.
    scheduled = drafts[1]
    r = follows(s.post(f"{api}/posts/{scheduled}", json={"status": "publish", "date": "2099-01-01T09:00:00"}),
                "schedule", POST_ID=scheduled)
    expect(r.status_code == 200 and r.json()["status"] == "future", "schedule: status future", r)
    again = s.get(f"{api}/posts/{scheduled}", params={"context": "edit"}).json()
    expect(again["status"] == "future" and again["date"] == "2099-01-01T09:00:00", f"schedule: read back {again}")
    expect(requests.get(f"{api}/posts/{scheduled}").status_code == 401, "schedule: not public yet")
    ok("schedule", r, "status future, not public")

    # A page.
    r = follows(s.post(f"{api}/pages", json={"title": "About", "content": "Who we are.", "status": "publish"}),
                "create-page")
    expect(r.status_code == 201, "create-page", r)
    page_id = r.json()["id"]
    created.append(f"pages/{page_id}")
    r = follows(s.post(f"{api}/pages/{page_id}", json={"title": "About us", "content": "Who we are, and what we do."}),
                "update-page", PAGE_ID=page_id)
    expect(r.status_code == 200 and r.json()["title"]["raw"] == "About us", "update-page", r)
    ok("update-page", r)

    # Revoke the second token; it stops working at once.
    r = follows(s.get(f"{api}/users/me/application-passwords"), "list-tokens")
    expect(r.status_code == 200 and token["uuid"] in [t["uuid"] for t in r.json()], "list-tokens", r)
    r = follows(s.delete(f"{api}/users/me/application-passwords/{token['uuid']}"), "revoke-token",
                TOKEN_UUID=token["uuid"])
    expect(r.status_code == 200 and r.json()["deleted"] is True, "revoke-token", r)
    created.remove(f"users/me/application-passwords/{token['uuid']}")
    gone = requests.get(f"{api}/users/me", auth=(WP_USER, token["password"]))
    expect(gone.status_code == 401, "revoke-token: the token is refused", gone)
    ok("revoke-token", r, "then users/me -> 401")

    return {"published": post_id, "scheduled": scheduled, "page": page_id, "media": media["id"],
            "category": category_id, "drafts": drafts[2:], "revoked_token": token["uuid"]}


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL {e}", file=sys.stderr)
        sys.exit(1)
