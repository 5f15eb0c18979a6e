#!/usr/bin/env python3
"""crate::search::fold side by side with MariaDB's utf8mb4_unicode_520_ci (issue 16).

Generates N random words of Latin letters (with and without accents, both cases), digits,
spaces and ASCII punctuation, asks the oracle's MariaDB for each word's collation weight
(WEIGHT_STRING), and writes them to a JSON file that the ignored unit test
`search::tests::same_order_as_mariadb` compares with the order and equality of `fold`:

    python3 scripts/collation-side-by-side.py /tmp/collation_cases.json 10000
    FERROPRESS_COLLATION_CASES=/tmp/collation_cases.json \
        cargo test -j2 --lib search:: -- --include-ignored --nocapture
"""
import json
import os
import random
import subprocess
import sys

LETTERS = list('abcdeilnoszABCDEILNOSZ') + list('àáâäãåçèéêëìíîïñòóôöõùúûüýÿÀÁÂÄÃÅÇÈÉÊËÌÍÎÏÑÒÓÔÖÕÙÚÛÜÝ') \
    + list('ßæÆœŒøØłŁđĐħčšžřěůőűğşąęńśźż') + list('0123456789') + list(' -.,!?()_&:/\'"')


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else '/tmp/collation_cases.json'
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rng = random.Random(11)
    words = [''.join(rng.choice(LETTERS) for _ in range(rng.randint(1, 8))) for _ in range(n)]
    doc = json.dumps(words, ensure_ascii=False).replace('\\', '\\\\').replace("'", "\\'")
    sql = ("SELECT HEX(WEIGHT_STRING(w COLLATE utf8mb4_unicode_520_ci)) FROM JSON_TABLE('" + doc +
           "', '$[*]' COLUMNS (i FOR ORDINALITY, w VARCHAR(64) CHARACTER SET utf8mb4 PATH '$')) t ORDER BY i")
    res = subprocess.run(
        # The database user and password scripts/wordpress-oracle.sh sets up.
        ['mysql', '-S', os.environ.get('WP_ORACLE_DB_SOCKET', '/tmp/wp-oracle/run/mysqld/mysqld.sock'),
         '-u', 'wordpress', '-poracle-db-password',
         '-N', '--default-character-set=utf8mb4', 'wordpress'],
        input=sql, capture_output=True, text=True, check=True)
    weights = res.stdout.split('\n')[:n]
    with open(out, 'w') as f:
        json.dump([{'w': w, 'weight': k} for w, k in zip(words, weights)], f, ensure_ascii=False)
    print(f'{n} words written to {out}')


if __name__ == '__main__':
    main()
