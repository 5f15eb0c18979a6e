// node-wpapi's settings calls, as an administrator: `wp.settings()` read and updated (the
// site title and time zone), the change seen at once by an anonymous client in the index
// and in a post's local date, then put back.
//
//   FERROPRESS_URL=http://127.0.0.1:8080 WP_USER=admin WP_APP_PASSWORD='…' node clients/wpapi-settings.mjs
//
// tests/api/clients.rs runs it against ferropress; it passes against WordPress too.
import WPAPI from 'wpapi';
import { SITE, WP_USER, WP_APP_PASSWORD, RUN, check, ok, main } from './common.mjs';

await main(async (cleanups) => {
  const wp = await WPAPI.discover(SITE);
  wp.auth({ username: WP_USER, password: WP_APP_PASSWORD });
  check(typeof wp.settings === 'function', 'discovered the settings route');

  const before = await wp.settings();
  check(typeof before.title === 'string' && typeof before.posts_per_page === 'number', 'settings read', before);
  ok('settings()', `title ${JSON.stringify(before.title)}`);
  cleanups.push(() => wp.settings().update({ title: before.title, timezone: before.timezone }));

  const title = `wpapi settings ${RUN}`;
  const after = await wp.settings().update({ title, timezone: 'Asia/Tokyo' });
  check(after.title === title && after.timezone === 'Asia/Tokyo', 'settings updated', after);
  ok('settings().update({title, timezone})');

  const index = await (await fetch(`${SITE}/wp-json/`)).json();
  check(index.name === title && index.timezone_string === 'Asia/Tokyo', 'the index shows the new title and zone', index);
  const post = await wp.posts().create({ title: `wpapi ${RUN} dated`, status: 'publish', date_gmt: '2026-01-01T00:00:00' });
  cleanups.push(() => wp.posts().id(post.id).delete({ force: true }));
  const anon = new WPAPI({ endpoint: `${SITE}/wp-json` });
  const read = await anon.posts().id(post.id);
  check(read.date === '2026-01-01T09:00:00', 'dates in the new zone', read);
  ok('anonymous index and post date follow the change');

  const refused = await anon.settings().get().then(() => null, (e) => e);
  check(refused && refused.code === 'rest_forbidden' && refused.data.status === 401, 'anonymous settings refused', refused);
  ok('anonymous settings() is 401 rest_forbidden');

  return { post: post.id, title };
});
