//! The compatibility suite (`compat/run.py`): the same scenarios against this binary and a
//! real WordPress, when one is configured (`WP_ORACLE_URL`, from `scripts/wordpress-oracle.sh`).

use std::process::Command;

#[test]
fn compatibility_suite_against_wordpress_oracle() {
    if std::env::var_os("WP_ORACLE_URL").is_none() {
        println!(
            "compat: skipped (WP_ORACLE_URL not set; run scripts/wordpress-oracle.sh start && \
             eval \"$(scripts/wordpress-oracle.sh env)\")"
        );
        return;
    }
    let _turn = crate::helpers::oracle_turn(false);
    let out = run_py(&[]);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "compat/run.py found undocumented differences from WordPress (or failed):\n{report}"
    );
    // The totals line, visible with `cargo test -- --nocapture`.
    println!("{}", report.trim_end().lines().last().unwrap_or_default());
}

/// Runs `compat/run.py` with `args` against this binary; in the PostgreSQL pass, the
/// ferropress it starts uses a fresh schema (its own --data-dir then only holds the log).
pub fn run_py(args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("python3");
    cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/compat/run.py"))
        .arg("--ferropress")
        .arg(env!("CARGO_BIN_EXE_ferropress"))
        .args(args);
    let dir = tempfile::tempdir().expect("tempdir");
    match crate::helpers::storage_for(dir.path()).database_url {
        Some(url) => cmd.env(
            "FERROPRESS_DATABASE_URL",
            secrecy::ExposeSecret::expose_secret(&url),
        ),
        None => cmd.env_remove("FERROPRESS_DATABASE_URL"),
    };
    cmd.output().expect("running python3 compat/run.py")
}
