#!/usr/bin/env python3
"""Side by side: WordPress's `wp_read_audio_metadata()` (getID3) and ferropress's port over
generated MP3 files (ID3v2.2/2.3/2.4 tags of random text frames, comments, TXXX, genres,
track numbers, in every text encoding; ID3v1 tags; MPEG-1/2/2.5 layer III frames of every
bitrate, sample rate and channel mode, with or without a Xing/Info header) and a few WAV
and FLAC files. Prints inputs and mismatches by differing keys; exits 1 on any mismatch.
Needs the oracle's WordPress install (scripts/wordpress-oracle.sh start).

    python3 compat/sidebyside/audio_metadata.py --ferropress target/debug/ferropress \\
        [--count 1000] [--seed 1] [--show 3] [--keep DIR]
"""
import argparse
import collections
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

PHP = r"""<?php
$_SERVER['HTTP_HOST'] = '127.0.0.1:8881';
$config = getenv('WORDPRESS_CONFIG') ?: 'ferropress-oracle-8881';
putenv("WORDPRESS_CONFIG=$config");
$_SERVER['WORDPRESS_CONFIG'] = $config;
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/media.php';
$out = [];
foreach (json_decode(stream_get_contents(STDIN), true) as $f) {
    $out[] = json_encode(wp_read_audio_metadata($f), JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
}
echo json_encode($out);
"""

WORDS = ["Rock", "Song", "é", "Ärtist", "(17)", "(13)Pop", "(51)(39)", "Jazz/Funk", "a;b", "0", "",
         "3/9", "12", "2019-05-01", "1987", "<b>x</b>", "Pop/Funk", "  pad  ", "日本", "x\u00a0y",
         "<script>x</script>y", "R&B"]
V22 = {"TIT2": "TT2", "TPE1": "TP1", "TALB": "TAL", "TYER": "TYE", "TCON": "TCO", "TRCK": "TRK",
       "COMM": "COM", "TXXX": "TXX", "TPE2": "TP2", "TCOM": "TCM"}


def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def enc_text(enc, t):
    if enc == 0:
        return t.encode("latin-1", "replace")
    if enc == 1:
        return b"\xff\xfe" + t.encode("utf-16-le")
    if enc == 2:
        return t.encode("utf-16-be")
    return t.encode("utf-8")


def term(enc):
    return b"\0\0" if enc in (1, 2) else b"\0"


def frame(major, fid, data):
    if major == 2:
        return fid.encode() + struct.pack(">I", len(data))[1:] + data
    size = syncsafe(len(data)) if major == 4 else struct.pack(">I", len(data))
    return fid.encode() + size + b"\0\0" + data


def id3v2(rng, major):
    frames = []
    for _ in range(rng.randint(0, 7)):
        fid = rng.choice(["TIT2", "TPE1", "TALB", "TYER", "TCON", "TRCK", "COMM", "TXXX", "TPE2",
                          "TCOM", "TDRC", "TLEN", "TSSE"])
        if major == 2:
            if fid not in V22:
                continue
            fid = V22[fid]
        enc = rng.choice([0, 1] if major < 4 else [0, 1, 2, 3])
        t = rng.choice(WORDS)
        if rng.random() < 0.2:
            t = t + "\0" + rng.choice(WORDS)
        if fid in ("COMM", "COM"):
            data = bytes([enc]) + b"eng" + enc_text(enc, rng.choice(["", "d"])) + term(enc) + enc_text(enc, t)
        elif fid in ("TXXX", "TXX"):
            data = bytes([enc]) + enc_text(enc, rng.choice(["", "desc"])) + term(enc) + enc_text(enc, t)
        else:
            data = bytes([enc]) + enc_text(enc, t) + (term(enc) if rng.random() < 0.3 else b"")
        frames.append(frame(major, fid, data))
    body = b"".join(frames) + b"\0" * rng.choice([0, 0, 10])
    return b"ID3" + bytes([major, 0, 0]) + syncsafe(len(body)) + body


def mpeg(rng, n):
    ver = rng.choice([3, 3, 3, 2, 0])
    br, sr, mode = rng.randint(1, 14), rng.randint(0, 2), rng.randint(0, 3)
    if ver == 3:
        rates, coef = [44100, 48000, 32000], 144
        brs = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
    else:
        rates, coef = ([22050, 24000, 16000] if ver == 2 else [11025, 12000, 8000]), 72
        brs = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
    xing = rng.random() < 0.3
    out = b""
    for i in range(n):
        pad = 1 if rng.random() < 0.1 else 0
        hdr = bytes([0xFF, 0xE0 | (ver << 3) | 2 | 1, (br << 4) | (sr << 2) | (pad << 1),
                     (mode << 6) | rng.choice([0, 4])])
        size = coef * brs[br] * 1000 // rates[sr] + pad
        body = bytearray(size - 4)
        if i == 0 and xing:
            off = ((36 if mode != 3 else 21) if ver == 3 else (21 if mode != 3 else 13)) - 4
            flags = rng.choice([1, 3, 15, 0])
            x = rng.choice([b"Xing", b"Info"]) + struct.pack(">I", flags)
            if flags & 1:
                x += struct.pack(">I", n)
            if flags & 2:
                x += struct.pack(">I", rng.choice([n * size, n * size + 100]))
            if off + len(x) <= len(body):
                body[off:off + len(x)] = x
        out += hdr + bytes(body)
    return out


def id3v1(rng):
    def pad(s, n):
        return s.encode("latin-1", "replace")[:n].ljust(n, b"\0")
    return (b"TAG" + pad(rng.choice(["V1", "", "Title x"]), 30) + pad(rng.choice(["A", ""]), 30)
            + pad("", 30) + pad(rng.choice(["1999", ""]), 4) + pad("c", 28)
            + bytes([0, rng.randint(0, 20), rng.choice([0, 13, 17, 255, 200])]))


def wav(rng):
    ch, rate, bits = rng.choice([1, 2]), rng.choice([8000, 11025, 44100]), rng.choice([8, 16])
    data = b"\0" * (rate * ch * bits // 8 * rng.randint(0, 2) + rng.randint(0, 99))
    fmt = struct.pack("<HHIIHH", 1, ch, rate, rate * ch * bits // 8, ch * bits // 8, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def flac(rng):
    rate, ch, bps, samples = rng.choice([8000, 44100, 48000]), rng.randint(1, 2), 16, rng.randint(0, 200000)
    info = struct.pack(">HH", 4096, 4096) + b"\0\0\0\0\0\0"
    packed = (rate << 44) | ((ch - 1) << 41) | ((bps - 1) << 36) | samples
    info += packed.to_bytes(8, "big") + b"\0" * 16
    vendor = rng.choice([b"reference libFLAC 1.3.2", b"Lavf59", b""])
    comment = struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    return (b"fLaC" + bytes([0]) + len(info).to_bytes(3, "big") + info
            + bytes([0x84]) + len(comment).to_bytes(3, "big") + comment + b"\xff\xf8" + b"\0" * rng.randint(0, 500))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferropress", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=3)
    ap.add_argument("--keep", help="write the files to this directory and keep them")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        d = args.keep or tmp
        os.makedirs(d, exist_ok=True)
        paths = []
        for i in range(args.count):
            kind = rng.random()
            if kind < 0.05:
                name, b = f"{i}.wav", wav(rng)
            elif kind < 0.10:
                name, b = f"{i}.flac", flac(rng)
            else:
                b = id3v2(rng, rng.choice([2, 3, 3, 4])) if rng.random() < 0.8 else b""
                b += mpeg(rng, rng.randint(1, 80))
                if rng.random() < 0.3:
                    b += id3v1(rng)
                name = f"{i}.mp3"
            path = os.path.join(d, name)
            with open(path, "wb") as f:
                f.write(b)
            paths.append(path)
        php = os.path.join(d, "read.php")
        with open(php, "w") as f:
            f.write(PHP)
        wp = json.loads(subprocess.run(["php", php], input=json.dumps(paths), capture_output=True,
                                       text=True, check=True).stdout)
        fp = json.loads(subprocess.run([args.ferropress, "format", "wp_read_audio_metadata"],
                                       input=json.dumps(paths), capture_output=True, text=True,
                                       check=True).stdout)
    kinds = collections.Counter()
    shown = 0
    for path, a, b in zip(paths, wp, fp):
        a, b = json.loads(a), json.loads(b)
        if a == b and list(a) == list(b):
            continue
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k)) or ["(order)"]
        kinds[", ".join(keys) if len(keys) < 6 else "(stream not read)"] += 1
        if shown < args.show:
            shown += 1
            print(os.path.basename(path), "\n  wordpress ", json.dumps(a, ensure_ascii=False),
                  "\n  ferropress", json.dumps(b, ensure_ascii=False))
    print(f"wp_read_audio_metadata: {len(paths)} inputs, {sum(kinds.values())} mismatches")
    for k, n in kinds.most_common():
        print(f"  {n:5}  {k}")
    sys.exit(1 if kinds else 0)


if __name__ == "__main__":
    main()
