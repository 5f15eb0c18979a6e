//! Where the log goes: stderr. A server writes its lines in batches: each line is added to
//! a buffer that goes out in one write when it reaches `FLUSH_AT` bytes, when a warning or
//! an error is logged (with everything before it, in order), every `FLUSH_EVERY`, and when
//! the server stops. A write to stderr per request line cost about a quarter of the
//! throughput of a cached read (docs/performance.md); nothing is logged later than
//! `FLUSH_EVERY`, and warnings and errors not at all late. Other commands write each line
//! at once.

use std::cell::Cell;
use std::io::Write as _;
use std::sync::{Mutex, MutexGuard, Once};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// A batch goes out once it holds this many bytes (about 200 request lines).
const FLUSH_AT: usize = 32 * 1024;
/// No line waits longer than this.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static FLUSHER: Once = Once::new();

fn pending() -> MutexGuard<'static, Vec<u8>> {
    // A panic while the lock was held cannot leave half a line: lines are appended whole.
    PENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes the batch out, under its lock, so batches and urgent lines keep their order.
fn write_out(buf: &mut Vec<u8>) {
    if buf.is_empty() {
        return;
    }
    // Nowhere to report a failed write to stderr: the lines are dropped, as `eprintln!`
    // into a closed stderr would drop them.
    let _ = std::io::stderr().lock().write_all(buf);
    buf.clear();
    // A burst (a big import's warnings) must not keep its peak size for good.
    if buf.capacity() > 4 * FLUSH_AT {
        buf.shrink_to(FLUSH_AT);
    }
}

/// Writes out whatever is waiting (at shutdown, and every `FLUSH_EVERY`).
pub fn flush() {
    write_out(&mut pending());
}

/// The log's writer: `batched` for the server (info lines wait for a batch), otherwise
/// every line is written at once.
#[derive(Debug, Clone, Copy)]
pub struct Stderr {
    batched: bool,
}

impl Stderr {
    /// A batched writer starts the thread that flushes it every `FLUSH_EVERY`.
    pub fn new(batched: bool) -> Self {
        if batched {
            FLUSHER.call_once(|| {
                let started = std::thread::Builder::new()
                    .name("ferropress-log".into())
                    .spawn(|| {
                        loop {
                            std::thread::sleep(FLUSH_EVERY);
                            flush();
                        }
                    });
                if started.is_err() {
                    eprintln!("could not start the log writer thread: logging line by line");
                }
            });
        }
        // Without the flushing thread nothing may wait.
        Self {
            batched: batched && FLUSHER.is_completed(),
        }
    }
}

/// One line of the log (tracing-subscriber writes each event in one `write_all`).
#[derive(Debug)]
pub struct Line {
    urgent: bool,
}

impl std::io::Write for Line {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut buf = pending();
        buf.extend_from_slice(data);
        if self.urgent || buf.len() >= FLUSH_AT {
            write_out(&mut buf);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line { urgent: true }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        // `Level`s compare by verbosity: WARN and ERROR are the ones at or below WARN.
        Line {
            urgent: !self.batched || *meta.level() <= Level::WARN,
        }
    }
}

/// The time of a log line as tracing-subscriber's `SystemTime` writes it
/// (`2026-12-07T22:45:02.993066Z`, UTC), with the date and time of the current second
/// made once per second and thread rather than for every line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timer;

/// `YYYY-MM-DDTHH:MM:SS`.
const SECOND_LEN: usize = 19;

thread_local! {
    /// The second last formatted on this thread, and its text.
    static SECOND: Cell<(i64, [u8; SECOND_LEN])> = const { Cell::new((i64::MIN, [0; SECOND_LEN])) };
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix second (UTC); `None` outside what jiff counts (years
/// -9999 to 9999) or years that do not take four digits.
fn second_text(secs: i64) -> Option<[u8; SECOND_LEN]> {
    let t = jiff::Timestamp::from_second(secs)
        .ok()?
        .to_zoned(jiff::tz::TimeZone::UTC);
    let mut out = [0u8; SECOND_LEN];
    let mut cursor = std::io::Cursor::new(&mut out[..]);
    write!(
        cursor,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
    .ok()?;
    (cursor.position() == SECOND_LEN as u64).then_some(out)
}

/// A log line's time for `secs` and `micros` since the Unix epoch.
fn line_time(secs: i64, micros: u32) -> Option<([u8; SECOND_LEN], u32)> {
    let cached = SECOND.with(Cell::get);
    let text = if cached.0 == secs {
        cached.1
    } else {
        let text = second_text(secs)?;
        SECOND.with(|c| c.set((secs, text)));
        text
    };
    Some((text, micros))
}

impl FormatTime for Timer {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let found = since
            .ok()
            .and_then(|d| line_time(i64::try_from(d.as_secs()).ok()?, d.subsec_micros()));
        match found {
            Some((text, micros)) => {
                let second = std::str::from_utf8(&text).map_err(|_| std::fmt::Error)?;
                write!(w, "{second}.{micros:06}Z")
            }
            // Before 1970 or after 9999: the general formatter.
            None => tracing_subscriber::fmt::time::SystemTime.format_time(w),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(secs: i64, micros: u32) -> String {
        let (t, m) = line_time(secs, micros).expect("in range");
        format!("{}.{m:06}Z", std::str::from_utf8(&t).expect("ascii"))
    }

    #[test]
    fn times_read_as_tracing_subscriber_writes_them() {
        assert_eq!(text(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(text(1_796_683_502, 993_066), "2026-12-07T22:45:02.993066Z");
        // The same second again (from the cache), then the next one.
        assert_eq!(text(1_796_683_502, 7), "2026-12-07T22:45:02.000007Z");
        assert_eq!(text(1_796_683_503, 999_999), "2026-12-07T22:45:03.999999Z");
        assert_eq!(text(951_782_400, 1), "2000-02-29T00:00:00.000001Z");
        assert_eq!(text(253_402_128_000, 0), "9999-12-30T00:00:00.000000Z");
        // Past what jiff counts (the general formatter writes those).
        assert!(line_time(253_402_300_800, 0).is_none());
        assert!(line_time(i64::MAX, 0).is_none());
    }
}
