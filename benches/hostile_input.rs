//! Linear time on hostile input (issue 14): every routine that walks request text gets its
//! worst shapes at 10 KB and at 1 MB; the time per byte at 1 MB must stay within 3× of the
//! time per byte at 10 KB. A quadratic routine shows a ratio near 100.
//!
//! Run: `nice cargo bench -j2 --bench hostile_input` (optionally a filter: a routine name
//! substring). Prints one row per (routine, shape) and a `FAIL` line for every ratio above
//! 3; the process exits with status 1 if there is one.
//!
//! Each figure is the median of several timed runs (at 10 KB each run repeats the call until
//! it has taken at least 20 ms, so the clock's resolution does not matter).

use std::hint::black_box;
use std::time::{Duration, Instant};

use ferropress::{formatting, kses, media, users};

const SMALL: usize = 10 * 1024;
const LARGE: usize = 1024 * 1024;
const MAX_RATIO: f64 = 3.0;
const UPLOADS: &str = "http://127.0.0.1/wp-content/uploads/";

/// `unit` repeated to `size` bytes, between `prefix` and `suffix`.
fn fill(prefix: &str, unit: &str, suffix: &str, size: usize) -> String {
    let n = size.saturating_sub(prefix.len() + suffix.len()) / unit.len().max(1);
    format!("{prefix}{}{suffix}", unit.repeat(n.max(1)))
}

/// A shape whose parts have to grow together (`%`×k then `41`×k).
fn halves(a: &str, b: &str, size: usize) -> String {
    let k = size / (a.len() + b.len());
    format!("{}{}", a.repeat(k), b.repeat(k))
}

/// Distinct words (`a0 a1 a2 …`) to `size` bytes.
fn distinct(template: &str, sep: &str, size: usize) -> String {
    let mut out = String::with_capacity(size + 32);
    let mut i = 0usize;
    while out.len() < size {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&template.replace("{}", &i.to_string()));
        i += 1;
    }
    out
}

type Routine = Box<dyn Fn(&str) -> usize>;
type Shape = Box<dyn Fn(usize) -> String>;

struct Case {
    routine: &'static str,
    shape: &'static str,
    make: Shape,
    run: Routine,
}

fn case(
    routine: &'static str,
    shape: &'static str,
    make: impl Fn(usize) -> String + 'static,
    run: impl Fn(&str) -> usize + 'static,
) -> Case {
    Case {
        routine,
        shape,
        make: Box::new(make),
        run: Box::new(run),
    }
}

fn cases() -> Vec<Case> {
    use formatting::*;
    let kses_post = |s: &str| kses::filter_post_kses(s, UPLOADS).len();
    let kses_data = |s: &str| kses::filter_kses(s).len();
    let kses_desc = |s: &str| kses::filter_user_description(s).len();
    vec![
        // Finding 3.
        case(
            "sanitize_text_field",
            "%^k 41^k (strip_octets)",
            |n| halves("%", "41", n),
            |s| sanitize_text_field(s).len(),
        ),
        case(
            "sanitize_text_field",
            "%%4141 nested octets",
            |n| fill("", "%%%414141", "", n),
            |s| sanitize_text_field(s).len(),
        ),
        case(
            "sanitize_text_field",
            "<style></style> repeated",
            |n| fill("", "<style></style>", "", n),
            |s| sanitize_text_field(s).len(),
        ),
        case(
            "sanitize_text_field",
            "spaces and tabs",
            |n| fill("", " \t\n a", "", n),
            |s| sanitize_text_field(s).len(),
        ),
        // Finding 4.
        case(
            "strip_all_tags",
            "<style></style> repeated",
            |n| fill("", "<style></style>", "", n),
            |s| strip_all_tags(s).len(),
        ),
        case(
            "strip_all_tags",
            "<script> unclosed, repeated",
            |n| fill("", "<script>", "", n),
            |s| strip_all_tags(s).len(),
        ),
        case(
            "strip_all_tags",
            "<script><style></style>x repeated",
            |n| fill("", "<script><style></style>x", "", n),
            |s| strip_all_tags(s).len(),
        ),
        case(
            "strip_all_tags",
            "<<<< (nested depth)",
            |n| fill("", "<", "", n),
            |s| strip_all_tags(s).len(),
        ),
        case(
            "strip_all_tags",
            "<a ' unclosed quote",
            |n| fill("<a '", "x>", "", n),
            |s| strip_all_tags(s).len(),
        ),
        case(
            "sanitize_title",
            "<style></style> repeated",
            |n| fill("", "<style></style>", "", n),
            |s| sanitize_title(s).len(),
        ),
        case(
            "sanitize_title",
            "& without ; (entities)",
            |n| fill("", "&", "", n),
            |s| sanitize_title(s).len(),
        ),
        case(
            "sanitize_title",
            "non-ASCII",
            |n| fill("", "日é", "", n),
            |s| sanitize_title(s).len(),
        ),
        case(
            "sanitize_user_strict",
            "& without ;",
            |n| fill("", "&a", "", n),
            |s| sanitize_user_strict(s).len(),
        ),
        case(
            "sanitize_user_strict",
            "%^k 41^k",
            |n| halves("%", "41", n),
            |s| sanitize_user_strict(s).len(),
        ),
        case(
            "formatting::normalize_entities",
            "& without ;",
            |n| fill("", "&", "", n),
            |s| formatting::normalize_entities(s).len(),
        ),
        case(
            "is_email",
            "a@a.a…",
            |n| fill("a@", "a.", "a", n),
            |s| usize::from(is_email(s)),
        ),
        case(
            "wpautop",
            "single newlines",
            |n| fill("", "a\n", "", n),
            |s| wpautop(s).len(),
        ),
        case(
            "wpautop",
            "blank lines",
            |n| fill("", "\n\n<p", "", n),
            |s| wpautop(s).len(),
        ),
        case(
            "strip_tags",
            "<!-- unclosed comment",
            |n| fill("<!--", "-x", "", n),
            |s| strip_tags(s).len(),
        ),
        // Finding 10.
        case(
            "wp_kses post",
            "<b a a a …> many attributes",
            |n| fill("<b", " a", ">", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "<p data-a0 data-a1 …> distinct attributes",
            |n| format!("<p {}>", distinct("data-a{}=\"1\"", " ", n)),
            kses_post,
        ),
        case(
            "wp_kses post",
            "<b title=x …> valued attributes",
            |n| fill("<b", " title=x", ">", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "<b> many tags",
            |n| fill("", "<b>", "", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "<div><span>… deep nesting",
            |n| halves("<div><span>", "</span></div>", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "& many entities",
            |n| fill("", "&amp;&foo;&", "", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "&#x0000…41; long numeric entities",
            |n| fill("&#x", "0", "41;", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "javascript:javascript:… protocol chain",
            |n| fill("<a href=\"", "javascript:", "x\">", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "feed:feed:… protocol chain",
            |n| fill("<a href=\"", "feed:", "x\">", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "<!--x> before a line feed",
            |n| fill("", "<!--x>", "\nx", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "<!--<!--… nested comments",
            |n| fill("", "<!--", "-->", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "< unclosed",
            |n| fill("", "<", "", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "style url() many",
            |n| fill("<p style=\"background:", " url(a)", "\">", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "style calc( unclosed",
            |n| fill("<p style=\"width:", "calc(", "\">", n),
            kses_post,
        ),
        case(
            "wp_kses post",
            "style many declarations",
            |n| fill("<p style=\"", "color:red;", "\">", n),
            kses_post,
        ),
        case(
            "wp_kses title",
            "<b a a a …>",
            |n| fill("<b", " a", ">", n),
            kses_data,
        ),
        case(
            "wp_kses user description",
            "<a rel … many tags",
            |n| fill("", "<a rel=x href=y>", "", n),
            kses_desc,
        ),
        case(
            "wp_targeted_link_rel",
            "<script> unclosed before links",
            |n| fill("", "<script><style></style><a target=x>", "", n),
            |s| kses::targeted_link_rel(s).len(),
        ),
        case(
            "wp_targeted_link_rel",
            "rel of many words",
            |n| format!("<a target=x rel=\"{}\">", distinct("w{}", " ", n)),
            |s| kses::targeted_link_rel(s).len(),
        ),
        case(
            "wp_kses_bad_protocol",
            "javascript:javascript:…",
            |n| fill("", "javascript:", "", n),
            |s| kses::bad_protocol(s).len(),
        ),
        case(
            "wp_kses_bad_protocol",
            "&#x0000…3a;",
            |n| fill("javascript&#x", "0", "3a;x", n),
            |s| kses::bad_protocol(s).len(),
        ),
        case(
            "kses::normalize_entities",
            "& and &#0000…",
            |n| fill("", "&&#0000065;&#x;", "", n),
            |s| kses::normalize_entities(s).len(),
        ),
        case(
            "safecss_filter_attr",
            "min(min(min(… unclosed",
            |n| fill("margin:", "min(", "", n),
            |s| kses::safecss_filter_attr(s).len(),
        ),
        case(
            "esc_url_raw",
            "long URL with controls",
            |n| fill("http://x/", "a \u{1}b", "", n),
            |s| users::esc_url_raw(s).len(),
        ),
        case(
            "esc_url_raw",
            "colons",
            |n| fill("", "a:", "", n),
            |s| users::esc_url_raw(s).len(),
        ),
        case(
            "basic auth parse",
            "Basic base64 of a long login",
            |n| {
                use base64::Engine as _;
                let raw = fill("", "a", ":p", n * 3 / 4);
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            },
            |s| ferropress::auth::basic::parse(s.as_bytes()).map_or(0, |c| c.login.len()),
        ),
        case(
            "params (query)",
            "a[]=1&a[]=1… arrays",
            |n| fill("", "a[]=1&", "", n),
            |s| ferropress::rest::params::parse_form(s).len(),
        ),
        case(
            "params (query)",
            "k0=1&k1=1… distinct keys",
            |n| distinct("k{}=1", "&", n),
            |s| ferropress::rest::params::parse_form(s).len(),
        ),
        case(
            "params (JSON + validators)",
            "include: [1,1,…]",
            |n| fill("{\"include\":[1", ",1", "]}", n),
            |s| {
                let p = ferropress::rest::params::params_from_parts(
                    &http_method_post(),
                    None,
                    "application/json",
                    s.as_bytes(),
                )
                .expect("params");
                let mut v = ferropress::rest::params::Validator::new(&p);
                v.integer_list("include").map_or(0, |l| l.len())
            },
        ),
        case(
            "params (JSON parse only)",
            "include: [1,1,…]",
            |n| fill("{\"include\":[1", ",1", "]}", n),
            |s| {
                ferropress::rest::params::parse_json_body(s.as_bytes())
                    .map_or(0, |v| v.as_object().map_or(0, serde_json::Map::len))
            },
        ),
        case(
            "params (JSON + validators)",
            "slug string list a,a,…",
            |n| format!("{{\"slug\":\"{}\"}}", fill("", "a,", "", n)),
            |s| {
                let p = ferropress::rest::params::params_from_parts(
                    &http_method_post(),
                    None,
                    "application/json",
                    s.as_bytes(),
                )
                .expect("params");
                let mut v = ferropress::rest::params::Validator::new(&p);
                v.string_list("slug").map_or(0, |l| l.len())
            },
        ),
        case(
            "_fields parsing",
            "_fields=f0,f1,… distinct",
            |n| format!("_fields={}", distinct("f{}", ",", n)),
            |s| {
                usize::from(
                    ferropress::rest::global_params::GlobalParams::from_query(Some(s)).is_empty(),
                )
            },
        ),
        case(
            "_fields parsing",
            "_fields=a.a.a.… deep",
            |n| format!("_fields={}", fill("", "a.", "a", n)),
            |s| {
                usize::from(
                    ferropress::rest::global_params::GlobalParams::from_query(Some(s)).is_empty(),
                )
            },
        ),
        case(
            "search terms",
            "a a a … many words",
            |n| fill("", "a ", "", n),
            |s| ferropress::search::parse_search(s).terms.len(),
        ),
        case(
            "search terms",
            "\"a -b,c+ … quotes, exclusions, separators",
            |n| fill("", "\"a -b,c+", "", n),
            |s| ferropress::search::parse_search(s).terms.len(),
        ),
        case(
            "search fold",
            "É-a … accents and punctuation",
            |n| fill("", "É-a", "", n),
            |s| ferropress::search::fold(s).len(),
        ),
        case(
            "sanitize_file_name",
            "a.b.c.… many extensions",
            |n| fill("", "a.phtml", ".png", n),
            |s| media::sanitize_file_name(s).len(),
        ),
        case(
            "sanitize_file_name",
            "special characters",
            |n| fill("", "?[]é …", ".png", n),
            |s| media::sanitize_file_name(s).len(),
        ),
        // The comment filters.
        case(
            "make_clickable",
            "<a <a … before </a></a>",
            |n| fill("", "<a <a ", "</a></a>", n),
            |s| make_clickable(s, "nofollow").len(),
        ),
        case(
            "make_clickable",
            ":a://:a://… no whitespace",
            |n| fill(" ", ":a://", "", n),
            |s| make_clickable(s, "nofollow").len(),
        ),
        case(
            "make_clickable",
            " :a://x … short URLs",
            |n| fill("", " :a://x", " ", n),
            |s| make_clickable(s, "nofollow").len(),
        ),
        case(
            "make_clickable",
            " a@b.b.b.… endless domain",
            |n| fill(" a@", "b.", "-", n),
            |s| make_clickable(s, "nofollow").len(),
        ),
        case(
            "make_clickable",
            " http://x/))))… in short pieces",
            |n| fill("", " http://x/)))))))", "", n),
            |s| make_clickable(s, "nofollow").len(),
        ),
        case(
            "force_balance_tags",
            "<p <p … no >",
            |n| fill("", "<p ", "", n),
            |s| force_balance_tags(s).len(),
        ),
        case(
            "force_balance_tags",
            "<q>… then </b>…",
            |n| halves("<q>", "</b>", n),
            |s| force_balance_tags(s).len(),
        ),
        case(
            "force_balance_tags",
            "<b><q><q>… </b>",
            |n| fill("<b>", "<q>", "</b>", n),
            |s| force_balance_tags(s).len(),
        ),
        case(
            "force_balance_tags",
            "<my-el<my-el… ",
            |n| fill("", "<my-el", "", n),
            |s| force_balance_tags(s).len(),
        ),
    ]
}

fn http_method_post() -> axum::http::Method {
    axum::http::Method::POST
}

/// Median seconds per call of `run(input)`.
fn time_per_call(run: &Routine, input: &str, samples: usize) -> f64 {
    black_box(run(black_box(input)));
    let mut times = vec![];
    for _ in 0..samples {
        let start = Instant::now();
        let mut calls = 0u32;
        while calls == 0 || start.elapsed() < Duration::from_millis(20) {
            black_box(run(black_box(input)));
            calls += 1;
        }
        times.push(start.elapsed().as_secs_f64() / f64::from(calls));
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters routines.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let mut failures = vec![];
    println!(
        "{:<28} {:<42} {:>12} {:>12} {:>7}",
        "routine", "shape", "ns/B 10KB", "ns/B 1MB", "ratio"
    );
    for c in cases() {
        if let Some(f) = &filter
            && !c.routine.contains(f.as_str())
        {
            continue;
        }
        let small = (c.make)(SMALL);
        let large = (c.make)(LARGE);
        let t_small = time_per_call(&c.run, &small, 9);
        let t_large = time_per_call(&c.run, &large, 5);
        let per_small = t_small * 1e9 / small.len() as f64;
        let per_large = t_large * 1e9 / large.len() as f64;
        let ratio = per_large / per_small;
        println!(
            "{:<28} {:<42} {:>12.3} {:>12.3} {:>7.2}",
            c.routine, c.shape, per_small, per_large, ratio
        );
        if ratio > MAX_RATIO {
            failures.push(format!(
                "FAIL {} / {}: 1 MB costs {ratio:.1}x per byte what 10 KB does (limit {MAX_RATIO})",
                c.routine, c.shape
            ));
        }
    }
    for f in &failures {
        println!("{f}");
    }
    if failures.is_empty() {
        println!("ok: every ratio is at most {MAX_RATIO}");
    } else {
        std::process::exit(1);
    }
}
