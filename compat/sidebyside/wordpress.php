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
$inputs = json_decode(stream_get_contents(STDIN), true);
$run = [
    'wptexturize' => function ($s) { return wptexturize($s); },
    'wpautop' => function ($s) { return wpautop($s); },
    'shortcode_unautop' => function ($s) { return shortcode_unautop($s); },
    'convert_smilies' => function ($s) { return convert_smilies($s); },
    'convert_chars' => function ($s) { return convert_chars($s); },
    'capital_P_dangit' => function ($s) { return capital_P_dangit($s); },
    'the_title' => function ($s) { return apply_filters('the_title', $s, 0); },
    // the_content without the filters ferropress does not port (yet): do_blocks,
    // do_shortcode, autoembed, prepend_attachment.
    'the_content' => function ($s) {
        $s = wp_filter_content_tags(shortcode_unautop(wpautop(wptexturize($s))), 'the_content');
        return convert_smilies(capital_P_dangit($s));
    },
    'wp_filter_content_tags' => function ($s) { return wp_filter_content_tags($s, 'the_content'); },
    'the_excerpt' => function ($s) { return apply_filters('the_excerpt', $s); },
    'sanitize_title' => function ($s) { return sanitize_title($s); },
][$function];
$out = [];
foreach ($inputs as $s) {
    $out[] = $run($s);
}
echo json_encode($out, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
