#!/usr/bin/env python3
"""Comment moderation with Python's `requests`, as a moderation script would do it against
the WordPress REST API: a thread on a post, the held comments listed and approved, one
marked as spam, a reply, one trashed then deleted, and the public view checked.

    FERROPRESS_URL   the site, without /wp-json        (required)
    WP_USER          login of an editor (moderate_comments)   (required)
    WP_APP_PASSWORD  its Application Password           (required)
    KEEP_CREATED=1   leave what was created (default: delete it at the end)

tests/api/clients.rs runs it against ferropress; it passes against WordPress too. The last
line of output is `RESULT {json}` with the ids of what was created.
"""

import json
import os
import sys
import uuid

import requests

SITE = os.environ["FERROPRESS_URL"].rstrip("/")
API = f"{SITE}/wp-json/wp/v2"
RUN = uuid.uuid4().hex[:8]


class Failure(Exception):
    pass


def expect(cond, what, r=None):
    if not cond:
        detail = f"\n--- {r.status_code} {r.text[:2000]}" if r is not None else ""
        raise Failure(f"{what}{detail}")


def ok(name, note=""):
    print(f"ok   {name}{'  ' + note if note else ''}", flush=True)


def run(s, created):
    r = s.post(f"{API}/posts", json={"title": f"Moderation {RUN}", "content": "Comments below.",
                                     "status": "publish"})
    expect(r.status_code == 201, "create a post", r)
    post = r.json()["id"]
    created.append(f"posts/{post}")

    # Three comments as a visitor would leave them (a moderator may name the author), one
    # of them held for moderation.
    ids = []
    for i, status in enumerate(["approved", "hold", "hold"]):
        r = s.post(f"{API}/comments", json={
            "post": post, "content": f"Comment {i} of {RUN}", "author_name": f"Visitor {i}",
            "author_email": f"visitor{i}-{RUN}@example.com", "status": status})
        expect(r.status_code == 201 and r.json()["status"] == status, f"comment {i} created {status}", r)
        expect(r.json()["author"] == 0 and r.json()["author_email"].startswith(f"visitor{i}"),
               "a moderator sees the author's email", r)
        ids.append(r.json()["id"])
        created.append(f"comments/{ids[-1]}")
    ok("POST /comments", f"{len(ids)} comments, 2 held")

    # The moderation queue: held comments of the post, with the pagination headers.
    r = s.get(f"{API}/comments", params={"post": post, "status": "hold", "context": "edit"})
    expect(r.status_code == 200 and int(r.headers["X-WP-Total"]) == 2, "held comments listed", r)
    expect(sorted(c["id"] for c in r.json()) == sorted(ids[1:]), "the two held ones", r)
    ok("GET /comments?status=hold", f"X-WP-Total {r.headers['X-WP-Total']}")

    r = s.post(f"{API}/comments/{ids[1]}", json={"status": "approved"})
    expect(r.status_code == 200 and r.json()["status"] == "approved", "approved", r)
    r = s.post(f"{API}/comments/{ids[2]}", json={"status": "spam"})
    expect(r.status_code == 200 and r.json()["status"] == "spam", "marked as spam", r)
    r = s.get(f"{API}/comments", params={"post": post, "status": "spam"})
    expect(r.status_code == 200 and [c["id"] for c in r.json()] == [ids[2]], "spam listed", r)
    ok("POST /comments/<id> {status}", "approved one, spam one")

    # A reply from the moderator, threaded under the first comment.
    r = s.post(f"{API}/comments", json={"post": post, "parent": ids[0], "content": f"Thanks! {RUN}"})
    expect(r.status_code == 201 and r.json()["parent"] == ids[0], "reply created", r)
    reply = r.json()["id"]
    created.append(f"comments/{reply}")
    r = s.get(f"{API}/comments/{ids[0]}")
    expect("children" in r.json()["_links"], "the parent links to its children", r)
    ok("reply", f"comment {reply} in reply to {ids[0]}")

    # The public sees approved comments only, without emails.
    r = requests.get(f"{API}/comments", params={"post": post, "order": "asc"})
    expect(r.status_code == 200, "public list", r)
    public = [c["id"] for c in r.json()]
    expect(public == [ids[0], ids[1], reply], f"approved comments only, oldest first ({public})", r)
    expect(all("author_email" not in c for c in r.json()), "no emails in public", r)
    ok("anonymous GET /comments?post=", f"{len(public)} shown")

    # Trash, then delete for good.
    r = s.delete(f"{API}/comments/{ids[1]}")
    expect(r.status_code == 200 and r.json()["status"] == "trash", "trashed", r)
    r = s.delete(f"{API}/comments/{ids[1]}")
    expect(r.status_code == 410 and r.json()["code"] == "rest_already_trashed", "trashed twice", r)
    r = s.delete(f"{API}/comments/{ids[1]}", params={"force": "true"})
    expect(r.status_code == 200 and r.json()["deleted"] is True, "deleted", r)
    created.remove(f"comments/{ids[1]}")
    r = s.get(f"{API}/comments/{ids[1]}")
    expect(r.status_code == 404 and r.json()["code"] == "rest_comment_invalid_id", "gone", r)
    ok("DELETE /comments/<id>", "trash, then force=true")

    return {"post": post, "approved": ids[0], "spam": ids[2], "reply": reply, "deleted": ids[1]}


def main():
    s = requests.Session()
    s.auth = (os.environ["WP_USER"], os.environ["WP_APP_PASSWORD"])
    created = []
    try:
        print("RESULT " + json.dumps(run(s, created)))
    finally:
        if os.environ.get("KEEP_CREATED") != "1":
            for path in reversed(created):
                s.delete(f"{API}/{path}", params={"force": "true"})


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL {e}", file=sys.stderr)
        sys.exit(1)
