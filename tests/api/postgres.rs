//! The PostgreSQL pass: this whole test binary once more, against PostgreSQL.
//!
//! `cargo test` runs every test against SQLite. When `FERROPRESS_TEST_DATABASE_URL` is set,
//! `postgres::pass` runs this same binary again as a child process with
//! `FERROPRESS_TEST_STORE=postgres` (every `TestApp` and CLI call then gets a fresh schema of
//! that database) and `--include-ignored` (the multi-instance and `migrate-store` tests, which
//! need PostgreSQL, are ignored in the SQLite pass). It fails when any test of the child
//! fails, and drops the child's schemas afterwards. Without the variable it says that the
//! PostgreSQL pass was skipped. Every test, including tests added later, runs in both passes.

use std::io::Write as _;
use std::process::Command;

use crate::helpers::*;

/// Writes past libtest's output capture, so the line shows in a plain `cargo test`.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[test]
fn pass() {
    if postgres_base_url().is_some() {
        // This is the PostgreSQL pass itself.
        return;
    }
    let Ok(base) = std::env::var(DATABASE_URL_VAR) else {
        say(&format!(
            "\nPostgreSQL pass SKIPPED: {DATABASE_URL_VAR} is not set (only SQLite was tested; \
             .ci/run sets it)."
        ));
        return;
    };
    let prefix = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let mut child = Command::new(std::env::current_exe().expect("current exe"));
    child
        .env(STORE_VAR, "postgres")
        .env(SCHEMA_PREFIX_VAR, &prefix)
        .args(["--include-ignored", "--skip", "postgres::pass"]);
    // Keep the parallelism the caller asked for.
    for arg in std::env::args().filter(|a| a.starts_with("--test-threads")) {
        child.arg(arg);
    }
    let out = child.output().expect("run the PostgreSQL pass");

    // Drop this pass's schemas; a failed pass keeps them for inspection.
    if out.status.success() {
        drop_schemas(&base, &format!("t_{prefix}_"));
    }

    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .filter(|l| l.starts_with("test result:"))
        .collect::<Vec<_>>()
        .join("; ");
    say(&format!("\nPostgreSQL pass: {summary}"));
    assert!(
        out.status.success(),
        "the PostgreSQL pass failed (schemas t_{prefix}_* kept):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
