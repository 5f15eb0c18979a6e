#!/bin/sh
# A WP-CLI script: create an author, give them an Application Password, publish a post
# with a category and a featured image, list it as JSON, delete it.
#
# It runs unchanged against ferropress with `wp` replaced by `ferropress` (the site is
# the one of FERROPRESS_DATA_DIR, or of FERROPRESS_DATABASE_URL; set FERROPRESS_URL to the
# site's public address so links are right). A running server sees every change on its
# next request.
#
#   sh docs/wp-cli-recipe.sh cover.png
set -eu
IMAGE=${1:?usage: wp-cli-recipe.sh IMAGE}

AUTHOR_ID=$(wp user create jane jane@example.com --role=author --display_name="Jane Doe" --porcelain)
TOKEN=$(wp user application-password create jane "Publishing script" --porcelain)
echo "Application Password for jane: $TOKEN"

CATEGORY_ID=$(wp term create category Announcements --porcelain)
POST_ID=$(wp post create --post_title="Hello from the shell" \
  --post_content="<p>Published by a script.</p>" --post_status=publish \
  --post_author="$AUTHOR_ID" --post_category="$CATEGORY_ID" --porcelain)
MEDIA_ID=$(wp media import "$IMAGE" --post_id="$POST_ID" --title="Cover" --featured_image --porcelain)
echo "Featured image of post $POST_ID: $(wp post meta get "$POST_ID" _thumbnail_id) (attachment $MEDIA_ID)"

wp post list --post_status=publish --author="$AUTHOR_ID" --fields=ID,post_title,post_status --format=json

wp post delete "$POST_ID" --force
