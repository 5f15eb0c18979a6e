//! The server's log: one line per request, written in batches while it serves (at most
//! `ferropress::logging::FLUSH_EVERY` late), in order, and all of it by the time it stops.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::helpers::*;

#[tokio::test]
async fn request_lines_arrive_while_serving_in_order_and_at_shutdown() {
    install_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferropress"));
    store_env(&mut child, &storage_for(dir.path()));
    let mut child = child
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("FERROPRESS_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let (tx, lines) = mpsc::channel::<String>();
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let reader = std::thread::spawn(move || {
        for line in stderr.lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first line");
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("serving URL")
        .trim_end_matches("/wp-json/")
        .to_owned();
    // Wait until the line (or one containing `needle`) arrives, while the server runs.
    let wait_for = |needle: &str| -> Vec<String> {
        let mut seen = vec![];
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return seen;
                }
            }
        }
        panic!("no log line with {needle:?} while serving; got {seen:?}");
    };
    let client = reqwest::Client::new();
    for path in ["/wp-json/", "/wp-json/wp/v2/posts", "/wp-json/wp/v2/types"] {
        let resp = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status().as_u16(), 200, "{path}");
    }
    let seen = wait_for("path=/wp-json/wp/v2/types");
    let order: Vec<&str> = seen
        .iter()
        .filter(|l| l.contains(" request "))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("path=")))
        .collect();
    assert_eq!(
        order,
        [
            "path=/wp-json",
            "path=/wp-json/wp/v2/posts",
            "path=/wp-json/wp/v2/types"
        ],
        "{seen:?}"
    );
    // A failed login is a warning, written at once (with what was waiting before it).
    let resp = client
        .get(format!("{base}/wp-json/wp/v2/users/me"))
        .basic_auth("nobody", Some("abcd efgh ijkl mnop qrst uvwx"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 401);
    wait_for("authentication failed");
    // The last request's line, still waiting for its batch, is written when the server stops.
    let resp = client
        .get(format!("{base}/wp-json/wp/v2/statuses"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert!(child.wait().expect("wait").success());
    reader.join().expect("reader");
    let rest: Vec<String> = lines.try_iter().collect();
    let all = rest.join("\n");
    let statuses = all.find("path=/wp-json/wp/v2/statuses");
    let stopped = all.find("server stopped");
    assert!(
        matches!((statuses, stopped), (Some(a), Some(b)) if a < b),
        "{all}"
    );
}
