// @wordpress/api-fetch (the block editor's REST client) outside WordPress, in Node 20 with
// its global fetch: a root-URL middleware and a Basic-auth middleware with an Application
// Password, then a draft created and published (PUT, which api-fetch sends as POST with
// X-HTTP-Method-Override), pagination read from X-WP-Total with `parse: false` and the
// `per_page=-1` fetch-all middleware, a FormData upload, a category created and assigned.
//
//   FERROPRESS_URL=http://127.0.0.1:8080 WP_USER=editor WP_APP_PASSWORD='…' node clients/api-fetch.mjs
//
// tests/api/clients.rs runs it against ferropress; it passes against WordPress too
// (docs/recipes.md, "Checking against WordPress").
import apiFetch from '@wordpress/api-fetch';
import { SITE, WP_USER, WP_APP_PASSWORD, PNG, RUN, check, ok, main } from './common.mjs';

// Middlewares run last-registered first: auth, then the root URL, then api-fetch's own
// (_locale=user, X-HTTP-Method-Override for PUT/PATCH/DELETE, fetch-all).
apiFetch.use(apiFetch.createRootURLMiddleware(`${SITE}/wp-json/`));
apiFetch.use(apiFetch.mediaUploadMiddleware);
const basic = `Basic ${Buffer.from(`${WP_USER}:${WP_APP_PASSWORD}`).toString('base64')}`;
apiFetch.use((options, next) => next({ ...options, headers: { ...options.headers, Authorization: basic } }));

/** api-fetch throws the error body (`{code, message, data}`) of a refused request. */
const refused = (promise) => promise.then(() => null, (e) => e);

await main(async (cleanups) => {
  const me = await apiFetch({ path: '/wp/v2/users/me?context=edit' });
  check(me.username === WP_USER || me.email === WP_USER, 'users/me is the authenticated user', me);
  ok('Basic-auth middleware: users/me', `id ${me.id}`);

  // A draft, then published with PUT.
  const draft = await apiFetch({
    path: '/wp/v2/posts',
    method: 'POST',
    data: { title: `api-fetch ${RUN}`, content: 'Written with @wordpress/api-fetch.', status: 'draft' },
  });
  cleanups.push(() => apiFetch({ path: `/wp/v2/posts/${draft.id}?force=true`, method: 'DELETE' }));
  check(draft.status === 'draft' && draft.title.raw === `api-fetch ${RUN}`, 'created as a draft', draft);
  ok('POST /wp/v2/posts draft', `id ${draft.id}`);

  const published = await apiFetch({ path: `/wp/v2/posts/${draft.id}`, method: 'PUT', data: { status: 'publish' } });
  check(published.status === 'publish', 'published', published);
  ok('PUT /wp/v2/posts/<id> {status: "publish"} (sent as POST + X-HTTP-Method-Override)');

  // Pagination: five drafts, two per page, counted from the headers.
  const drafts = [];
  for (let i = 1; i <= 5; i++) {
    const p = await apiFetch({ path: '/wp/v2/posts', method: 'POST', data: { title: `api-fetch ${RUN} page ${i}` } });
    cleanups.push(() => apiFetch({ path: `/wp/v2/posts/${p.id}?force=true`, method: 'DELETE' }));
    check(p.status === 'draft', 'a post without status is a draft', p);
    drafts.push(p.id);
  }
  const query = `status=draft&search=${encodeURIComponent(`api-fetch ${RUN} page`)}`;
  const seen = [];
  for (let page = 1; page <= 3; page++) {
    const res = await apiFetch({ path: `/wp/v2/posts?${query}&per_page=2&page=${page}`, parse: false });
    check(res.status === 200, `page ${page}: 200`);
    check(res.headers.get('X-WP-Total') === '5' && res.headers.get('X-WP-TotalPages') === '3', 'X-WP-Total 5, X-WP-TotalPages 3',
      { total: res.headers.get('X-WP-Total'), pages: res.headers.get('X-WP-TotalPages') });
    const link = res.headers.get('Link') || '';
    check(link.includes('rel="next"') === page < 3 && link.includes('rel="prev"') === page > 1, `page ${page}: Link`, link);
    seen.push(...(await res.json()).map((p) => p.id));
  }
  check(seen.length === 5 && drafts.every((id) => seen.includes(id)), 'three pages hold the five drafts', { drafts, seen });
  const beyond = await refused(apiFetch({ path: `/wp/v2/posts?${query}&per_page=2&page=4` }));
  check(beyond && beyond.code === 'rest_post_invalid_page_number', 'a page past the last is refused', beyond);
  const all = await apiFetch({ path: `/wp/v2/posts?${query}&per_page=-1` });
  check(all.length === 5, 'per_page=-1 (fetch-all middleware) returns all five', all.length);
  ok('parse:false X-WP-Total/X-WP-TotalPages/Link, per_page=-1', `${seen.length} drafts over 3 pages`);

  // A FormData upload (the file as a Blob), attached to the post, then its featured image.
  const form = new FormData();
  form.append('file', new Blob([PNG], { type: 'image/png' }), `api-fetch-${RUN}.png`);
  form.append('title', `api-fetch upload ${RUN}`);
  form.append('alt_text', 'Four coloured squares');
  form.append('post', String(draft.id));
  const media = await apiFetch({ path: '/wp/v2/media', method: 'POST', body: form });
  cleanups.push(() => apiFetch({ path: `/wp/v2/media/${media.id}?force=true`, method: 'DELETE' }));
  check(media.mime_type === 'image/png' && media.alt_text === 'Four coloured squares', 'media created', media);
  check(media.post === draft.id && media.title.raw === `api-fetch upload ${RUN}`, 'media attached, titled', media);
  const served = await fetch(media.source_url);
  check(served.ok && Buffer.from(await served.arrayBuffer()).equals(PNG), 'source_url serves the upload');
  const featured = await apiFetch({ path: `/wp/v2/posts/${draft.id}`, method: 'PATCH', data: { featured_media: media.id } });
  check(featured.featured_media === media.id, 'featured_media set with PATCH', featured);
  ok('FormData upload to /wp/v2/media, PATCH featured_media', media.source_url);

  // A category, assigned to the post.
  const category = await apiFetch({ path: '/wp/v2/categories', method: 'POST', data: { name: `api-fetch ${RUN}` } });
  cleanups.push(() => apiFetch({ path: `/wp/v2/categories/${category.id}?force=true`, method: 'DELETE' }));
  check(category.slug === `api-fetch-${RUN}`, 'category created', category);
  const again = await refused(apiFetch({ path: '/wp/v2/categories', method: 'POST', data: { name: `api-fetch ${RUN}` } }));
  check(again && again.code === 'term_exists' && again.data.term_id === category.id, 'a duplicate is term_exists', again);
  const assigned = await apiFetch({ path: `/wp/v2/posts/${draft.id}`, method: 'POST', data: { categories: [category.id] } });
  check(assigned.categories.length === 1 && assigned.categories[0] === category.id, 'category assigned', assigned);
  ok('POST /wp/v2/categories, assign to the post', `category ${category.id}`);

  // Errors come back as WordPress's envelope.
  const missing = await refused(apiFetch({ path: '/wp/v2/posts/999999999' }));
  check(missing && missing.code === 'rest_post_invalid_id' && missing.data.status === 404, 'unknown post', missing);

  // Delete one draft for good (DELETE, sent as POST + X-HTTP-Method-Override).
  const deleted = await apiFetch({ path: `/wp/v2/posts/${drafts[0]}?force=true`, method: 'DELETE' });
  check(deleted.deleted === true && deleted.previous.id === drafts[0], 'deleted', deleted);
  ok('error envelope, DELETE ?force=true');

  return { post: draft.id, media: media.id, category: category.id };
});
