// Shared by the Node clients: configuration from the environment, checks, and cleanup of
// what a run created (skipped with KEEP_CREATED=1, which tests/api/clients.rs sets so that it
// can check the results through the API afterwards).
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`set ${name} (FERROPRESS_URL, WP_USER, WP_APP_PASSWORD)`);
    process.exit(2);
  }
  return value;
}

export const SITE = need('FERROPRESS_URL').replace(/\/+$/, '');
export const WP_USER = need('WP_USER');
export const WP_APP_PASSWORD = need('WP_APP_PASSWORD');
export const PNG = readFileSync(new URL('./fixtures/photo.png', import.meta.url));
/** A word unique to this run, so that runs against a long-lived site do not collide. */
export const RUN = `run${randomBytes(4).toString('hex')}`;

export function check(cond, what, detail) {
  if (!cond) {
    const extra = detail === undefined ? '' : `\n--- ${JSON.stringify(detail).slice(0, 2000)}`;
    throw new Error(`check failed: ${what}${extra}`);
  }
}

export function ok(step, note = '') {
  console.log(`ok   ${step}${note ? `  ${note}` : ''}`);
}

/**
 * Runs `body(cleanups)`; `cleanups` collects async functions that undo what was made,
 * run in reverse order at the end unless KEEP_CREATED=1. Prints `RESULT {json}` last.
 */
export async function main(body) {
  const cleanups = [];
  let failed = false;
  try {
    const result = await body(cleanups);
    console.log(`RESULT ${JSON.stringify(result)}`);
  } catch (e) {
    failed = true;
    console.error(`FAIL ${e && e.stack ? e.stack : JSON.stringify(e)}`);
  }
  if (process.env.KEEP_CREATED !== '1') {
    for (const undo of cleanups.reverse()) {
      await undo().catch((e) => {
        // Already gone (a step deleted it) is fine.
        if (!(e && e.data && (e.data.status === 404 || e.data.status === 410))) {
          console.error(`cleanup: ${JSON.stringify(e)}`);
        }
      });
    }
  }
  process.exit(failed ? 1 : 0);
}
