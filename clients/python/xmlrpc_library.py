#!/usr/bin/env python3
"""Publishing with python-wordpress-xmlrpc (PyPI), a blogging library nobody here wrote.

The same story as xmlrpc_stdlib.py through the library's own objects: upload an image,
make a category, publish a post in it with the image as featured image, list, edit, read
back, and delete a second post. Environment as recipes.py; last line `RESULT {json}`.
"""

import json
import os
import sys
import uuid
from pathlib import Path

# The library (2.3, its last release) predates Python 3.10, which moved these ABCs.
import collections
import collections.abc

for _name in ("Iterable", "Mapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from wordpress_xmlrpc import Client, WordPressPost, WordPressTerm  # noqa: E402
from wordpress_xmlrpc.compat import xmlrpc_client  # noqa: E402
from wordpress_xmlrpc.methods import media, posts, taxonomies  # noqa: E402

SITE = os.environ["FERROPRESS_URL"].rstrip("/")
PHOTO = Path(__file__).resolve().parent.parent / "fixtures" / "photo.png"


def expect(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def main():
    wp = Client(f"{SITE}/xmlrpc.php", os.environ["WP_USER"], os.environ["WP_APP_PASSWORD"])
    run = uuid.uuid4().hex[:8]

    term = WordPressTerm()
    term.taxonomy = "category"
    term.name = f"Library {run}"
    term.id = wp.call(taxonomies.NewTerm(term))
    category = wp.call(taxonomies.GetTerm("category", term.id))

    post = WordPressPost()
    post.title = f"Published with python-wordpress-xmlrpc {run}"
    post.content = "Hello from a library."
    post.terms = [category]
    post.post_status = "draft"
    post.id = wp.call(posts.NewPost(post))

    uploaded = wp.call(media.UploadFile({
        "name": f"library-{run}.png", "type": "image/png",
        "bits": xmlrpc_client.Binary(PHOTO.read_bytes()), "post_id": post.id,
    }))
    post.thumbnail = uploaded["id"]
    post.post_status = "publish"
    expect(wp.call(posts.EditPost(post.id, post)) is True, "EditPost")

    listed = wp.call(posts.GetPosts({"number": 20, "post_status": "publish"}))
    found = [p for p in listed if str(p.id) == str(post.id)]
    expect(found, f"GetPosts lists the post ({[p.id for p in listed]})")
    got = wp.call(posts.GetPost(post.id))
    expect(got.post_status == "publish", f"status {got.post_status}")
    expect(str(got.thumbnail["attachment_id"]) == str(uploaded["id"]), f"thumbnail {got.thumbnail}")
    expect([t.name for t in got.terms if t.taxonomy == "category"] == [category.name], f"terms {got.terms}")

    other = WordPressPost()
    other.title = f"Short-lived {run}"
    other.id = wp.call(posts.NewPost(other))
    expect(wp.call(posts.DeletePost(other.id)) is True, "DeletePost (to the trash)")
    expect(wp.call(posts.DeletePost(other.id)) is True, "DeletePost (for good)")

    result = {"post": int(post.id), "media": int(uploaded["id"]), "category": int(category.id)}
    if os.environ.get("KEEP_CREATED") != "1":
        wp.call(posts.DeletePost(post.id))  # to the trash, then for good
        wp.call(posts.DeletePost(post.id))
        wp.call(posts.DeletePost(int(uploaded["id"])))
        wp.call(taxonomies.DeleteTerm("category", category.id))
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
