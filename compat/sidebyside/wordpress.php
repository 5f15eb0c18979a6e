<?php
// Runs one of WordPress's own formatting functions over a JSON array of strings (standard
// input) and prints the JSON array of results. Needs the oracle's install (wp-load.php).
// Usage: php wordpress.php FUNCTION < inputs.json
$_SERVER['HTTP_HOST'] = '127.0.0.1:8881';
$config = getenv('WORDPRESS_CONFIG') ?: 'ferropress-oracle-8881';
putenv("WORDPRESS_CONFIG=$config");
$_SERVER['WORDPRESS_CONFIG'] = $config;
require '/usr/share/wordpress/wp-load.php';

$function = $argv[1];
// Galleries and playlists render nothing: the Rust side has no media library here, while
// this site's unattached images and files would be shown (the REST scenarios of
// compat/scenarios/shortcodes.json compare real galleries and playlists).
add_filter('pre_do_shortcode_tag', function ($return, $tag, $attr, $m) {
    if ('gallery' === $tag || 'playlist' === $tag) {
        return $m[1] . $m[6];
    }
    return $return;
}, 10, 4);
// oEmbed fetches fail as they do on the oracle (no network), without trying; the oEmbed
// cache posts [embed] writes for failures are rolled back at the end.
add_filter('pre_http_request', function () {
    return new WP_Error('http_request_failed', 'offline');
});
$wpdb->query('START TRANSACTION');
$inputs = json_decode(stream_get_contents(STDIN), true);
$run = [
    'wptexturize' => function ($s) { return wptexturize($s); },
    'wpautop' => function ($s) { return wpautop($s); },
    'shortcode_unautop' => function ($s) { return shortcode_unautop($s); },
    'convert_smilies' => function ($s) { return convert_smilies($s); },
    'convert_chars' => function ($s) { return convert_chars($s); },
    'capital_P_dangit' => function ($s) { return capital_P_dangit($s); },
    'the_title' => function ($s) { return apply_filters('the_title', $s, 0); },
    // the_content without prepend_attachment (media only).
    'the_content' => function ($s) {
        global $wp_embed;
        $s = $wp_embed->autoembed($wp_embed->run_shortcode($s));
        $blocks = has_blocks($s);
        $s = wptexturize(do_blocks($s));
        if (!$blocks) {
            $s = wpautop($s);
        }
        $s = wp_filter_content_tags(shortcode_unautop($s), 'the_content');
        return convert_smilies(do_shortcode(capital_P_dangit($s)));
    },
    'do_blocks' => function ($s) { return do_blocks($s); },
    'autoembed' => function ($s) { global $wp_embed; return $wp_embed->autoembed($s); },
    'do_shortcode' => function ($s) { return do_shortcode($s); },
    'strip_shortcodes' => function ($s) { return strip_shortcodes($s); },
    'wp_trim_excerpt' => function ($s) {
        // wp_trim_excerpt() of a post whose content is $s.
        $post = new WP_Post((object) array('ID' => 0, 'post_content' => $s, 'post_type' => 'post', 'filter' => 'raw'));
        $GLOBALS['post'] = $post;
        return wp_trim_excerpt('', $post);
    },
    'wp_filter_content_tags' => function ($s) { return wp_filter_content_tags($s, 'the_content'); },
    'the_excerpt' => function ($s) { return apply_filters('the_excerpt', $s); },
    'sanitize_title' => function ($s) { return sanitize_title($s); },
    'make_clickable' => function ($s) { return make_clickable($s); },
    'force_balance_tags' => function ($s) { return force_balance_tags($s); },
    // What a comment's content.rendered shows (no comment: no filter reads it).
    'comment_text' => function ($s) { return apply_filters('comment_text', $s, null, array()); },
][$function];
$out = [];
foreach ($inputs as $s) {
    // PHP 8 errors inside WordPress (e.g. img_caption_shortcode() given no attributes) are
    // reported as null: WordPress answers such a request with a 500.
    try {
        $out[] = $run($s);
    } catch (Throwable $e) {
        $out[] = null;
        // The error left the_content half run: do_blocks() had taken wpautop off.
        $GLOBALS['wp_current_filter'] = [];
        remove_filter('the_content', '_restore_wpautop_hook', 11);
        if (false === has_filter('the_content', 'wpautop')) {
            add_filter('the_content', 'wpautop');
        }
    }
}
$wpdb->query('ROLLBACK');
echo json_encode($out, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
