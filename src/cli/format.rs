//! `ferropress format FUNCTION` (hidden): runs one of the display-filter ports over a JSON
//! array of strings read from standard input and prints the JSON array of results, so that
//! compat/sidebyside/compare.py can compare it with WordPress's own PHP functions.

use std::io::Read;

use anyhow::{Context, bail};
use clap::Args;

use crate::formatting as f;

#[derive(Debug, Args)]
pub struct FormatArgs {
    /// The WordPress function: wptexturize, wpautop, shortcode_unautop, convert_smilies,
    /// convert_chars, capital_P_dangit, the_title, the_content, the_excerpt,
    /// wp_trim_excerpt, sanitize_title, make_clickable, force_balance_tags, comment_text…;
    /// wp_read_audio_metadata (each input a file's path, each output its metadata as JSON).
    pub function: String,
    /// The site URL (for smiley images).
    #[arg(long, default_value = "http://127.0.0.1:8881")]
    pub site_url: String,
}

pub fn run(args: &FormatArgs) -> anyhow::Result<()> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading standard input")?;
    let inputs: Vec<String> = serde_json::from_str(&input).context("a JSON array of strings")?;
    let site = args.site_url.as_str();
    // One page load for the whole run, as the PHP side runs every input in one process
    // (the players' `static $instance` counters go on from input to input).
    let page = f::PageLoad::new();
    let shown = f::Shown {
        post_id: 0,
        page: &page,
        attached: &f::NoAttachedMedia,
    };
    let run: &dyn Fn(&str, &str) -> String = match args.function.as_str() {
        "wptexturize" => &|s, _| f::wptexturize(s),
        "wpautop" => &|s, _| f::wpautop(s),
        "shortcode_unautop" => &|s, _| f::shortcode_unautop(s),
        "convert_smilies" => &f::convert_smilies,
        "convert_chars" => &|s, _| f::convert_chars(s),
        "capital_P_dangit" => &|s, _| f::capital_p_dangit(s, false),
        "the_title" => &|s, _| f::the_title(s),
        "the_content" => &|s, site| f::the_content(s, site, &f::NoImages, shown),
        "the_excerpt" => &|s, site| f::the_excerpt(s, site, &f::NoImages),
        "wp_filter_content_tags" => &|s, _| f::wp_filter_content_tags(s, &f::NoImages),
        "wp_trim_excerpt" => &|s, site| {
            f::wp_trim_excerpt("", || {
                let s = f::excerpt_remove_blocks(&f::strip_shortcodes(s));
                f::the_content(&s, site, &f::NoImages, shown)
            })
        },
        "do_shortcode" => &|s, site| f::do_shortcode(s, &f::ShortcodeContext::new(site, shown)),
        "autoembed" => &|s, _| f::autoembed(s),
        "strip_shortcodes" => &|s, _| f::strip_shortcodes(s),
        "do_blocks" => &|s, _| f::do_blocks(s),
        "sanitize_title" => &|s, _| f::sanitize_title(s),
        "make_clickable" => &|s, _| f::make_clickable(s, "nofollow"),
        "force_balance_tags" => &|s, _| f::force_balance_tags(s),
        "comment_text" => &f::comment_text,
        // Each input is the path of a file: its metadata as JSON.
        "wp_read_audio_metadata" => &|s, _| {
            crate::audio_metadata::read_audio_metadata(std::path::Path::new(s), s).to_string()
        },
        other => bail!("unknown function {other}"),
    };
    let outputs: Vec<String> = inputs.iter().map(|s| run(s, site)).collect();
    println!("{}", serde_json::to_string(&outputs)?);
    Ok(())
}
