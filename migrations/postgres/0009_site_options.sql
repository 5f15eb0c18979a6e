-- The options `/wp/v2/settings` shows, with the values `populate_options()` gives a new
-- WordPress site, under WordPress's option names (so WP-CLI-style `option get` finds them).
-- Existing values are kept.
INSERT INTO option (name, value) VALUES
    ('date_format', 'F j, Y'),
    ('time_format', 'g:i a'),
    ('start_of_week', '1'),
    ('use_smilies', '1'),
    ('default_category', '1'),
    ('default_post_format', '0'),
    ('posts_per_page', '10'),
    ('show_on_front', 'posts'),
    ('page_on_front', '0'),
    ('page_for_posts', '0'),
    ('default_ping_status', 'open'),
    ('default_comment_status', 'open'),
    ('site_icon', '0')
ON CONFLICT (name) DO NOTHING;
