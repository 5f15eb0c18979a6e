#!/usr/bin/env python3
"""WP_Query::parse_search() side by side with crate::search::parse_search (issue 16).

Generates N random search strings from pieces that exercise the syntax (quotes, `-`, `,`,
`+`, tabs, line breaks, backslashes, stopwords, one-letter terms, `0`, accents), runs
WordPress's own parse_search() on them with the oracle's PHP, and writes the answers to a
JSON file that the ignored unit test `search::tests::same_terms_as_wordpress` compares:

    python3 scripts/parse-search-side-by-side.py /tmp/parse_cases.json 10000
    FERROPRESS_PARSE_SEARCH_CASES=/tmp/parse_cases.json \
        cargo test -j2 --lib search:: -- --include-ignored --nocapture
"""
import json
import os
import random
import subprocess
import sys
import tempfile

PHP = r"""<?php
$_SERVER['HTTP_HOST'] = '127.0.0.1';
require '/usr/share/wordpress/wp-load.php';
class Q extends WP_Query {
    public function t( $s ) {
        $q = array( 's' => $s );
        $r = new ReflectionMethod( 'WP_Query', 'parse_search' );
        $r->setAccessible( true );
        $r->invokeArgs( $this, array( &$q ) );
        return $q;
    }
}
$x   = new Q();
$out = array();
foreach ( json_decode( file_get_contents( $argv[1] ) ) as $s ) {
    $q     = $x->t( $s );
    $out[] = array( 's' => $s, 'terms' => array_values( $q['search_terms'] ), 'count' => $q['search_terms_count'] );
}
file_put_contents( $argv[2], json_encode( $out ) );
"""

PIECES = ['a', 'b', 'x', 'the', 'of', '-', '"', "'", ' ', ' ', ',', '+', '\t', '0', 'é', 'É',
          'hc', 'alpha', 'Z', 'ß', '%', '_', '\\', '\n', '\r', '-a', '"x y"', "it's"]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else '/tmp/parse_cases.json'
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rng = random.Random(7)
    cases = [''.join(rng.choice(PIECES) for _ in range(rng.randint(0, 14))) for _ in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, 'in.json')
        script = os.path.join(tmp, 'parse.php')
        with open(inp, 'w') as f:
            json.dump(cases, f)
        with open(script, 'w') as f:
            f.write(PHP)
        env = dict(os.environ, WORDPRESS_CONFIG=os.environ.get('WORDPRESS_CONFIG', 'ferropress-oracle-8881'))
        subprocess.run(['php', script, inp, out], check=True, env=env, cwd=tmp)
    print(f'{n} cases written to {out}')


if __name__ == '__main__':
    main()
