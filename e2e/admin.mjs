// End-to-end test of ferropress's admin screens in Debian's Chromium (playwright-core).
// Started by `cargo test` (tests/api/admin_ui.rs) against a real server; can also be run by
// hand: FERROPRESS_URL=… ADMIN_LOGIN=… ADMIN_PASSWORD=… AUTHOR_LOGIN=… AUTHOR_PASSWORD=…
// AUTHOR_ID=… ADMIN_ID=… SCREENSHOT_DIR=… node e2e/admin.mjs
//
// Prints one "ok - …" line per check and exits non-zero on the first failure.

import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
};
const BASE = env('FERROPRESS_URL').replace(/\/$/, '');
const ADMIN = { login: env('ADMIN_LOGIN'), password: env('ADMIN_PASSWORD'), id: Number(env('ADMIN_ID')) };
const AUTHOR = { login: env('AUTHOR_LOGIN'), password: env('AUTHOR_PASSWORD'), id: Number(env('AUTHOR_ID')) };
const SHOTS = env('SCREENSHOT_DIR');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let checks = 0;
function ok(cond, what, detail = '') {
  if (!cond) throw new Error(`FAILED: ${what}${detail ? ` (${detail})` : ''}`);
  checks += 1;
  console.log(`ok - ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** A REST call with HTTP Basic credentials, from the test (not the browser). */
async function restAs(login, password, path = '/wp-json/wp/v2/users/me?context=edit') {
  const auth = Buffer.from(`${login}:${password}`).toString('base64');
  const res = await fetch(`${BASE}${path}`, { headers: { Authorization: `Basic ${auth}` } });
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  return { status: res.status, body };
}

/** Clicks what submits a form and waits until the answer's page has loaded. (A bare
 * `waitForLoadState` resolves at once on the page being left.) */
async function submit(page, selector) {
  await Promise.all([
    page.waitForEvent('framenavigated', (f) => f === page.mainFrame()),
    page.click(selector),
  ]);
  await page.waitForLoadState('load');
}

async function login(page, who, password = who.password) {
  await page.goto(`${BASE}/wp-login.php`);
  await page.fill('#user_login', who.login);
  await page.fill('#user_pass', password);
  await submit(page, '#wp-submit');
}

async function logout(page) {
  await Promise.all([page.waitForURL(/loggedout=true/), page.click('#logout-link')]);
}

/** Creates an Application Password on the page currently shown; returns the password. */
async function addPassword(page, name) {
  await page.fill('#new_application_password_name', name);
  await submit(page, '#do_new_application_password');
  const value = await page.inputValue('#new-application-password-value');
  return value;
}

/** A local HTTP server standing in for an application's callback (environment `local`). */
async function callbackServer() {
  const hits = [];
  const server = createServer((req, res) => {
    hits.push(new URL(req.url, 'http://127.0.0.1'));
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!DOCTYPE html><title>Application callback</title><h1>Application callback</h1>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, hits, url: `http://127.0.0.1:${server.address().port}/callback` };
}

/** The Activity table (audit log, issue 18), seen by the author logged in on `page`. */
async function activitySection(page) {
  await page.goto(`${BASE}/wp-admin/profile.php`);
  const table = page.locator('#activity-log');
  ok(await page.locator('h2#activity-title').isVisible() && await table.isVisible(),
    'the profile shows an Activity table');
  const created = table.locator('tr[data-event="token.created"]', { hasText: 'Author own' });
  ok(await created.count() === 1, 'it lists the password the author created');
  ok((await created.locator('td.column-by').innerText()).trim() === AUTHOR.login,
    'with who created it');
  ok(await table.locator('tr[data-event="login.succeeded"]').count() >= 1, 'and the author\'s logins');
  await shot(page, '20-activity');
}

/** Token governance (issue 18): expiry and access choices, Rotate, and authorize-application
 * with scopes. `who` is logged in on `page`. */
async function tokenGovernance(page, who) {
  const rest = async (password, path, method = 'GET', body = undefined) => {
    const auth = Buffer.from(`${who.login}:${password}`).toString('base64');
    const res = await fetch(`${BASE}${path}`, {
      method,
      headers: { Authorization: `Basic ${auth}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  await page.goto(`${BASE}/wp-admin/profile.php`);
  await page.fill('#new_application_password_name', 'Scoped CI');
  await page.selectOption('#new_application_password_expires', '30d');
  await page.selectOption('#new_application_password_access', 'custom');
  await page.fill('#new_application_password_scopes', 'posts:read');
  await submit(page, '#do_new_application_password');
  const scoped = await page.inputValue('#new-application-password-value');
  let r = await rest(scoped, '/wp-json/wp/v2/posts');
  ok(r.status === 200, 'a token limited to posts:read on the profile screen reads posts', String(r.status));
  r = await rest(scoped, '/wp-json/wp/v2/posts', 'POST', { title: 'no' });
  ok(r.status === 403 && r.body.code === 'rest_application_password_scope', 'and may not write them', JSON.stringify(r.body));
  r = await rest(scoped, '/wp-json/wp/v2/users/me/application-passwords/introspect');
  const in30 = Date.now() + 30 * 86400e3;
  ok(Math.abs(Date.parse(r.body.expires) - in30) < 120e3, 'the 30-day choice sets the expiry', r.body.expires);
  await page.goto(`${BASE}/wp-admin/profile.php`);
  const row = page.locator('tr[data-uuid]', { hasText: 'Scoped CI' });
  ok((await row.locator('.column-scopes').innerText()).trim() === 'posts:read', 'the table shows the access');
  ok((await row.locator('.column-expires').innerText()).trim() !== 'Never', 'and the expiry');

  await page.fill('#new_application_password_name', 'Dated reader');
  await page.selectOption('#new_application_password_expires', 'custom');
  await page.fill('#new_application_password_expires_date', '2030-01-01');
  await page.selectOption('#new_application_password_access', 'read');
  await submit(page, '#do_new_application_password');
  const dated = await page.inputValue('#new-application-password-value');
  r = await rest(dated, '/wp-json/wp/v2/users/me/application-passwords/introspect');
  ok(r.body.expires === '2030-01-01T23:59:59Z' && JSON.stringify(r.body.scopes) === '["read"]',
    'a custom date and read-only access are kept', JSON.stringify(r.body));
  await shot(page, '13-token-choices');

  // Rotate: a new secret is shown once; the old one stops (no grace chosen).
  await page.goto(`${BASE}/wp-admin/profile.php`);
  await Promise.all([
    page.waitForEvent('framenavigated', (f) => f === page.mainFrame()),
    page.locator('tr[data-uuid]', { hasText: 'Scoped CI' }).locator('button', { hasText: 'Rotate' }).click(),
  ]);
  await page.waitForLoadState('load');
  const rotated = await page.inputValue('#new-application-password-value');
  ok(rotated !== scoped && (await page.locator('.new-application-password-notice', { hasText: 'Scoped CI' }).isVisible()),
    'Rotate shows a new password for the same application');
  ok((await rest(scoped, '/wp-json/wp/v2/posts')).status === 401, 'the old secret stops working');
  r = await rest(rotated, '/wp-json/wp/v2/users/me/application-passwords/introspect');
  ok(r.status === 200 && JSON.stringify(r.body.scopes) === '["posts:read"]', 'the new one works with the same scopes');
  await shot(page, '14-rotated');

  // Authorize Application with scopes: shown before approval, given to the token.
  const q = new URLSearchParams({ app_name: 'Scoped App', scopes: 'posts:read,media:read', expires: '90d' });
  await page.goto(`${BASE}/wp-admin/authorize-application.php?${q}`);
  ok(await page.locator('.requested-scopes', { hasText: 'media:read' }).isVisible(), 'authorize-application shows the scopes asked for');
  await shot(page, '15-authorize-scopes');
  await page.click('#approve');
  const app = await page.inputValue('#new-application-password-value');
  r = await rest(app, '/wp-json/wp/v2/users/me/application-passwords/introspect');
  ok(JSON.stringify(r.body.scopes) === '["posts:read","media:read"]' && r.body.expires !== null,
    'the approved token has the scopes and expiry asked for', JSON.stringify(r.body));
  ok((await rest(app, '/wp-json/wp/v2/comments')).status === 403, 'and nothing else');
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'ferropress-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const cb = await callbackServer();
  try {
    // Generous: CI runs this beside the compat and PHPUnit suites on two cores.
    context.setDefaultTimeout(30_000);
    const page = context.pages()[0] || await context.newPage();
    page.on('dialog', (d) => d.accept());

    // --- Log in -----------------------------------------------------------------------
    const resp = await page.goto(`${BASE}/wp-admin/`);
    ok(page.url().includes('/wp-login.php') && page.url().includes('redirect_to='),
      '/wp-admin/ sends a logged-out visitor to wp-login.php with redirect_to', page.url());
    ok(resp.status() === 200, 'the login form loads');
    ok(await page.locator('label[for=user_login]').isVisible(), 'the login form has labelled fields');
    await shot(page, '01-login');
    await page.fill('#user_login', ADMIN.login);
    await page.fill('#user_pass', ADMIN.password);
    await Promise.all([page.waitForURL(/\/wp-admin\/profile\.php/), page.click('#wp-submit')]);
    ok(await page.locator('h1', { hasText: 'Profile' }).isVisible(), 'the administrator is logged in and sees the profile');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name.startsWith('wordpress_logged_in_'));
    ok(session && session.httpOnly && session.sameSite === 'Lax', 'the session cookie is HttpOnly and SameSite=Lax');
    await shot(page, '02-profile');

    // --- Create a password, read it from the page, use it, revoke it -------------------
    const password = await addPassword(page, 'E2E Integration');
    ok(/^[A-Za-z0-9]{4}( [A-Za-z0-9]{4}){5}$/.test(password), 'the new password is shown once, in groups of four', password);
    ok(await page.locator('.new-application-password-notice', { hasText: 'E2E Integration' }).isVisible(), 'the notice names the application');
    await page.click('.copy-button');
    await page.locator('.application-password-display .success', { hasText: 'Copied!' }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    ok(copied === password, 'the Copy button copies the password to the clipboard');
    await shot(page, '03-new-password');

    let r = await restAs(ADMIN.login, password);
    ok(r.status === 200 && r.body.id === ADMIN.id, 'the password read from the page authenticates a REST call', `status ${r.status}`);
    r = await restAs(ADMIN.login, password.replaceAll(' ', ''));
    ok(r.status === 200, 'the password also works without its spaces');

    await page.goto(`${BASE}/wp-admin/profile.php`);
    ok(await page.locator('.new-application-password-notice').count() === 0, 'the password is not shown again');
    const row = page.locator('tr[data-uuid]', { hasText: 'E2E Integration' });
    ok(await row.isVisible(), 'the table lists the new password');
    ok((await row.locator('.column-last_ip').innerText()).trim() === '127.0.0.1', 'Last IP shows the REST call');
    ok((await row.locator('.column-last_user_agent').innerText()).includes('node'), 'Last User Agent shows the client');
    ok((await row.locator('.column-last_used').innerText()).trim() !== '—', 'Last Used is filled in');
    const headers = await page.locator('.application-passwords-user thead th').allInnerTexts();
    ok(JSON.stringify(headers) === JSON.stringify(['Name', 'Created', 'Last Used', 'Last IP', 'Last User Agent', 'Expires', 'Access', 'Rotate', 'Revoke']),
      'the table has WordPress\'s columns plus Last User Agent, Expires, Access and Rotate', headers.join(','));
    await shot(page, '04-table');

    await Promise.all([page.waitForURL(/revoked=one/), row.locator('button', { hasText: 'Revoke' }).click()]);
    ok(await page.locator('.notice-success', { hasText: 'Application password revoked.' }).isVisible(), 'revoking confirms');
    ok(await page.locator('tr[data-uuid]', { hasText: 'E2E Integration' }).count() === 0, 'the revoked password left the table');
    r = await restAs(ADMIN.login, password);
    ok(r.status === 401 && r.body.code === 'incorrect_password', 'the revoked password no longer authenticates', `status ${r.status}`);
    await shot(page, '05-revoked');

    // --- Revoke all ---------------------------------------------------------------------
    const p1 = await addPassword(page, 'Bulk one');
    await page.goto(`${BASE}/wp-admin/profile.php`);
    const p2 = await addPassword(page, 'Bulk two');
    await Promise.all([page.waitForURL(/revoked=all/), page.click('#revoke-all-application-passwords')]);
    ok(await page.locator('.notice-success', { hasText: 'All application passwords revoked.' }).isVisible(), 'revoke all confirms');
    ok((await restAs(ADMIN.login, p1)).status === 401 && (await restAs(ADMIN.login, p2)).status === 401, 'revoke all revokes every password');

    // --- An Application Password is refused on the login form ---------------------------
    const loginToken = await addPassword(page, 'Not for logging in');
    await logout(page);
    ok(await page.locator('.message', { hasText: 'You are now logged out.' }).isVisible(), 'logging out says so');
    ok(!(await context.cookies()).some((c) => c.name.startsWith('wordpress_logged_in_') && c.value), 'logging out clears the cookie');
    await login(page, ADMIN, loginToken);
    ok(page.url().includes('/wp-login.php'), 'an Application Password does not log in', page.url());
    ok(await page.locator('#login_error', { hasText: 'is incorrect' }).isVisible(), 'the login form says the password is incorrect');
    ok(!(await context.cookies()).some((c) => c.name.startsWith('wordpress_logged_in_') && c.value), 'no session cookie was set');
    await shot(page, '06-app-password-refused');
    ok((await restAs(ADMIN.login, loginToken)).status === 200, 'the same token still works for the REST API');

    // --- Authorize Application: approve, reject, no success_url, invalid request --------
    await login(page, ADMIN);
    const appId = randomUUID();
    const authUrl = (params) => `${BASE}/wp-admin/authorize-application.php?${new URLSearchParams(params)}`;
    await page.goto(authUrl({ app_name: 'E2E App', app_id: appId, success_url: cb.url }));
    ok(await page.locator('.auth-app-card', { hasText: 'E2E App' }).isVisible(), 'authorize-application names the application');
    ok(await page.locator('#description-approve', { hasText: 'password=[------]' }).isVisible(), 'it says where approval sends you, password masked');
    await shot(page, '07-authorize');
    await Promise.all([page.waitForURL((u) => u.href.startsWith(cb.url)), page.click('#approve')]);
    const approved = new URL(page.url());
    ok(approved.searchParams.get('site_url') === BASE && approved.searchParams.get('user_login') === ADMIN.login,
      'approval redirects to success_url with site_url and user_login', page.url());
    const appPassword = approved.searchParams.get('password');
    r = await restAs(approved.searchParams.get('user_login'), appPassword);
    ok(r.status === 200 && r.body.id === ADMIN.id, 'the credentials handed to the application work');
    r = await restAs(ADMIN.login, appPassword, '/wp-json/wp/v2/users/me/application-passwords');
    ok(r.status === 200 && r.body.some((p) => p.name === 'E2E App' && p.app_id === appId), 'the password is recorded with the app_id');

    await page.goto(authUrl({ app_name: 'E2E App Rejected', success_url: cb.url }));
    await Promise.all([page.waitForURL((u) => u.href.startsWith(cb.url)), page.click('#reject')]);
    ok(new URL(page.url()).searchParams.get('success') === 'false' && !page.url().includes('password='),
      'rejecting redirects with success=false and no password', page.url());
    r = await restAs(ADMIN.login, appPassword, '/wp-json/wp/v2/users/me/application-passwords');
    ok(!r.body.some((p) => p.name === 'E2E App Rejected'), 'rejecting creates no password');

    await page.goto(authUrl({ app_name: 'Manual App' }));
    await page.click('#approve');
    const manual = await page.inputValue('#new-application-password-value');
    ok((await restAs(ADMIN.login, manual)).status === 200, 'without success_url the password is shown on the page, and works');
    await shot(page, '08-authorize-manual');

    const bad = await page.goto(authUrl({ app_name: 'Bad', app_id: 'not-a-uuid', success_url: 'javascript://x/%0aalert(1)' }));
    ok(bad.status() >= 400 && await page.locator('h1', { hasText: 'Cannot Authorize Application' }).isVisible(),
      'an invalid request (app_id, javascript: URL) is refused', String(bad.status()));
    ok(await page.locator('body', { hasText: 'The application ID must be a UUID.' }).isVisible(), 'the refusal says why');
    await shot(page, '09-authorize-invalid');

    // --- Users screen: create a dedicated user, change its role, manage its passwords ---
    await page.goto(`${BASE}/wp-admin/user-new.php`);
    await page.fill('#user_login', 'e2e-bot');
    await page.fill('#email', 'e2e-bot@example.com');
    await page.fill('#pass1', 'e2e-bot-password');
    await page.selectOption('#role', 'author');
    await Promise.all([page.waitForURL(/users\.php\?update=add/), page.click('#createusersub')]);
    const botRow = page.locator('tr', { hasText: 'e2e-bot' });
    ok((await botRow.locator('.role').innerText()).trim() === 'Author', 'an administrator creates a user with a role');
    await botRow.locator('input[type=checkbox]').check();
    await page.selectOption('#new_role', 'editor');
    await Promise.all([page.waitForURL(/update=promote/), page.click('#changeit')]);
    ok((await page.locator('tr', { hasText: 'e2e-bot' }).locator('.role').innerText()).trim() === 'Editor', 'and changes its role');
    await shot(page, '10-users');

    await page.goto(`${BASE}/wp-admin/user-edit.php?user_id=${AUTHOR.id}`);
    ok(await page.locator('h1', { hasText: `Edit User ${AUTHOR.login}` }).isVisible(), 'an administrator opens another user\'s screen');
    const forAuthor = await addPassword(page, 'Made by the admin');
    r = await restAs(AUTHOR.login, forAuthor);
    ok(r.status === 200 && r.body.id === AUTHOR.id, 'an administrator creates a password for another user');
    await shot(page, '11-user-edit');
    await logout(page);

    // --- A non-administrator cannot manage another user's passwords --------------------
    await login(page, AUTHOR);
    ok(page.url().includes('/wp-admin/'), 'the author logs in');
    ok(await page.locator('#adminmenu a', { hasText: 'Users' }).count() === 0, 'the author has no Users menu');
    const nonce = await page.inputValue('form.create-application-password input[name=_wpnonce]');
    let res = await page.goto(`${BASE}/wp-admin/user-edit.php?user_id=${ADMIN.id}`);
    ok(res.status() === 403 && await page.locator('body', { hasText: 'not allowed to edit this user' }).isVisible(),
      'the author cannot open the administrator\'s screen');
    await shot(page, '12-author-forbidden');
    const forged = await page.request.post(`${BASE}/wp-admin/user-edit.php`, {
      form: { _wpnonce: nonce, user_id: String(ADMIN.id), action: 'revoke-all-application-passwords' },
      maxRedirects: 0,
    });
    ok(forged.status() === 403, 'nor revoke the administrator\'s passwords with a forged form', String(forged.status()));
    ok((await restAs(ADMIN.login, loginToken)).status === 200, 'the administrator\'s password is untouched');
    res = await page.goto(`${BASE}/wp-admin/users.php`);
    ok(res.status() === 403, 'the author cannot list users');
    await page.goto(`${BASE}/wp-admin/profile.php`);
    const own = await addPassword(page, 'Author own');
    ok((await restAs(AUTHOR.login, own)).status === 200, 'the author manages their own passwords');

    // A form without its nonce is refused (CSRF).
    const csrf = await page.request.post(`${BASE}/wp-admin/profile.php`, {
      form: { action: 'revoke-all-application-passwords' },
      maxRedirects: 0,
    });
    ok(csrf.status() === 403, 'a form posted without a nonce is refused', String(csrf.status()));
    ok((await restAs(AUTHOR.login, own)).status === 200, 'and changed nothing');

    await activitySection(page);
    await tokenGovernance(page, AUTHOR);

    console.log(`e2e: ${checks} checks passed; screenshots in ${SHOTS}`);
  } finally {
    cb.server.close();
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  console.error(`e2e: failed after ${checks} checks`);
  process.exit(1);
});
