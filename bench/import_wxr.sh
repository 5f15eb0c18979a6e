#!/usr/bin/env bash
# WXR import benchmark: `ferropress import wxr` of a generated file of N posts (default
# 10,000; each with a category, a tag, a custom field and a paragraph of content, every
# fifth with a comment: COMMENTS_EVERY=N changes that, 0 for none) into a fresh SQLite data dir. Prints posts/s and the importer's
# peak RSS (GNU time's "Maximum resident set size").
#
#   bench/import_wxr.sh [N]
#
# FERROPRESS_BENCH_BIN=path/to/ferropress uses that binary instead of a release build.
# Targets (issue #20): >= 1,000 posts/s, peak RSS < 150 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
BIN=${FERROPRESS_BENCH_BIN:-}
if [[ -z $BIN ]]; then
    cargo build --release -j2 --bin ferropress >&2
    BIN=target/release/ferropress
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 - "$N" "${COMMENTS_EVERY:-5}" >"$WORK/site.xml" <<'PY'
import sys
n = int(sys.argv[1])
every = int(sys.argv[2])
w = sys.stdout.write
w('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
  'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
  'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n<wp:base_site_url>http://bench.example</wp:base_site_url>\n'
  '<wp:author><wp:author_id>2</wp:author_id><wp:author_login><![CDATA[writer]]></wp:author_login>'
  '<wp:author_email><![CDATA[writer@example.com]]></wp:author_email></wp:author>\n'
  '<wp:category><wp:term_id>5</wp:term_id><wp:category_nicename><![CDATA[news]]></wp:category_nicename>'
  '<wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[News]]></wp:cat_name></wp:category>\n'
  '<wp:tag><wp:term_id>6</wp:term_id><wp:tag_slug><![CDATA[bench]]></wp:tag_slug><wp:tag_name><![CDATA[Bench]]></wp:tag_name></wp:tag>\n')
body = '<p>' + 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. ' * 8 + '</p>'
for i in range(1, n + 1):
    pid = 100 + i
    w(f'<item><title>Post {i}</title><dc:creator><![CDATA[writer]]></dc:creator>'
      f'<guid isPermaLink="false">http://bench.example/?p={pid}</guid>'
      f'<content:encoded><![CDATA[{body}]]></content:encoded><excerpt:encoded><![CDATA[]]></excerpt:encoded>'
      f'<wp:post_id>{pid}</wp:post_id><wp:post_date><![CDATA[2025-01-01 10:00:00]]></wp:post_date>'
      f'<wp:post_date_gmt><![CDATA[2025-01-01 10:00:00]]></wp:post_date_gmt>'
      f'<wp:comment_status><![CDATA[open]]></wp:comment_status><wp:ping_status><![CDATA[open]]></wp:ping_status>'
      f'<wp:post_name><![CDATA[post-{i}]]></wp:post_name><wp:status><![CDATA[publish]]></wp:status>'
      f'<wp:post_parent>0</wp:post_parent><wp:menu_order>0</wp:menu_order><wp:post_type><![CDATA[post]]></wp:post_type>'
      f'<wp:post_password><![CDATA[]]></wp:post_password><wp:is_sticky>0</wp:is_sticky>'
      f'<category domain="category" nicename="news"><![CDATA[News]]></category>'
      f'<category domain="post_tag" nicename="bench"><![CDATA[Bench]]></category>'
      f'<wp:postmeta><wp:meta_key><![CDATA[views]]></wp:meta_key><wp:meta_value><![CDATA[{i}]]></wp:meta_value></wp:postmeta>')
    if every and i % every == 0:
        w(f'<wp:comment><wp:comment_id>{pid}</wp:comment_id><wp:comment_author><![CDATA[Reader]]></wp:comment_author>'
          f'<wp:comment_date_gmt>2025-01-02 00:00:00</wp:comment_date_gmt>'
          f'<wp:comment_content><![CDATA[Nice post {i}]]></wp:comment_content><wp:comment_approved>1</wp:comment_approved></wp:comment>')
    w('</item>\n')
w('</channel>\n</rss>\n')
PY
SIZE=$(stat -c %s "$WORK/site.xml")
START=$(date +%s.%N)
/usr/bin/time -v "$BIN" --data-dir "$WORK/data" import wxr "$WORK/site.xml" >"$WORK/out.txt" 2>"$WORK/time.txt"
END=$(date +%s.%N)
grep -E "^posts|^comments" "$WORK/out.txt"
RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
python3 - "$N" "$START" "$END" "$RSS_KB" "$SIZE" <<'PY'
import sys
n, start, end, rss, size = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
secs = end - start
print(f"| WXR import, {n:,} posts ({size / 1e6:.1f} MB file) | {secs:.2f} s | {n / secs:,.0f} posts/s | peak RSS {rss / 1024:.1f} MB |")
PY
