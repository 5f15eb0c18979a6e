//! The shortcodes WordPress 6.1 registers by default (`$shortcode_tags`, in registration
//! order: `media.php` and `class-wp-embed.php`). Display filters that look for registered
//! shortcodes (`wptexturize()`, `shortcode_unautop()`) look for these.

/// `array_keys( $shortcode_tags )` of a default install.
pub(crate) const SHORTCODE_TAGS: &[&str] = &[
    "wp_caption",
    "caption",
    "gallery",
    "playlist",
    "audio",
    "video",
    "embed",
];
