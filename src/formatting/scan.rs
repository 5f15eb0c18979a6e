//! Small scanning helpers shared by the display-filter ports: one `preg_replace` pattern with
//! bounded lookarounds becomes one `rewrite` pass.

/// Rewrites `s` in one forward pass: at each byte equal to `trigger`, `at(bytes, i, out)`
/// may append a replacement and return where the match ends (as `preg_replace` does, the
/// lookarounds see the input of the pass, not its output). Other bytes are copied.
pub(crate) fn rewrite(
    s: &str,
    trigger: u8,
    mut at: impl FnMut(&[u8], usize, &mut Vec<u8>) -> Option<usize>,
) -> String {
    let b = s.as_bytes();
    let Some(first) = b.iter().position(|&c| c == trigger) else {
        return s.to_owned();
    };
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + b.len() / 8);
    out.extend_from_slice(&b[..first]);
    let mut i = first;
    while i < b.len() {
        if b[i] == trigger {
            let mark = out.len();
            if let Some(end) = at(b, i, &mut out) {
                i = end.max(i + 1);
                continue;
            }
            out.truncate(mark);
        }
        out.push(b[i]);
        i += 1;
    }
    into_string(out)
}

/// Bytes cut only at ASCII positions back into a `String`.
pub(crate) fn into_string(out: Vec<u8>) -> String {
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// PCRE's `\s` without the `u` flag: space, `\t`, `\n`, `\v`, `\f`, `\r`.
pub(crate) fn is_pcre_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `(?<=$spaces)` at `p`, `$spaces` being `wp_spaces_regexp()`: `[\r\n\t ]|\xC2\xA0|&nbsp;`.
pub(crate) fn space_before(b: &[u8], p: usize) -> bool {
    (p >= 1 && matches!(b[p - 1], b'\r' | b'\n' | b'\t' | b' '))
        || (p >= 2 && b[p - 2..p] == [0xc2, 0xa0])
        || (p >= 6 && &b[p - 6..p] == b"&nbsp;")
}

/// `(?=$spaces)` at `p`.
pub(crate) fn space_after(b: &[u8], p: usize) -> bool {
    let rest = b.get(p..).unwrap_or_default();
    matches!(rest.first(), Some(b'\r' | b'\n' | b'\t' | b' '))
        || rest.starts_with(&[0xc2, 0xa0])
        || rest.starts_with(b"&nbsp;")
}

/// `\Z` (and `$` without the `m` flag) at `p`: the end, or before a final line feed.
pub(crate) fn at_end_z(b: &[u8], p: usize) -> bool {
    p == b.len() || (p + 1 == b.len() && b[p] == b'\n')
}

/// `rewrite` called at every byte (for patterns that start with one of several bytes).
pub(crate) fn rewrite_any(
    s: &str,
    mut at: impl FnMut(&[u8], usize, &mut Vec<u8>) -> Option<usize>,
) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + b.len() / 8);
    let mut i = 0;
    while i < b.len() {
        let mark = out.len();
        if let Some(end) = at(b, i, &mut out) {
            i = end.max(i + 1);
            continue;
        }
        out.truncate(mark);
        out.push(b[i]);
        i += 1;
    }
    into_string(out)
}
