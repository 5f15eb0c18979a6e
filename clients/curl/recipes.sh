#!/usr/bin/env bash
# Runs the curl recipes of docs/recipes.md exactly as they are written there (each block
# follows a `<!-- recipe: name -->` comment) against a WordPress REST API, and checks
# their status codes and answers. tests/api/clients.rs runs it against ferropress; it
# passes against WordPress too (docs/recipes.md, "Checking against WordPress").
#
#   FERROPRESS_URL   the site, without /wp-json        (required)
#   WP_USER          login of an editor                 (required)
#   WP_APP_PASSWORD  its Application Password           (required)
#   FERROPRESS_BIN   the ferropress binary: runs the command-line recipe too (with the
#                    store of FERROPRESS_DATA_DIR / FERROPRESS_DATABASE_URL)
#   KEEP_CREATED=1   leave what was created (default: delete it at the end)
#
# The last line of output is `RESULT {json}` with the ids of what was created.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
doc=${RECIPES_DOC:-$here/../../docs/recipes.md}
: "${FERROPRESS_URL:?set FERROPRESS_URL to the site (without /wp-json)}"
: "${WP_USER:?set WP_USER}" "${WP_APP_PASSWORD:?set WP_APP_PASSWORD}"
SITE=${FERROPRESS_URL%/}
ADMIN_PASSWORD=$WP_APP_PASSWORD # the token given to us, used for the cleanup

work=$(mktemp -d)
created=() # "posts/12" "media/3" … deleted at the end unless KEEP_CREATED=1
TOKEN_UUID=
TOKEN_REVOKED=
cleanup() {
  local status=$?
  if [ "${KEEP_CREATED:-}" != 1 ]; then
    for path in "${created[@]}"; do
      command curl -sS -o /dev/null -u "$WP_USER:$ADMIN_PASSWORD" -X DELETE \
        "$SITE/wp-json/wp/v2/$path?force=true" || true
    done
    if [ -n "$TOKEN_UUID" ] && [ -z "$TOKEN_REVOKED" ]; then
      command curl -sS -o /dev/null -u "$WP_USER:$ADMIN_PASSWORD" -X DELETE \
        "$SITE/wp-json/wp/v2/users/me/application-passwords/$TOKEN_UUID" || true
    fi
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
cp "$here/../fixtures/photo.png" "$work/photo.png"
cd "$work"

# The ```sh block that follows `<!-- recipe: $1 -->` in the doc.
recipe() {
  awk -v name="$1" '
    $0 == "<!-- recipe: " name " -->" { want = 1; next }
    want && /^```sh$/ { inside = 1; want = 0; found = 1; next }
    want && /^```/ { want = 0 }
    inside && /^```$/ { inside = 0; next }
    inside { print }
    END { if (!found) exit 1 }
  ' "$doc" || { echo "docs/recipes.md has no sh recipe named '$1'" >&2; exit 1; }
}

# The recipes' `curl`, as a terminal would run it, except that the answer's status,
# headers and body are kept for the checks (-i is dropped: headers are kept anyway).
curl() {
  local args=() a
  for a in "$@"; do [[ $a == -i || $a == --include ]] || args+=("$a"); done
  command curl -sS -D "$work/headers" -o "$work/body" -w '%{http_code}' "${args[@]}" >"$work/status"
}

fail() {
  echo "FAIL $*" >&2
  echo "--- status $(cat "$work/status" 2>/dev/null); body:" >&2
  head -c 2000 "$work/body" >&2 2>/dev/null || true
  echo >&2
  exit 1
}

# run NAME STATUS...: runs the recipe, checks that the status is one of STATUS.
run() {
  local name=$1 got
  shift
  local block
  block=$(recipe "$name")
  eval "$block"
  got=$(cat "$work/status")
  for want in "$@"; do
    if [ "$got" = "$want" ]; then
      echo "ok   $name -> $got"
      return 0
    fi
  done
  fail "$name: status $got, expected $*"
}

# check 'PYTHON EXPRESSION' [message]: b is the JSON body of the last answer.
check() {
  python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$work/body" "$1" || fail "check failed: $1 ${2:-}"
}

# field 'PYTHON EXPRESSION': prints its value from the last answer's body.
field() {
  python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$work/body" "$1"
}

# header NAME: the value of a header of the last answer.
header() {
  grep -i "^$1:" "$work/headers" | tail -n 1 | cut -d: -f2- | tr -d ' \r'
}

# --- Application Passwords -------------------------------------------------------------
if [ -n "${FERROPRESS_BIN:-}" ]; then
  ferropress() { "$FERROPRESS_BIN" "$@"; }
  token=$(eval "$(recipe cli-create-token)")
  [[ $token =~ ^[A-Za-z0-9]{24}$ ]] || fail "cli-create-token printed '$token', not a 24-character token"
  echo "ok   cli-create-token -> a 24-character token; the recipes below use it"
  WP_APP_PASSWORD=$token
else
  echo "skip cli-create-token (FERROPRESS_BIN not set: not a ferropress site)"
fi

run api-create-token 201
check '"password" in b and len(b["password"].replace(" ", "")) == 24 and b["name"] == "Deploy script"'
TOKEN_UUID=$(field 'b["uuid"]')
TOKEN_PASSWORD=$(field 'b["password"]')

# --- Posts -----------------------------------------------------------------------------
run create-draft 201
check 'b["status"] == "draft" and b["title"]["raw"] == "My first post"'
POST_ID=$(field 'b["id"]')
created+=("posts/$POST_ID")

run list-drafts 200
total=$(header X-WP-Total)
pages=$(header X-WP-TotalPages)
[ "${total:-0}" -ge 1 ] && [ "${pages:-0}" -ge 1 ] || fail "list-drafts: X-WP-Total '$total', X-WP-TotalPages '$pages'"
check "all(p['status'] == 'draft' for p in b) and len(b) == min($total, 10)" "(drafts only, one page)"
check "$POST_ID in [p['id'] for p in b]" "(the new draft is listed)"
if [ "$pages" -gt 1 ]; then
  grep -i '^link:.*rel="next"' "$work/headers" >/dev/null || fail "list-drafts: no Link rel=next with $pages pages"
fi
echo "     X-WP-Total: $total, X-WP-TotalPages: $pages"

run update-meta 200
if [ "$(field '"subtitle" in b["meta"]')" = True ]; then
  check 'b["meta"]["subtitle"] == "Notes from the field"'
else
  echo "     (meta key 'subtitle' is not registered on this site: the value was ignored)"
fi

# --- Categories ------------------------------------------------------------------------
run create-category 201 400
if [ "$(cat "$work/status")" = 400 ]; then
  # Left by an earlier run that did not finish: WordPress names the existing term.
  check 'b["code"] == "term_exists"'
  CATEGORY_ID=$(field 'b["data"]["term_id"]')
else
  check 'b["name"] == "Field notes" and b["taxonomy"] == "category"'
  CATEGORY_ID=$(field 'b["id"]')
fi
created+=("categories/$CATEGORY_ID")
run assign-category 200
check "b['categories'] == [$CATEGORY_ID]"

# --- Media -----------------------------------------------------------------------------
run upload-media 201
check 'b["media_type"] == "image" and b["mime_type"] == "image/png" and b["media_details"]["width"] == 200'
MEDIA_ID=$(field 'b["id"]')
created+=("media/$MEDIA_ID")
source_url=$(field 'b["source_url"]')
command curl -sS -o "$work/served.png" "$source_url"
cmp -s "$work/served.png" "$work/photo.png" || fail "upload-media: $source_url does not serve the uploaded bytes"
echo "     $source_url serves the file"

run upload-media-form 201
check 'b["title"]["raw"] == "Harbour at dawn" and b["alt_text"] == "Boats in the harbour" and b["mime_type"] == "image/png"'
created+=("media/$(field 'b["id"]')")

run set-featured-media 200
check "b['featured_media'] == $MEDIA_ID"

# --- Publish, schedule -----------------------------------------------------------------
run publish 200
check 'b["status"] == "publish"'
PUBLISHED_ID=$POST_ID

run create-draft 201
POST_ID=$(field 'b["id"]')
created+=("posts/$POST_ID")
run schedule 200
check 'b["status"] == "future" and b["date"] == "2099-01-01T09:00:00"'
SCHEDULED_ID=$POST_ID

# --- Pages -----------------------------------------------------------------------------
run create-page 201
PAGE_ID=$(field 'b["id"]')
created+=("pages/$PAGE_ID")
run update-page 200
check 'b["title"]["raw"] == "About us" and b["content"]["raw"] == "Who we are, and what we do."'

# --- Revoke ----------------------------------------------------------------------------
run list-tokens 200
check "'$TOKEN_UUID' in [t['uuid'] for t in b] and not any('password' in t for t in b)"
run revoke-token 200
check 'b["deleted"] is True'
TOKEN_REVOKED=1
status=$(command curl -sS -o /dev/null -w '%{http_code}' -u "$WP_USER:$TOKEN_PASSWORD" "$SITE/wp-json/wp/v2/users/me")
[ "$status" = 401 ] || fail "the revoked token still works (users/me -> $status)"
echo "     the revoked token is refused (users/me -> 401)"

echo "RESULT {\"published\":$PUBLISHED_ID,\"scheduled\":$SCHEDULED_ID,\"page\":$PAGE_ID,\"media\":$MEDIA_ID,\"category\":$CATEGORY_ID,\"revoked_token\":\"$TOKEN_UUID\"}"
