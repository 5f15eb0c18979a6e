#!/usr/bin/env python3
"""Publishing over XML-RPC with Python's standard `xmlrpc.client`, as a blogging script would.

Uploads an image, makes a category, publishes a post in it with the image as featured image,
lists, edits and reads it back, and deletes a second post. Environment as recipes.py:
FERROPRESS_URL (the site), WP_USER, WP_APP_PASSWORD; KEEP_CREATED=1 leaves the post, the
image and the category (default: deleted at the end). Last line: `RESULT {json}`.
Passes against WordPress 6.1 too (XMLRPC_TARGET=wordpress only changes nothing but the label).
"""

import json
import os
import sys
import uuid
import xmlrpc.client
from pathlib import Path

SITE = os.environ["FERROPRESS_URL"].rstrip("/")
USER = os.environ["WP_USER"]
# Tokens are accepted with or without their spaces.
PASSWORD = os.environ["WP_APP_PASSWORD"]
PHOTO = Path(__file__).resolve().parent.parent / "fixtures" / "photo.png"


def expect(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def main():
    rpc = xmlrpc.client.ServerProxy(f"{SITE}/xmlrpc.php")
    run = uuid.uuid4().hex[:8]
    blogs = rpc.wp.getUsersBlogs(USER, PASSWORD)
    expect(blogs and blogs[0]["xmlrpc"] == f"{SITE}/xmlrpc.php", f"getUsersBlogs: {blogs}")

    category = int(rpc.wp.newTerm(1, USER, PASSWORD, {"taxonomy": "category", "name": f"XML-RPC {run}"}))
    post = int(rpc.wp.newPost(1, USER, PASSWORD, {
        "post_title": f"Published over XML-RPC {run}",
        "post_content": "<p>Written with <em>xmlrpc.client</em>.</p>",
        "post_status": "draft",
        "terms": {"category": [category]},
    }))
    media = rpc.wp.uploadFile(1, USER, PASSWORD, {
        "name": f"xmlrpc-{run}.png", "type": "image/png",
        "bits": xmlrpc.client.Binary(PHOTO.read_bytes()), "post_id": post,
    })
    media_id = int(media["id"])
    expect(media["type"] == "image/png" and media["url"].endswith(".png"), f"uploadFile: {media}")

    ok = rpc.wp.editPost(1, USER, PASSWORD, post, {"post_status": "publish", "post_thumbnail": media_id})
    expect(ok is True, f"editPost: {ok!r}")
    listed = rpc.wp.getPosts(1, USER, PASSWORD, {"number": 20, "post_status": "publish"}, ["post_title"])
    expect(any(int(p["post_id"]) == post for p in listed), f"getPosts lists the post: {listed}")

    got = rpc.wp.getPost(1, USER, PASSWORD, post)
    expect(got["post_status"] == "publish", f"status: {got['post_status']}")
    expect(int(got["post_thumbnail"]["attachment_id"]) == media_id, f"thumbnail: {got['post_thumbnail']}")
    expect([int(t["term_id"]) for t in got["terms"] if t["taxonomy"] == "category"] == [category],
           f"terms: {got['terms']}")
    expect(isinstance(got["post_date"], xmlrpc.client.DateTime), "post_date is a dateTime.iso8601")

    # A second post, deleted: to the trash, then for good.
    other = int(rpc.wp.newPost(1, USER, PASSWORD, {"post_title": f"Short-lived {run}"}))
    expect(rpc.wp.deletePost(1, USER, PASSWORD, other) is True, "deletePost")
    expect(rpc.wp.getPost(1, USER, PASSWORD, other, ["post_status"])["post_status"] == "trash", "trashed")
    expect(rpc.wp.deletePost(1, USER, PASSWORD, other) is True, "deletePost from the trash")
    try:
        rpc.wp.getPost(1, USER, PASSWORD, other)
        expect(False, "the deleted post is gone")
    except xmlrpc.client.Fault as f:
        expect(f.faultCode == 404, f"fault {f.faultCode}")

    # A wrong password is WordPress's fault 403.
    try:
        rpc.wp.getUsersBlogs(USER, "wrong")
        expect(False, "a wrong password is refused")
    except xmlrpc.client.Fault as f:
        expect(f.faultCode == 403, f"fault {f.faultCode}")

    if os.environ.get("KEEP_CREATED") != "1":
        rpc.wp.deletePost(1, USER, PASSWORD, post)
        rpc.wp.deletePost(1, USER, PASSWORD, post)
        rpc.wp.deletePost(1, USER, PASSWORD, media_id)
        rpc.wp.deleteTerm(1, USER, PASSWORD, "category", category)
    print("RESULT " + json.dumps({"post": post, "media": media_id, "category": category}))


if __name__ == "__main__":
    main()
