//! Reading a request body with its `<base64>` values decoded straight to temporary files
//! (`wp.uploadFile`, `metaWeblog.newMediaObject`), so that a file costs disk under
//! `--max-upload-bytes`, not memory under `--max-body-bytes`. The rest of the call (the
//! XML around the files) is kept in memory, bounded by `--max-body-bytes`, and parsed by
//! `value::parse_call`, which finds a marker where each file was.
//!
//! One pass over the body: a byte is looked at once, whatever the chunking.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

/// A decoded `<base64>` value on disk; the file is removed when the last reference goes.
#[derive(Debug, PartialEq, Eq)]
pub struct Spooled {
    pub path: PathBuf,
    pub len: u64,
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What the body held: the XML with markers, and the files in marker order.
pub struct Body {
    pub xml: Vec<u8>,
    pub files: Vec<Arc<Spooled>>,
}

#[derive(Debug)]
pub enum SpoolError {
    /// The XML outside the files is over `--max-body-bytes`.
    BodyTooLarge,
    /// The files together decode to more than `--max-upload-bytes`.
    UploadTooLarge,
    Io(std::io::Error),
    Body,
}

/// The text `parse_call` finds inside `<base64>` for file `n`: not base64 (`!` is outside
/// its alphabet), so it can't be confused with data.
pub fn marker(n: usize) -> String {
    format!("!spool:{n}")
}

/// The index in a `<base64>` element's text written by `marker`.
pub fn marker_index(text: &str) -> Option<usize> {
    text.trim().strip_prefix("!spool:")?.parse().ok()
}

const OPEN: &[u8] = b"<base64>";

/// The base64 decoder of one file (PHP's lenient `base64_decode()`: characters outside the
/// alphabet are skipped; `=` ends the data).
struct Decoder {
    file: tokio::io::BufWriter<tokio::fs::File>,
    /// Owns the file from its creation, so that a failed read removes it.
    spooled: Spooled,
    acc: u32,
    bits: u32,
    ended: bool,
    out: Vec<u8>,
    len: u64,
}

impl Decoder {
    async fn new(dir: &Path) -> Result<Self, SpoolError> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(SpoolError::Io)?;
        let spooled = Spooled {
            path: dir.join(format!("{}.xmlrpc", uuid::Uuid::new_v4())),
            len: 0,
        };
        let file = tokio::fs::File::create(&spooled.path)
            .await
            .map_err(SpoolError::Io)?;
        Ok(Self {
            file: tokio::io::BufWriter::with_capacity(256 * 1024, file),
            spooled,
            acc: 0,
            bits: 0,
            ended: false,
            out: Vec::with_capacity(64 * 1024),
            len: 0,
        })
    }

    fn push(&mut self, b: u8) {
        if self.ended {
            return;
        }
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                self.ended = true;
                return;
            }
            _ => return,
        };
        self.acc = (self.acc << 6) | u32::from(v);
        self.bits += 6;
        if self.bits >= 8 {
            self.bits -= 8;
            self.out
                .push(u8::try_from((self.acc >> self.bits) & 0xff).unwrap_or(0));
            self.acc &= (1 << self.bits) - 1;
        }
    }

    async fn flush_out(&mut self) -> Result<(), SpoolError> {
        self.len += self.out.len() as u64;
        self.file
            .write_all(&self.out)
            .await
            .map_err(SpoolError::Io)?;
        self.out.clear();
        Ok(())
    }

    async fn finish(mut self) -> Result<Spooled, SpoolError> {
        self.flush_out().await?;
        self.file.flush().await.map_err(SpoolError::Io)?;
        let mut spooled = self.spooled;
        spooled.len = self.len;
        Ok(spooled)
    }
}

/// A `<base64>` text longer than this goes to a file; a shorter one stays in the XML (so
/// a call of many small values creates no files).
const SPOOL_AT: usize = 64 * 1024;
/// Files one call may spool (`wp.uploadFile` has one).
const MAX_FILES: usize = 16;

/// Where the reader is: outside `<base64>`, inside one still held in memory, or inside one
/// being decoded to a file.
enum Inside {
    No,
    Text(Vec<u8>),
    File(Box<Decoder>),
}

/// Reads `body`: XML bytes up to `max_xml`, long `<base64>` contents decoded into files
/// under `dir`, at most `max_upload` decoded bytes in all.
pub async fn read(
    body: axum::body::Body,
    max_xml: usize,
    max_upload: u64,
    dir: &Path,
) -> Result<Body, SpoolError> {
    let mut stream = body.into_data_stream();
    let mut xml = Vec::new();
    let mut files: Vec<Arc<Spooled>> = Vec::new();
    // How much of `<base64>` the last bytes matched.
    let mut matched = 0usize;
    let mut inside = Inside::No;
    let mut decoded_before = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| SpoolError::Body)?;
        for &b in chunk.iter() {
            match &mut inside {
                Inside::No => {
                    xml.push(b);
                    if xml.len() > max_xml {
                        return Err(SpoolError::BodyTooLarge);
                    }
                    matched = if b == OPEN[matched] {
                        matched + 1
                    } else {
                        usize::from(b == OPEN[0])
                    };
                    if matched == OPEN.len() {
                        matched = 0;
                        inside = Inside::Text(Vec::new());
                    }
                    continue;
                }
                Inside::Text(text) if b == b'<' => {
                    xml.extend_from_slice(text);
                    if xml.len() > max_xml {
                        return Err(SpoolError::BodyTooLarge);
                    }
                }
                Inside::Text(text) => {
                    text.push(b);
                    if text.len() > SPOOL_AT {
                        if files.len() >= MAX_FILES {
                            return Err(SpoolError::UploadTooLarge);
                        }
                        let mut d = Decoder::new(dir).await?;
                        for &c in text.iter() {
                            d.push(c);
                        }
                        inside = Inside::File(Box::new(d));
                    }
                    continue;
                }
                Inside::File(_) if b == b'<' => {
                    let Inside::File(d) = std::mem::replace(&mut inside, Inside::No) else {
                        continue;
                    };
                    let spooled = d.finish().await?;
                    decoded_before += spooled.len;
                    if decoded_before > max_upload {
                        return Err(SpoolError::UploadTooLarge);
                    }
                    xml.extend_from_slice(marker(files.len()).as_bytes());
                    files.push(Arc::new(spooled));
                }
                Inside::File(d) => {
                    d.push(b);
                    if d.out.len() >= 64 * 1024 {
                        if decoded_before + d.len + d.out.len() as u64 > max_upload {
                            return Err(SpoolError::UploadTooLarge);
                        }
                        d.flush_out().await?;
                    }
                    continue;
                }
            }
            // The `<` that closed a `<base64>` text.
            inside = Inside::No;
            xml.push(b);
            matched = 1;
        }
        if let Inside::File(d) = &inside
            && decoded_before + d.len + d.out.len() as u64 > max_upload
        {
            return Err(SpoolError::UploadTooLarge);
        }
    }
    // A `<base64>` never closed: the document is cut short; the parser says so.
    match inside {
        Inside::No => {}
        Inside::Text(text) => xml.extend_from_slice(&text),
        Inside::File(d) => {
            let spooled = d.finish().await?;
            if decoded_before + spooled.len > max_upload {
                return Err(SpoolError::UploadTooLarge);
            }
            xml.extend_from_slice(marker(files.len()).as_bytes());
            files.push(Arc::new(spooled));
        }
    }
    if xml.len() > max_xml {
        return Err(SpoolError::BodyTooLarge);
    }
    Ok(Body { xml, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn long_base64_goes_to_files_whatever_the_chunking() {
        use base64::Engine as _;
        let dir = tempfile::tempdir().expect("dir");
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&big);
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect();
        let text = format!(
            "<methodCall><params><param><value><base64>\n{}\n</base64></value></param>\
             <param><value><base64>eA==</base64></value></param></params></methodCall>",
            lines.join("\r\n")
        );
        for size in [1, 3, 7, 1000, 1 << 20] {
            let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = text
                .as_bytes()
                .chunks(size)
                .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
                .collect();
            let body = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
            let got = read(body, 10_000, 200_000, dir.path()).await.expect("read");
            assert_eq!(
                String::from_utf8_lossy(&got.xml),
                "<methodCall><params><param><value><base64>!spool:0</base64></value></param>\
                 <param><value><base64>eA==</base64></value></param></params></methodCall>"
            );
            assert_eq!(got.files.len(), 1);
            assert_eq!(std::fs::read(&got.files[0].path).expect("file"), big);
        }
        let body = axum::body::Body::from(text.clone());
        assert!(matches!(
            read(body, 10_000, 50_000, dir.path()).await,
            Err(SpoolError::UploadTooLarge)
        ));
        let body = axum::body::Body::from(text);
        assert!(matches!(
            read(body, 20, 200_000, dir.path()).await,
            Err(SpoolError::BodyTooLarge)
        ));
        // Nothing is left once the answers are dropped.
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }
}
