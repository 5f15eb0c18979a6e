//! WordPress's own PHPUnit cases for the REST controllers, ported to HTTP
//! (`compat/phpunit/`, see its README): every ported case's upstream assertions must hold on
//! this binary. Against the oracle, `python3 compat/run.py --suite phpunit` also shows which
//! cases WordPress 6.1 passes.

#[test]
fn ported_wordpress_phpunit_cases_pass() {
    let out = crate::compat::run_py(&["--suite", "phpunit", "--no-oracle"]);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "ported WordPress PHPUnit cases fail on ferropress:\n{report}"
    );
    println!("{}", report.trim_end().lines().last().unwrap_or_default());
}
