// Runs the `fetch` recipes of docs/recipes.md exactly as they are written there (each
// ```js block after a `<!-- recipe: name -->` comment), in Node 20 with its global fetch,
// and checks what they get back. Each block runs as the body of an async function whose
// parameters are the variables the page names (SITE, AUTH, POST_ID, …); the constants it
// declares are handed back for the checks.
//
//   FERROPRESS_URL=http://127.0.0.1:8080 WP_USER=editor WP_APP_PASSWORD='…' node clients/fetch-recipes.mjs
//
// tests/api/clients.rs runs it against ferropress; it passes against WordPress too
// (docs/recipes.md, "Checking against WordPress").
import { readFileSync } from 'node:fs';
import { SITE, WP_USER, WP_APP_PASSWORD, PNG, check, ok, main } from './common.mjs';

const DOC = process.env.RECIPES_DOC || new URL('../docs/recipes.md', import.meta.url);
const lines = readFileSync(DOC, 'utf8').split('\n');
const AsyncFunction = (async () => {}).constructor;

/** The ```js block after `<!-- recipe: name -->`. */
function block(name) {
  for (let i = 0; i < lines.length - 1; i++) {
    if (lines[i] === `<!-- recipe: ${name} -->` && lines[i + 1] === '```js') {
      const end = lines.indexOf('```', i + 2);
      return lines.slice(i + 2, end).join('\n');
    }
  }
  throw new Error(`docs/recipes.md has no js recipe named '${name}'`);
}

const vars = { SITE, WP_USER, WP_APP_PASSWORD, PNG_BYTES: PNG };

/** Runs recipe `name` with `vars` in scope; returns the constants it declares. */
async function run(name, expectStatus, extra = {}) {
  const code = block(name);
  const declared = [...code.matchAll(/^const (\w+) =/gm)].map((m) => m[1]);
  const scope = { ...vars, ...extra };
  const fn = new AsyncFunction(...Object.keys(scope), `${code}\nreturn { ${declared.join(', ')} };`);
  const out = await fn(...Object.values(scope));
  if (expectStatus !== undefined) {
    const body = Object.values(out).find((v) => v && typeof v === 'object' && !(v instanceof Response));
    check(out.res && out.res.status === expectStatus, `${name}: status ${out.res && out.res.status}, expected ${expectStatus}`, body);
    ok(name, `${out.res.status}`);
  }
  return out;
}

/** A request outside the recipes (checks and cleanup). */
async function call(method, path) {
  const res = await fetch(`${SITE}/wp-json/wp/v2/${path}`, { method, headers: { Authorization: vars.AUTH } });
  return { status: res.status, body: await res.json() };
}

await main(async (cleanups) => {
  Object.assign(vars, await run('setup'));

  const { token } = await run('api-create-token', 201);
  check(token.password && token.name === 'Deploy script', 'a new token', token);
  cleanups.push(() => call('DELETE', `users/me/application-passwords/${token.uuid}`));

  const { post } = await run('create-draft', 201);
  check(post.status === 'draft', 'created as a draft', post);
  cleanups.push(() => call('DELETE', `posts/${post.id}?force=true`));

  const { drafts, total, totalPages } = await run('list-drafts', 200);
  check(drafts.some((p) => p.id === post.id) && drafts.every((p) => p.status === 'draft'), 'drafts listed', drafts);
  check(total >= 1 && totalPages >= 1 && drafts.length === Math.min(total, 10), 'X-WP-Total/X-WP-TotalPages', { total, totalPages });

  const meta = (await run('update-meta', 200, { POST_ID: post.id })).post;
  if ('subtitle' in meta.meta) {
    check(meta.meta.subtitle === 'Notes from the field', 'meta.subtitle', meta.meta);
  } else {
    console.log("     (meta key 'subtitle' is not registered on this site: the value was ignored)");
  }

  const { media } = await run('upload-media-form', 201);
  cleanups.push(() => call('DELETE', `media/${media.id}?force=true`));
  check(media.mime_type === 'image/png' && media.alt_text === 'Boats in the harbour', 'media', media);
  check(media.title.raw === 'Harbour at dawn' && media.media_details.width === 200, 'media title, width', media);

  const { category } = await run('create-category', 201);
  cleanups.push(() => call('DELETE', `categories/${category.id}?force=true`));
  const assigned = (await run('assign-category', 200, { POST_ID: post.id, CATEGORY_ID: category.id })).post;
  check(assigned.categories.length === 1 && assigned.categories[0] === category.id, 'category assigned', assigned);

  const published = (await run('publish', 200, { POST_ID: post.id })).post;
  check(published.status === 'publish', 'published', published);

  const second = (await run('create-draft', 201)).post;
  cleanups.push(() => call('DELETE', `posts/${second.id}?force=true`));
  const scheduled = (await run('schedule', 200, { POST_ID: second.id })).post;
  check(scheduled.status === 'future' && scheduled.date === '2099-01-01T09:00:00', 'scheduled', scheduled);

  const { page } = await run('create-page', 201);
  cleanups.push(() => call('DELETE', `pages/${page.id}?force=true`));
  const updated = (await run('update-page', 200, { PAGE_ID: page.id })).page;
  check(updated.title.raw === 'About us', 'page updated', updated);

  const { result } = await run('revoke-token', 200, { TOKEN_UUID: token.uuid });
  check(result.deleted === true, 'revoked', result);
  const gone = await fetch(`${SITE}/wp-json/wp/v2/users/me`, {
    headers: { Authorization: 'Basic ' + btoa(`${WP_USER}:${token.password}`) },
  });
  check(gone.status === 401, `the revoked token is refused (users/me -> ${gone.status})`);
  ok('revoked token', 'users/me -> 401');

  return { published: post.id, scheduled: second.id, page: page.id, media: media.id, category: category.id };
});
