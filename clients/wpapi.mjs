// node-wpapi (npm `wpapi`), used as its README shows, against a WordPress REST API:
// discovery from the site's Link header, Basic authentication with an Application
// Password, a draft created and published, a paginated collection walked with `_paging`,
// a media upload from a Buffer, a category created and assigned, a comment thread moderated.
//
//   FERROPRESS_URL=http://127.0.0.1:8080 WP_USER=editor WP_APP_PASSWORD='…' node clients/wpapi.mjs
//
// tests/api/clients.rs runs it against ferropress; it passes against WordPress too
// (docs/recipes.md, "Checking against WordPress").
import WPAPI from 'wpapi';
import { SITE, WP_USER, WP_APP_PASSWORD, PNG, RUN, check, ok, main } from './common.mjs';

await main(async (cleanups) => {
  // Discovery: HEAD the site, follow Link rel="https://api.w.org/", read the index's routes.
  const wp = await WPAPI.discover(SITE);
  wp.auth({ username: WP_USER, password: WP_APP_PASSWORD });
  check(typeof wp.posts === 'function' && typeof wp.media === 'function', 'discovered routes');
  ok('discover', `endpoint ${wp._options.endpoint}`);

  // The constructor form of the README, on the same credentials.
  const direct = new WPAPI({ endpoint: `${SITE}/wp-json`, username: WP_USER, password: WP_APP_PASSWORD });
  const me = await direct.users().me().param('context', 'edit');
  check(me.username === WP_USER || me.email === WP_USER, 'users/me is the authenticated user', me);
  ok('new WPAPI({endpoint, username, password}) users().me()', `id ${me.id}`);

  // A draft, then published.
  const draft = await wp.posts().create({
    title: `wpapi ${RUN}`,
    content: 'Written with node-wpapi.',
    status: 'draft',
  });
  cleanups.push(() => wp.posts().id(draft.id).delete({ force: true }));
  check(draft.status === 'draft' && draft.title.raw === `wpapi ${RUN}`, 'created as a draft', draft);
  ok('posts().create() draft', `id ${draft.id}`);

  const published = await wp.posts().id(draft.id).update({ status: 'publish' });
  check(published.status === 'publish', 'published', published);
  ok('posts().id().update({status: "publish"})');

  // Five more drafts, walked two at a time through _paging.
  const drafts = [];
  for (let i = 1; i <= 5; i++) {
    const p = await wp.posts().create({ title: `wpapi ${RUN} page ${i}`, status: 'draft' });
    cleanups.push(() => wp.posts().id(p.id).delete({ force: true }));
    drafts.push(p.id);
  }
  let page = await wp.posts().param('status', 'draft').search(`wpapi ${RUN} page`).perPage(2).page(1);
  check(page._paging && page._paging.total === 5 && page._paging.totalPages === 3, '_paging totals', page._paging);
  check(page.length === 2 && page._paging.next && !page._paging.prev, 'first page', page._paging);
  const seen = page.map((p) => p.id);
  let pages = 1;
  while (page._paging && page._paging.next) {
    page = await page._paging.next.get();
    pages += 1;
    seen.push(...page.map((p) => p.id));
  }
  check(pages === 3 && seen.length === 5, `3 pages, 5 posts (got ${pages}, ${seen.length})`);
  check(drafts.every((id) => seen.includes(id)), 'every draft listed once', { drafts, seen });
  const last = await wp.posts().param('status', 'draft').search(`wpapi ${RUN} page`).perPage(2).page(3);
  check(last._paging.prev && !last._paging.next && last.length === 1, 'last page', last._paging);
  ok('perPage(2).page(n) with _paging.total/totalPages/next/prev', `${seen.length} drafts over ${pages} pages`);

  // A media item from a Buffer, attached to the post, then its featured image.
  const media = await wp.media().file(PNG, `wpapi-${RUN}.png`).create({
    title: `wpapi upload ${RUN}`,
    alt_text: 'Four coloured squares',
    post: draft.id,
  });
  cleanups.push(() => wp.media().id(media.id).delete({ force: true }));
  check(media.mime_type === 'image/png' && media.alt_text === 'Four coloured squares', 'media created', media);
  check(media.post === draft.id && media.media_details.width === 200, 'media attached, 200 px wide', media);
  const served = await fetch(media.source_url);
  check(served.ok && Buffer.from(await served.arrayBuffer()).equals(PNG), 'source_url serves the upload');
  await wp.posts().id(draft.id).update({ featured_media: media.id });
  ok('media().file(buffer, name).create({...})', media.source_url);

  // A category, assigned to the post.
  const category = await wp.categories().create({ name: `wpapi ${RUN}` });
  cleanups.push(() => wp.categories().id(category.id).delete({ force: true }));
  check(category.taxonomy === 'category' && category.slug === `wpapi-${RUN}`, 'category created', category);
  const assigned = await wp.posts().id(draft.id).update({ categories: [category.id] });
  check(assigned.categories.length === 1 && assigned.categories[0] === category.id, 'category assigned', assigned);
  ok('categories().create() and posts().update({categories})', `category ${category.id}`);

  // Read back anonymously, with _embed: the category and the featured image come along.
  const anon = new WPAPI({ endpoint: `${SITE}/wp-json` });
  const post = await anon.posts().id(draft.id).embed();
  const terms = (post._embedded['wp:term'] || []).flat().map((t) => t.id);
  check(terms.includes(category.id), '_embedded wp:term has the category', post._embedded);
  check(post._embedded['wp:featuredmedia'][0].id === media.id, '_embedded wp:featuredmedia', post._embedded);
  const byCategory = await anon.posts().categories(category.id);
  check(byCategory.length === 1 && byCategory[0].id === draft.id, 'posts().categories(id) filter', byCategory);
  ok('anonymous posts().id().embed() and posts().categories(id)');

  // A comment and a reply on the post, read by anyone, then moderated: held (hidden from the
  // public), approved again, and the reply trashed.
  const comment = await wp.comments().create({ post: draft.id, content: `wpapi comment ${RUN}` });
  cleanups.push(() => wp.comments().id(comment.id).delete({ force: true }));
  check(comment.post === draft.id && comment.status === 'approved', 'comment created', comment);
  const reply = await wp.comments().create({ post: draft.id, parent: comment.id, content: 'A reply.' });
  cleanups.push(() => wp.comments().id(reply.id).delete({ force: true }));
  check(reply.parent === comment.id, 'reply created', reply);
  const thread = await anon.comments().forPost(draft.id).order('asc');
  check(thread.length === 2 && thread[0].id === comment.id && thread[1].id === reply.id, 'forPost(id) lists the thread', thread);
  check(thread._paging.total === 2, 'comments _paging', thread._paging);
  const children = await anon.comments().param('parent', comment.id);
  check(children.length === 1 && children[0].id === reply.id, "param('parent') lists the reply", children);
  const held = await wp.comments().id(comment.id).update({ status: 'hold' });
  check(held.status === 'hold', 'held', held);
  const hidden = await anon.comments().forPost(draft.id);
  check(hidden.length === 1 && hidden[0].id === reply.id, 'a held comment is hidden from the public', hidden);
  const pending = await wp.comments().forPost(draft.id).param('status', 'hold');
  check(pending.length === 1 && pending[0].id === comment.id, "param('status', 'hold') lists it", pending);
  const approved = await wp.comments().id(comment.id).update({ status: 'approved' });
  check(approved.status === 'approved', 'approved', approved);
  const binned = await wp.comments().id(reply.id).delete();
  check(binned.status === 'trash', 'reply trashed', binned);
  ok('comments().create(), forPost(id), update({status}), delete()', `comment ${comment.id}`);

  // Trash a draft (DELETE without force), then delete it for good (DELETE with a JSON body).
  const trashed = await wp.posts().id(drafts[0]).delete();
  check(trashed.status === 'trash', 'trashed', trashed);
  const deleted = await wp.posts().id(drafts[0]).delete({ force: true });
  check(deleted.deleted === true && deleted.previous.id === drafts[0], 'deleted', deleted);
  const gone = await wp.posts().id(drafts[0]).get().then(() => null, (e) => e);
  check(gone && gone.code === 'rest_post_invalid_id' && gone.data.status === 404, 'deleted post is 404', gone);
  ok('posts().id().delete() then .delete({force: true})');

  return { post: draft.id, media: media.id, category: category.id, comment: comment.id };
});
