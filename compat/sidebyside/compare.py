#!/usr/bin/env python3
"""Side by side: WordPress's own PHP functions and ferropress's ports over the same
generated inputs (random mixes of quotes, dashes, tags, shortcodes, newlines, smilies,
<pre>, <script>, entities...). Prints inputs and mismatches per function; exits 1 on any
mismatch. Needs the oracle's WordPress install (scripts/wordpress-oracle.sh start).

    python3 compat/sidebyside/compare.py --ferropress target/debug/ferropress [--count 10000]
        [--only wptexturize] [--seed 1] [--show 3]
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

TOKENS = [
    "'", "'", "'", '"', '"', '"', "-", "--", "---", "...", " ", " ", " ", " ", "\n", "\n\n",
    "\r\n", "\t", "&", "&amp;", "&nbsp;", "\u00a0", "&#8217;", "&lt;", "&gt;", "&a;", "&#x41;",
    "9", "12", "0", "1999", "x", "xn", "a", "word", "It", "s", "Wordpress", " (tm)", "'tis",
    "'cause", "``", "''", "(", ")", "[", "]", "{", ".", ",", ";", ":", "!", "?", "%", "/", "é",
    "<p>", "</p>", "<div>", "</div>", "<pre>", "</pre>", "<code>", "</code>", "<kbd>",
    "</kbd>", "<script>", "</script>", "<style>", "</style>", "<br>", "<br />", "<br/>",
    "<!-- c -->", "<!--", "-->", '<img src="a.png" alt="x">', "<blockquote>", "</blockquote>",
    "<li>", "</li>", "<ul>", "</ul>", "<option>", "</option>", "<hr>", "<hr />", "<svg>",
    "</svg>", "<object>", "</object>", "<param>", "<figcaption>", "</figcaption>",
    "<textarea>", "</textarea>", "<tt>", "</tt>", "<a href=\"x?a=1&b=2\">", "</a>",
    "<![CDATA[", "]]>", "<", ">", "<p class='x'>", "<table>", "<td>", "</td>", "<h2>", "</h2>",
    "[caption]", "[/caption]", "[caption id=\"a\"]", '[gallery ids="1,2"]', "[gallery/]",
    "[playlist]", '[playlist ids="1,2" type="video" style="dark"]', "[[playlist]]",
    "[[caption]]", "[foo]", "[embed]", "[/embed]", "[audio src='a.mp3']", "<source>",
    '[caption id="attachment_1" align="alignright" width="300"]', '[caption width=20 caption="c <b>x</b>"]',
    "[caption width='2x' class=\"k\"]", "[wp_caption width=1]", "[/wp_caption]", "[caption/]", "[caption.x]",
    "&#91;", "&#93;", "[[", "]]", "<a href='u'>", '<b title="[caption]">', "&copy;", "’", "“", "”", "…",
    "<!-- wp:paragraph -->", "<!-- /wp:paragraph -->", "<!-- wp:separator /-->",
    '<!-- wp:heading {"level":3} -->', "<!-- /wp:heading -->", "<!-- wp:core/group {\"a\":\"}\"} -->",
    "<!-- /wp:group -->", "<!--wp:x-->", "<!-- wp:", " -->", "{", "}", "©", "™", "\u200b", "—", "–", "×", "Ü", "ß", "日本", "%41", "%e2%80%99", "&hellip;",
    "<video>", "</video>", '<img src="b.jpg" width="10" height="5">', "<img ",
    '<iframe src="v" width="1" height="2">', "<iframe x>",
    '[audio src="http://x.test/a.mp3"]', "[audio]", '[audio mp3="b.mp3" ogg="c.ogg" loop="1"]',
    '[audio src="javascript:alert(1)"]', '[audio src="a.wav" class=\'"><b>\' preload=0]',
    '[video src="v.mp4" width="10"]', "[/video]", '[video webm="http://x.test/a.webm?x=1&y" poster="javascript:x"]',
    '[video src="https://youtu.be/abc?feature=1&t=2" muted="TRUE" height="h"]',
    '[video src="https://player.vimeo.com/video/1?x=2" loop="false"]', "<track src='t.vtt'>",
    "http://x.test/v.mp4", "https://x.test/a.ogg", "http://x.test/p", "HTTP://X.TEST/A.FLAC",
    "[embed]http://x.test/a.mp3[/embed]", '[embed width="5" height="6"]', "https://www.youtube.com/embed/xy/z",
    '[embed src="http://x.test/b.m4v"/]', "<p>", "</p>", ' src="', ' loading="eager"', " decoding=", ":)", ":-)", ";)", ":mrgreen:", "8O", ":?:", ":D", ":-P", "8-)",
]

# Links, addresses and tag shapes for the comment filters (make_clickable,
# force_balance_tags), mixed with TOKENS.
LINK_TOKENS = [
    "http://x.test", "https://x.test/a_(b)", "http://x.test/a?b=1&c='d'", "HTTP://X.TEST/P",
    "ftp://f.test/x.", "x://y", "mailto:a@b.test", "www.x.test", "WWW.x.test/p,", "ftp.x.test;",
    "www.", "a@b.test", "a.b+c@d.e-f.co.uk", "@", "a@b.c", "a@b..test", "a@-.test", "(", ")",
    "((", "))", "://", "http://", "javascript://x%0aalert(1)", "<http://x.test>", "< http://y.test>",
    "<a href=\"u\">", "</a>", "<A HREF='v'>", "</A>", "<a>", "<code>", "</code>", "<pre>", "</pre>",
    "<script>", "</script>", "<b>", "</b>", "<B>", "<i>", "</i>", "<p>", "</p>", "<div>", "</div>",
    "<span>", "</span>", "<q>", "</q>", "<br>", "<br/>", "<hr />", "<img src=x>", "<img src=x/>",
    "<my-el>", "</my-el>", "<my-el x='1'/>", "<x:y>", "</x:y>", "<p/>", "<p / >", "</p x>", "<3",
    "< !--", "<!-- c -->", "<    !--", "<blockquote>", "</blockquote>", "<ul><li>", "</li></ul>",
    "<td>", "<tr>", "<table>", "<3>", "</>", "<>", "<a <b>", "<p\n>", "<p\tclass=\"a\">",
    "\u00e9", "日本", "?", "!", ".", ",", ";", ":", "'", " ", " ", " ", "\n", "\t", "x", "word",
    "http://x.test/" + "y" * 30, "http://" + "a" * 21 + "://b", "a" * 20 + "://b",
]

FUNCTIONS = [
    "wptexturize", "wpautop", "shortcode_unautop", "convert_smilies", "convert_chars",
    "capital_P_dangit", "the_title", "the_content", "the_excerpt", "sanitize_title",
    "wp_filter_content_tags", "do_shortcode", "strip_shortcodes", "wp_trim_excerpt", "do_blocks",
    "autoembed", "make_clickable", "force_balance_tags", "comment_text",
]
LINK_FUNCTIONS = {"make_clickable", "force_balance_tags", "comment_text"}


# Documented differences (docs/compat.md anchors): a mismatch counts as one only when
# undoing exactly that difference on WordPress's output gives ferropress's output (or, for
# nested tags, when the input has the malformed shape the row describes).
DOCUMENTED = [
    ("shortcodes-in-attributes",
     lambda s, php, rust: php.replace('<b title="">', '<b title="[caption]">') == rust),
    ("static-blocks-only",
     lambda s, php, rust: php.replace("is-layout-flow ", "").replace(' class="is-layout-flow"', "") == rust),
    ("nested-img-tags",
     lambda s, php, rust: any(t in s for t in ("<img <img", "<img <iframe", "<iframe <img"))),
]


# Players are numbered per process (`static $instance`): once one input differs by a
# documented difference that runs a player on one side only, every later number would
# differ. The numbers are compared by the REST scenarios (compat/scenarios/shortcodes.json).
PLAYER_NUMBER = re.compile(r"((?:audio|video)-0-|_=)\d+")


def unnumbered(s):
    return PLAYER_NUMBER.sub(r"\1N", s) if s is not None else s


def explain(s, php, rust):
    for anchor, test in DOCUMENTED:
        if test(s, php, rust):
            return anchor
    both = php.replace('<b title="">', '<b title="[caption]">')
    if DOCUMENTED[1][1](s, both, rust):
        return "shortcodes-in-attributes+static-blocks-only"
    # Row 71 for any registered shortcode inside a tag (`<img [audio]`), which
    # `wp_kses_hair_parse()` takes as an attribute and `do_shortcodes_in_html_tags()` runs;
    # ferropress's output keeps it inside its tag (also one an `[embed]` link made).
    if any(re.search(r"<[^>]*\[(?:audio|video|embed|caption|wp_caption|gallery|playlist)\b", t) for t in (s, rust)):
        return "shortcodes-in-attributes"
    return None


def generate(count, seed, tokens=TOKENS):
    rng = random.Random(seed)
    inputs = []
    for _ in range(count):
        n = rng.randint(0, 24)
        inputs.append("".join(rng.choice(tokens) for _ in range(n)))
    return inputs


def run(cmd, inputs):
    out = subprocess.run(cmd, input=json.dumps(inputs).encode(), capture_output=True, check=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferropress", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", action="append")
    ap.add_argument("--show", type=int, default=3)
    args = ap.parse_args()
    plain = generate(args.count, args.seed)
    links = generate(args.count, args.seed, TOKENS + LINK_TOKENS * 3)
    failed = False
    for fn in args.only or FUNCTIONS:
        inputs = links if fn in LINK_FUNCTIONS else plain
        php = [unnumbered(p) for p in run(["php", os.path.join(HERE, "wordpress.php"), fn], inputs)]
        rust = [unnumbered(r) for r in run([args.ferropress, "format", fn], inputs)]
        errors = sum(1 for p in php if p is None)
        differ = [(i, p, r) for i, (p, r) in enumerate(zip(php, rust)) if p is not None and p != r]
        documented = {}
        bad = []
        for i, p, r in differ:
            anchor = explain(inputs[i], p, r)
            if anchor:
                documented[anchor] = documented.get(anchor, 0) + 1
            else:
                bad.append((i, p, r))
        note = f"; {errors} inputs make WordPress's PHP fail (#caption-without-attributes)" if errors else ""
        doc = "".join(f"; {n} differ as documented (#{a})" for a, n in sorted(documented.items()))
        print(f"{fn}: {len(inputs)} inputs, {len(bad)} mismatches{doc}{note}")
        for i, p, r in bad[: args.show]:
            print(f"  input {inputs[i]!r}\n    php  {p!r}\n    rust {r!r}")
        failed |= bool(bad)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
