//! Uploaded files: WordPress's upload handling (`wp_handle_upload()` and
//! `wp_check_filetype_and_ext()` in `wp-includes/functions.php` / `wp-admin/includes/file.php`),
//! file names (`sanitize_file_name()`, `wp_unique_filename()`), the `YYYY/MM` layout of
//! `wp_upload_dir()`, and image sub-sizes (`wp_create_image_subsizes()`).
//!
//! Files are streamed to a temporary file in the media store's scratch dir (never held in
//! memory), checked by content, then placed at `YYYY/MM/<unique sanitized name>` in the
//! store (`crate::media_store`: the uploads dir or a bucket).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;

/// `get_allowed_mime_types()`: WordPress's default list (`wp_get_mime_types()`) without
/// `swf` and `exe` (removed by WordPress itself) and without `htm|html` and `js`, which
/// WordPress allows to users with `unfiltered_html`: ferropress serves uploads from the
/// site's own origin, so it never accepts them (docs/compat.md#upload-types).
pub const ALLOWED_MIME_TYPES: &[(&str, &str)] = &[
    ("jpg|jpeg|jpe", "image/jpeg"),
    ("gif", "image/gif"),
    ("png", "image/png"),
    ("bmp", "image/bmp"),
    ("tiff|tif", "image/tiff"),
    ("webp", "image/webp"),
    ("ico", "image/x-icon"),
    ("heic", "image/heic"),
    ("asf|asx", "video/x-ms-asf"),
    ("wmv", "video/x-ms-wmv"),
    ("wmx", "video/x-ms-wmx"),
    ("wm", "video/x-ms-wm"),
    ("avi", "video/avi"),
    ("divx", "video/divx"),
    ("flv", "video/x-flv"),
    ("mov|qt", "video/quicktime"),
    ("mpeg|mpg|mpe", "video/mpeg"),
    ("mp4|m4v", "video/mp4"),
    ("ogv", "video/ogg"),
    ("webm", "video/webm"),
    ("mkv", "video/x-matroska"),
    ("3gp|3gpp", "video/3gpp"),
    ("3g2|3gp2", "video/3gpp2"),
    ("txt|asc|c|cc|h|srt", "text/plain"),
    ("csv", "text/csv"),
    ("tsv", "text/tab-separated-values"),
    ("ics", "text/calendar"),
    ("rtx", "text/richtext"),
    ("css", "text/css"),
    ("vtt", "text/vtt"),
    ("dfxp", "application/ttaf+xml"),
    ("mp3|m4a|m4b", "audio/mpeg"),
    ("aac", "audio/aac"),
    ("ra|ram", "audio/x-realaudio"),
    ("wav", "audio/wav"),
    ("ogg|oga", "audio/ogg"),
    ("flac", "audio/flac"),
    ("mid|midi", "audio/midi"),
    ("wma", "audio/x-ms-wma"),
    ("wax", "audio/x-ms-wax"),
    ("mka", "audio/x-matroska"),
    ("rtf", "application/rtf"),
    ("pdf", "application/pdf"),
    ("class", "application/java"),
    ("tar", "application/x-tar"),
    ("zip", "application/zip"),
    ("gz|gzip", "application/x-gzip"),
    ("rar", "application/rar"),
    ("7z", "application/x-7z-compressed"),
    ("psd", "application/octet-stream"),
    ("xcf", "application/octet-stream"),
    ("doc", "application/msword"),
    ("pot|pps|ppt", "application/vnd.ms-powerpoint"),
    ("wri", "application/vnd.ms-write"),
    ("xla|xls|xlt|xlw", "application/vnd.ms-excel"),
    ("mdb", "application/vnd.ms-access"),
    ("mpp", "application/vnd.ms-project"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("docm", "application/vnd.ms-word.document.macroEnabled.12"),
    (
        "dotx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    ),
    ("dotm", "application/vnd.ms-word.template.macroEnabled.12"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    (
        "xlsb",
        "application/vnd.ms-excel.sheet.binary.macroEnabled.12",
    ),
    (
        "xltx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    ),
    ("xltm", "application/vnd.ms-excel.template.macroEnabled.12"),
    ("xlam", "application/vnd.ms-excel.addin.macroEnabled.12"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    (
        "pptm",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    ),
    (
        "ppsx",
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
    ),
    (
        "ppsm",
        "application/vnd.ms-powerpoint.slideshow.macroEnabled.12",
    ),
    (
        "potx",
        "application/vnd.openxmlformats-officedocument.presentationml.template",
    ),
    (
        "potm",
        "application/vnd.ms-powerpoint.template.macroEnabled.12",
    ),
    (
        "ppam",
        "application/vnd.ms-powerpoint.addin.macroEnabled.12",
    ),
    (
        "sldx",
        "application/vnd.openxmlformats-officedocument.presentationml.slide",
    ),
    (
        "sldm",
        "application/vnd.ms-powerpoint.slide.macroEnabled.12",
    ),
    ("onetoc|onetoc2|onetmp|onepkg", "application/onenote"),
    ("oxps", "application/oxps"),
    ("xps", "application/vnd.ms-xpsdocument"),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("odp", "application/vnd.oasis.opendocument.presentation"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("odg", "application/vnd.oasis.opendocument.graphics"),
    ("odc", "application/vnd.oasis.opendocument.chart"),
    ("odb", "application/vnd.oasis.opendocument.database"),
    ("odf", "application/vnd.oasis.opendocument.formula"),
    ("wp|wpd", "application/wordperfect"),
    ("key", "application/vnd.apple.keynote"),
    ("numbers", "application/vnd.apple.numbers"),
    ("pages", "application/vnd.apple.pages"),
];

/// The message of every refused type.
pub const NOT_ALLOWED_TYPE: &str = "Sorry, you are not allowed to upload this file type.";

/// `wp_check_filetype()`: the allowed MIME type of a file name's extension.
pub fn filetype(filename: &str) -> Option<(&'static str, &'static str)> {
    let (_, ext) = filename.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    ALLOWED_MIME_TYPES
        .iter()
        .find(|(exts, _)| exts.split('|').any(|e| e == ext))
        .map(|(_, mime)| {
            let canonical = ALLOWED_MIME_TYPES
                .iter()
                .flat_map(|(exts, _)| exts.split('|'))
                .find(|e| *e == ext)
                .unwrap_or("");
            (canonical, *mime)
        })
}

/// The full MIME types of the allowed list whose top-level type is `media_type` (`image`,
/// `video`, `text`, `application`, `audio`): `get_media_types()` for the `media_type` filter.
pub fn mime_types_of(media_type: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for (_, mime) in ALLOWED_MIME_TYPES {
        if mime.split('/').next() == Some(media_type) && !out.iter().any(|m| m == mime) {
            out.push((*mime).to_owned());
        }
    }
    out
}

/// `wp_get_image_mime()`: an image's type from its first bytes (`exif_imagetype`).
pub fn image_mime(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.starts_with(b"BM") && head.len() > 14 {
        Some("image/bmp")
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        Some("image/tiff")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if head.starts_with(&[0, 0, 1, 0]) && head.len() > 6 {
        Some("image/x-icon")
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        match &head[8..12] {
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" => Some("image/heic"),
            b"avif" | b"avis" => Some("image/avif"),
            _ => None,
        }
    } else {
        None
    }
}

/// What `finfo` would call a non-image file, as far as `wp_check_filetype_and_ext()` needs
/// it: specific types for the formats that matter, `text/plain` for plain text, and
/// `application/octet-stream` for anything else.
pub fn content_mime(head: &[u8]) -> &'static str {
    if let Some(m) = image_mime(head) {
        return m;
    }
    let starts = |p: &[u8]| head.starts_with(p);
    if starts(b"%PDF-") {
        return "application/pdf";
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return "application/zip";
    }
    if starts(&[0x1F, 0x8B]) {
        return "application/gzip";
    }
    if starts(b"7z\xBC\xAF\x27\x1C") {
        return "application/x-7z-compressed";
    }
    if starts(b"Rar!\x1A\x07") {
        return "application/x-rar";
    }
    if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return "application/CDFV2";
    }
    if starts(b"{\\rtf") {
        return "text/rtf";
    }
    if starts(b"OggS") {
        return "audio/ogg";
    }
    if starts(b"fLaC") {
        return "audio/flac";
    }
    if starts(b"ID3") || (head.len() > 1 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        return "audio/mpeg";
    }
    if starts(b"MThd") {
        return "audio/midi";
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" {
        return match &head[8..12] {
            b"WAVE" => "audio/x-wav",
            b"AVI " => "video/x-msvideo",
            _ => "application/octet-stream",
        };
    }
    if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return "video/webm";
    }
    if head.len() >= 8 && &head[4..8] == b"ftyp" {
        return "video/mp4";
    }
    if head.len() >= 8 && (&head[4..8] == b"moov" || &head[4..8] == b"mdat") {
        return "video/quicktime";
    }
    if starts(b"FLV") {
        return "video/x-flv";
    }
    if starts(&[0x00, 0x00, 0x01, 0xBA]) || starts(&[0x00, 0x00, 0x01, 0xB3]) {
        return "video/mpeg";
    }
    if starts(&[0x30, 0x26, 0xB2, 0x75]) {
        return "video/x-ms-asf";
    }
    if starts(b"\x7FELF") || starts(b"MZ") || starts(&[0xCA, 0xFE, 0xBA, 0xBE]) {
        return "application/x-executable";
    }
    if head.contains(&0) {
        return "application/octet-stream";
    }
    // Text: finfo names markup and scripts, which no text extension may carry.
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if trimmed.contains("<?php") || trimmed.starts_with("#!") {
        return "text/x-php";
    }
    if trimmed.starts_with("<svg") || (trimmed.starts_with("<?xml") && trimmed.contains("<svg")) {
        return "image/svg+xml";
    }
    if trimmed.starts_with("<!doctype html")
        || trimmed.starts_with("<html")
        || trimmed.starts_with("<head")
        || trimmed.starts_with("<body")
        || trimmed.starts_with("<script")
        || trimmed.contains("<script")
    {
        return "text/html";
    }
    if trimmed.starts_with("<?xml") {
        return "text/xml";
    }
    "text/plain"
}

/// The result of `wp_check_filetype_and_ext()`: the stored extension and type, and the
/// corrected file name when the content showed another image type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedType {
    pub mime: &'static str,
    pub proper_filename: Option<String>,
}

/// `wp_check_filetype_and_ext()`: the extension must be allowed; an image's real type comes
/// from its content (a PNG named `.jpg` is stored as `.png`), and other files must not
/// contradict their extension. `None`: "Sorry, you are not allowed to upload this file type."
pub fn check_filetype_and_ext(head: &[u8], filename: &str) -> Option<CheckedType> {
    let (_, ty) = filetype(filename)?;
    if ty.starts_with("image/") {
        let real = image_mime(head)?;
        if real == ty {
            return Some(CheckedType {
                mime: ty,
                proper_filename: None,
            });
        }
        // `getimagesize_mimes_to_exts`.
        let ext = match real {
            "image/jpeg" => "jpg",
            "image/png" => "png",
            "image/gif" => "gif",
            "image/bmp" => "bmp",
            "image/tiff" => "tif",
            "image/webp" => "webp",
            "image/x-icon" => "ico",
            "image/heic" => "heic",
            _ => return None,
        };
        let stem = filename.rsplit_once('.').map_or(filename, |(s, _)| s);
        let renamed = format!("{stem}.{ext}");
        let (_, new_ty) = filetype(&renamed)?;
        return Some(CheckedType {
            mime: new_ty,
            proper_filename: Some(renamed),
        });
    }
    let real = content_mime(head);
    let top = |m: &str| m.split('/').next().unwrap_or("").to_owned();
    let ok = real == ty
        || match real {
            "application/octet-stream" | "application/CDFV2" | "application/zip" => {
                matches!(top(ty).as_str(), "application" | "video" | "audio")
            }
            r if r.starts_with("video/") || r.starts_with("audio/") => top(r) == top(ty),
            "text/plain" => matches!(
                ty,
                "text/plain"
                    | "text/csv"
                    | "text/richtext"
                    | "text/tab-separated-values"
                    | "text/vtt"
                    | "text/calendar"
                    | "text/css"
                    | "application/ttaf+xml"
            ),
            "text/rtf" => matches!(ty, "application/rtf" | "text/plain"),
            "application/gzip" => ty == "application/x-gzip",
            "application/x-rar" => ty == "application/rar",
            "text/xml" => ty == "application/ttaf+xml",
            _ => false,
        };
    ok.then_some(CheckedType {
        mime: ty,
        proper_filename: None,
    })
}

/// `sanitize_file_name()`: accents removed (`remove_accents()`, so `ünïcode.png` is stored as
/// `unicode.png`), characters that mean something to shells, URLs or paths removed (so no
/// `/`, `\\` or `..` survives), spaces, tabs, newlines and no-break spaces become one `-`,
/// runs of `.` one `.`, leading or trailing `.`, `-`, `_` are trimmed, and an intermediate
/// extension that is not an allowed one gets a `_` (`x.phtml.txt` → `x.phtml_.txt`).
pub fn sanitize_file_name(name: &str) -> String {
    const SPECIAL: &[char] = &[
        '?', '[', ']', '/', '\\', '=', '<', '>', ':', ';', ',', '\'', '"', '&', '$', '#', '*', '(',
        ')', '|', '~', '`', '!', '{', '}', '%', '+', '’', '«', '»', '”', '“', '\0',
    ];
    let name = crate::formatting::remove_accents(name).replace('\u{a0}', " ");
    // WordPress then replaces `%20` and `+` with `-`, but both `%` and `+` are special
    // characters, already removed: `a+b.png` is `ab.png`, `a %20 b.png` is `a-20-b.png`.
    let cleaned: String = name
        .chars()
        .filter(|c| !SPECIAL.contains(c) && (!c.is_control() || matches!(c, '\r' | '\n' | '\t')))
        .collect();
    let mut out = String::with_capacity(cleaned.len());
    let mut prev = None;
    for c in cleaned.chars() {
        let c = if matches!(c, '\r' | '\n' | '\t' | ' ' | '-') {
            '-'
        } else {
            c
        };
        if !((c == '-' || c == '.') && prev == Some(c)) {
            out.push(c);
        }
        prev = Some(c);
    }
    let out = out.trim_matches(|c| c == '.' || c == '-' || c == '_');
    if out.is_empty() {
        return "unnamed-file".into();
    }
    if !out.contains('.') && filetype(&format!("x.{out}")).is_some_and(|(ext, _)| ext == out) {
        return format!("unnamed-file.{out}");
    }
    let mut parts: Vec<&str> = out.split('.').collect();
    if parts.len() <= 2 {
        return out.to_owned();
    }
    let extension = parts.pop().unwrap_or_default();
    let mut name = parts.remove(0).to_owned();
    for part in parts {
        name.push('.');
        name.push_str(part);
        let alpha = part.trim_end_matches(|c: char| c.is_ascii_digit());
        let looks_like_extension = (2..=5).contains(&alpha.len())
            && alpha.bytes().all(|b| b.is_ascii_alphabetic())
            && part.len() - alpha.len() <= 1;
        if looks_like_extension && filetype(&format!("x.{part}")).is_none() {
            name.push('_');
        }
    }
    name.push('.');
    name.push_str(extension);
    name
}

/// Does `stem` look like a generated file name (`-150x150`, `-scaled`, `-rotated`)? Such
/// names always get a number so that they cannot collide with sub-sizes.
fn looks_generated(stem: &str) -> bool {
    if stem.ends_with("-scaled") || stem.ends_with("-rotated") {
        return true;
    }
    let Some((_, dims)) = stem.rsplit_once('-') else {
        return false;
    };
    let Some((w, h)) = dims.split_once('x') else {
        return false;
    };
    !w.is_empty()
        && !h.is_empty()
        && w.bytes().all(|b| b.is_ascii_digit())
        && h.bytes().all(|b| b.is_ascii_digit())
}

/// `wp_unique_filename()`'s candidates, in order: `name.ext`, `name-1.ext`, `name-2.ext`, …
/// (a name that looks generated starts at `-1`); the extension is lower-cased. The store
/// takes the first one it can create without overwriting anything.
pub fn unique_names(filename: &str) -> impl Iterator<Item = String> + use<> {
    let (stem, ext) = match filename.rsplit_once('.') {
        Some((s, e)) => (s.to_owned(), format!(".{}", e.to_ascii_lowercase())),
        None => (filename.to_owned(), String::new()),
    };
    let first = u32::from(looks_generated(&stem));
    (first..).map(move |n| {
        if n == 0 {
            format!("{stem}{ext}")
        } else {
            format!("{stem}-{n}{ext}")
        }
    })
}

/// Why a streamed upload stopped.
#[derive(Debug)]
pub enum StreamError {
    TooLarge,
    Io(std::io::Error),
    Body(String),
}

/// A file being received: a temporary file in the store's scratch dir, removed when dropped
/// (a local store has moved it into place by then).
pub struct TempUpload {
    pub path: PathBuf,
    pub size: u64,
    /// The first bytes, for content checks.
    pub head: Vec<u8>,
    /// MD5 of the whole body, lower-case hex, as PHP's `md5_file()` (for `Content-MD5`).
    pub md5: String,
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl TempUpload {
    /// Takes charge of a temporary file written elsewhere (an edited image).
    pub fn adopt(path: PathBuf) -> Self {
        Self {
            path,
            size: 0,
            head: Vec::new(),
            md5: String::new(),
        }
    }
}

const HEAD_LEN: usize = 8192;

/// Streams a body to a temporary file in `dir` (the store's scratch dir), chunk by chunk,
/// failing once more than `limit` bytes arrived. Memory use does not depend on the file's size.
pub async fn stream_to_temp<S, E>(
    dir: &Path,
    mut stream: S,
    limit: u64,
) -> Result<TempUpload, StreamError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(StreamError::Io)?;
    let path = dir.join(format!("{}.part", uuid::Uuid::new_v4()));
    let mut upload = TempUpload {
        path,
        size: 0,
        head: Vec::new(),
        md5: String::new(),
    };
    let mut md5 = <md5::Md5 as md5::Digest>::new();
    let file = tokio::fs::File::create(&upload.path)
        .await
        .map_err(StreamError::Io)?;
    let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| StreamError::Body(e.to_string()))?;
        upload.size += chunk.len() as u64;
        if upload.size > limit {
            return Err(StreamError::TooLarge);
        }
        if upload.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - upload.head.len()).min(chunk.len());
            upload.head.extend_from_slice(&chunk[..take]);
        }
        md5::Digest::update(&mut md5, &chunk);
        file.write_all(&chunk).await.map_err(StreamError::Io)?;
    }
    file.flush().await.map_err(StreamError::Io)?;
    upload.md5 = md5::Digest::finalize(md5)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(upload)
}

/// A registered image size (`add_image_size()`): WordPress's defaults, in the order
/// `wp_create_image_subsizes()` makes them (medium, large, thumbnail, medium_large first).
pub struct ImageSize {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    pub crop: bool,
}

pub const IMAGE_SIZES: &[ImageSize] = &[
    ImageSize {
        name: "medium",
        width: 300,
        height: 300,
        crop: false,
    },
    ImageSize {
        name: "large",
        width: 1024,
        height: 1024,
        crop: false,
    },
    ImageSize {
        name: "thumbnail",
        width: 150,
        height: 150,
        crop: true,
    },
    ImageSize {
        name: "medium_large",
        width: 768,
        height: 0,
        crop: false,
    },
    ImageSize {
        name: "1536x1536",
        width: 1536,
        height: 1536,
        crop: false,
    },
    ImageSize {
        name: "2048x2048",
        width: 2048,
        height: 2048,
        crop: false,
    },
];

/// `image_resize_dimensions()`: the size of the resized image, or `None` when it would not
/// be smaller than the original.
pub fn resize_dimensions(ow: u32, oh: u32, size: &ImageSize) -> Option<(u32, u32)> {
    if ow == 0 || oh == 0 {
        return None;
    }
    let (nw, nh) = if size.crop {
        (size.width.min(ow), size.height.min(oh))
    } else {
        // wp_constrain_dimensions(): the smaller ratio wins; 0 means no limit.
        let rw = if size.width > 0 && ow > size.width {
            f64::from(size.width) / f64::from(ow)
        } else {
            1.0
        };
        let rh = if size.height > 0 && oh > size.height {
            f64::from(size.height) / f64::from(oh)
        } else {
            1.0
        };
        let r = rw.min(rh);
        let w = ((f64::from(ow) * r).round() as u32).max(1);
        let h = ((f64::from(oh) * r).round() as u32).max(1);
        (w, h)
    };
    if nw >= ow && nh >= oh {
        return None;
    }
    Some((nw, nh))
}

/// Default `--max-image-pixels`: 25 MP (a 6000×4000 camera photo fits). Larger images are
/// kept without sub-sizes, as WordPress keeps an upload its image editor cannot load
/// (`wp_create_image_subsizes()` returns the metadata it has when `wp_get_image_editor()`
/// fails); their dimensions are still read from the header.
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 25_000_000;
/// The decoded image may hold 4 bytes (8-bit RGBA) per pixel of the budget: an image with
/// 16-bit channels gets half the pixels.
const DECODED_BYTES_PER_PIXEL: u64 = 4;
/// Reading dimensions parses headers only; nothing near this is needed for it.
const HEADER_ALLOC: u64 = 16 << 20;

/// The decoder limits for an image that is within `budget` pixels: no allocation past the
/// decoded size the budget allows, no side longer than the budget.
fn decode_limits(budget: u64) -> image::Limits {
    let mut limits = image::Limits::default();
    let side = u32::try_from(budget).unwrap_or(u32::MAX);
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    limits.max_alloc = Some(budget.saturating_mul(DECODED_BYTES_PER_PIXEL));
    limits
}

/// Decodes the image at `path` if its header says it fits `budget` (pixels, and decoded
/// bytes); `None` otherwise, before any pixel is decoded.
fn decode_within(
    path: &Path,
    format: image::ImageFormat,
    budget: u64,
) -> Option<image::DynamicImage> {
    let mut reader = image::ImageReader::open(path).ok()?;
    reader.set_format(format);
    let limits = decode_limits(budget);
    let max_bytes = limits.max_alloc.unwrap_or(0);
    reader.limits(limits);
    let decoder = reader.into_decoder().ok()?;
    let (w, h) = image::ImageDecoder::dimensions(&decoder);
    if u64::from(w) * u64::from(h) > budget
        || image::ImageDecoder::total_bytes(&decoder) > max_bytes
    {
        return None;
    }
    image::DynamicImage::from_decoder(decoder).ok()
}

fn image_format(mime: &str) -> Option<image::ImageFormat> {
    match mime {
        "image/jpeg" => Some(image::ImageFormat::Jpeg),
        "image/png" => Some(image::ImageFormat::Png),
        "image/gif" => Some(image::ImageFormat::Gif),
        "image/webp" => Some(image::ImageFormat::WebP),
        _ => None,
    }
}

/// Whether the image editor can read (and resize) this type.
pub fn is_editable_image(mime: &str) -> bool {
    image_format(mime).is_some()
}

/// `wp_generate_attachment_metadata()` for a stored file (blocking: run it off the async
/// threads). `path` is a local copy of the file whose store path is `file`
/// (`YYYY/MM/name.png`); sub-sizes are written to `out_dir` (the store puts them beside
/// `file`). An image over `budget` pixels (`--max-image-pixels`) gets no sub-sizes.
pub fn generate_metadata(
    path: &Path,
    file: &str,
    mime: &str,
    budget: u64,
    out_dir: &Path,
) -> Value {
    let budget = budget.max(1);
    let filesize = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if mime.starts_with("audio/") {
        // `wp_read_audio_metadata()`.
        return crate::audio_metadata::read_audio_metadata(path, file);
    }
    let Some(format) = image_format(mime) else {
        return json!({ "filesize": filesize });
    };
    let dims = image::ImageReader::open(path)
        .map(|mut r| {
            r.set_format(format);
            let mut limits = image::Limits::default();
            limits.max_alloc = Some(HEADER_ALLOC);
            r.limits(limits);
            r
        })
        .ok()
        .and_then(|r| r.into_dimensions().ok());
    let Some((w, h)) = dims else {
        return json!({ "filesize": filesize });
    };
    let mut sizes = Map::new();
    if u64::from(w) * u64::from(h) > budget {
        tracing::info!(
            file,
            width = w,
            height = h,
            budget,
            "image over --max-image-pixels: no sub-sizes"
        );
    } else {
        let decoded = decode_within(path, format, budget);
        if let Some(img) = decoded {
            let name = Path::new(file)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("");
            let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
            for size in IMAGE_SIZES {
                let Some((nw, nh)) = resize_dimensions(w, h, size) else {
                    continue;
                };
                let resized = if size.crop {
                    img.resize_to_fill(nw, nh, image::imageops::FilterType::Lanczos3)
                } else {
                    img.resize_exact(nw, nh, image::imageops::FilterType::Lanczos3)
                };
                let sub_name = format!("{stem}-{nw}x{nh}.{ext}");
                let sub_path = out_dir.join(&sub_name);
                let saved = match format {
                    image::ImageFormat::Jpeg => save_jpeg(&resized, &sub_path),
                    _ => resized.save_with_format(&sub_path, format).is_ok(),
                };
                if !saved {
                    tracing::warn!(file = %sub_name, "could not write an image sub-size");
                    continue;
                }
                let sub_size = std::fs::metadata(&sub_path).map(|m| m.len()).unwrap_or(0);
                sizes.insert(
                    size.name.into(),
                    json!({ "file": sub_name, "width": nw, "height": nh,
                            "mime-type": mime, "filesize": sub_size }),
                );
            }
        }
    }
    json!({
        "width": w,
        "height": h,
        "file": file,
        "filesize": filesize,
        "sizes": sizes,
        "image_meta": {
            "aperture": "0", "credit": "", "camera": "", "caption": "",
            "created_timestamp": "0", "copyright": "", "focal_length": "0", "iso": "0",
            "shutter_speed": "0", "title": "", "orientation": "0", "keywords": []
        }
    })
}

/// One edit of `WP_REST_Attachments_Controller::edit_media_item()`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ImageEdit {
    /// Clockwise, in degrees.
    Rotate(f64),
    /// Percentages of the current size: left, top, width, height.
    Crop(f64, f64, f64, f64),
}

/// Why an edit failed, mapped to WordPress's codes by the controller.
#[derive(Debug, PartialEq, Eq)]
pub enum EditError {
    /// Not decodable within the pixel budget (`wp_get_image_editor()` failing).
    Load,
    /// An angle that is not a finite number.
    Rotation,
    /// A crop to nothing, or starting outside the image.
    Crop,
    Save,
}

/// Decodes the image at `path` (a local copy, within `budget` pixels), applies `edits` in
/// order as WordPress's image editor does, and writes the result to a temporary file in
/// `temp_dir` (blocking: run it on the CPU pool). Returns the temporary file's path.
pub fn edit_image(
    path: &Path,
    mime: &str,
    budget: u64,
    edits: &[ImageEdit],
    temp_dir: &Path,
) -> Result<PathBuf, EditError> {
    let format = image_format(mime).ok_or(EditError::Load)?;
    let mut img = decode_within(path, format, budget.max(1)).ok_or(EditError::Load)?;
    for edit in edits {
        match *edit {
            ImageEdit::Rotate(angle) => {
                // `rotate( 0 - angle )`: counter-clockwise by minus the angle.
                if !angle.is_finite() {
                    return Err(EditError::Rotation);
                }
                img = if angle % 90.0 == 0.0 {
                    match (angle as i64).rem_euclid(360) {
                        90 => img.rotate90(),
                        180 => img.rotate180(),
                        270 => img.rotate270(),
                        _ => img,
                    }
                } else {
                    rotate_any(&img, angle)
                };
            }
            ImageEdit::Crop(left, top, width, height) => {
                let (w, h) = (f64::from(img.width()), f64::from(img.height()));
                let x = (w * left / 100.0).round();
                let y = (h * top / 100.0).round();
                let cw = (w * width / 100.0).round();
                let ch = (h * height / 100.0).round();
                // edit_media_item() compares the size (int) with round()'s float using
                // `!==`, which is always true: it always crops.
                if !(cw >= 1.0 && ch >= 1.0 && x >= 0.0 && y >= 0.0 && x < w && y < h) {
                    return Err(EditError::Crop);
                }
                img = img.crop_imm(x as u32, y as u32, cw as u32, ch as u32);
            }
        }
    }
    std::fs::create_dir_all(temp_dir).map_err(|_| EditError::Save)?;
    let out = temp_dir.join(format!("{}.part", uuid::Uuid::new_v4()));
    let saved = match format {
        image::ImageFormat::Jpeg => save_jpeg(&img, &out),
        _ => img.save_with_format(&out, format).is_ok(),
    };
    if saved {
        Ok(out)
    } else {
        let _ = std::fs::remove_file(&out);
        Err(EditError::Save)
    }
}

/// Clockwise by `angle` degrees onto the rotated image's bounding box, as GD's
/// `imagerotate()` does for WordPress: the box's sides rounded up, the corners transparent
/// white, pixels sampled bilinearly. One pass over the output, which is at most twice the
/// source's pixels (the source is already within the pixel budget).
fn rotate_any(img: &image::DynamicImage, angle: f64) -> image::DynamicImage {
    let src = img.to_rgba8();
    let (w, h) = (f64::from(src.width()), f64::from(src.height()));
    let (sin, cos) = angle.to_radians().sin_cos();
    // The epsilon keeps a side that is whole up to rounding noise from growing by one.
    let side = |a: f64, b: f64| ((a + b) - 1e-9).ceil().max(1.0);
    let out_w = side(w * cos.abs(), h * sin.abs());
    let out_h = side(w * sin.abs(), h * cos.abs());
    let fill = image::Rgba([255, 255, 255, 0]);
    let pixel = |x: i64, y: i64| -> [f64; 4] {
        if x < 0 || y < 0 || x >= i64::from(src.width()) || y >= i64::from(src.height()) {
            return fill.0.map(f64::from);
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        src.get_pixel(x as u32, y as u32).0.map(f64::from)
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let out = image::RgbaImage::from_fn(out_w as u32, out_h as u32, |ox, oy| {
        // The output pixel's centre, back through the rotation into the source.
        let dx = f64::from(ox) + 0.5 - out_w / 2.0;
        let dy = f64::from(oy) + 0.5 - out_h / 2.0;
        let sx = dx * cos + dy * sin + w / 2.0 - 0.5;
        let sy = -dx * sin + dy * cos + h / 2.0 - 0.5;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let (p00, p10) = (pixel(x0, y0), pixel(x0 + 1, y0));
        let (p01, p11) = (pixel(x0, y0 + 1), pixel(x0 + 1, y0 + 1));
        let mut px = [0u8; 4];
        for (c, v) in px.iter_mut().enumerate() {
            let top = p00[c] * (1.0 - fx) + p10[c] * fx;
            let bottom = p01[c] * (1.0 - fx) + p11[c] * fx;
            *v = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
        }
        image::Rgba(px)
    });
    image::DynamicImage::ImageRgba8(out)
}

/// JPEG sub-sizes at WordPress's default quality (82).
fn save_jpeg(img: &image::DynamicImage, path: &Path) -> bool {
    let Ok(file) = std::fs::File::create(path) else {
        return false;
    };
    let mut w = std::io::BufWriter::new(file);
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut w, 82);
    img.to_rgb8().write_with_encoder(enc).is_ok()
}

/// Every file of an attachment, as store paths: its sub-sizes and the original
/// (`wp_delete_attachment_files()`). Sub-size names with a path in them are left out.
pub fn attachment_files(file: &str, metadata: &Value) -> Vec<String> {
    let mut out = vec![];
    let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
    for size in metadata["sizes"].as_object().into_iter().flatten() {
        if let Some(name) = size.1["file"].as_str()
            && !name.contains('/')
            && !name.contains('\\')
            && !name.starts_with('.')
        {
            out.push(if dir.is_empty() {
                name.to_owned()
            } else {
                format!("{dir}/{name}")
            });
        }
    }
    out.push(file.to_owned());
    out
}

/// `uploads_dir/rel` when `rel` is a plain relative path (no `..`, no root), else `None`.
pub fn safe_join(uploads_dir: &Path, rel: &str) -> Option<PathBuf> {
    let rel_path = Path::new(rel);
    rel_path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
        .then(|| uploads_dir.join(rel_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_angle_rotation_fills_the_bounding_box_as_gd() {
        // WordPress 6.1 (GD) turns a 40x30 image into 50x50 at 45°, 46x50 at 60°.
        let img = image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            40,
            30,
            image::Rgba([10, 20, 30, 255]),
        ));
        let r = rotate_any(&img, 45.0);
        assert_eq!((r.width(), r.height()), (50, 50));
        let r = rotate_any(&img, 60.0);
        assert_eq!((r.width(), r.height()), (46, 50));
        let rgba = r.to_rgba8();
        // The centre is the image; a corner is transparent.
        assert_eq!(rgba.get_pixel(23, 25).0, [10, 20, 30, 255]);
        assert_eq!(rgba.get_pixel(0, 0).0[3], 0);
    }

    #[test]
    fn file_names() {
        assert_eq!(sanitize_file_name("my pic.png"), "my-pic.png");
        assert_eq!(sanitize_file_name("../../x.png"), "x.png");
        assert_eq!(
            sanitize_file_name("..\\..\\etc\\passwd.txt"),
            "etcpasswd.txt"
        );
        assert_eq!(sanitize_file_name("a  -  b.pdf"), "a-b.pdf");
        assert_eq!(sanitize_file_name("..."), "unnamed-file");
        // WordPress's own cases (tests/phpunit/tests/formatting/sanitizeFileName.php).
        assert_eq!(sanitize_file_name("test.phtml.txt"), "test.phtml_.txt");
        assert_eq!(
            sanitize_file_name("àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿ"),
            "aaaaaaaeceeeeiiiinoooooouuuuyy"
        );
        assert_eq!(sanitize_file_name("plus+space.jpg"), "plusspace.jpg");
        assert_eq!(
            sanitize_file_name("multi %20 +space.png"),
            "multi-20-space.png"
        );
        assert_eq!(sanitize_file_name("a----t----t----"), "a-t-t");
        assert_eq!(sanitize_file_name("a    \n\n\nt"), "a-t");
        assert_eq!(sanitize_file_name("a%22b.jpg"), "a22b.jpg");
        assert_eq!(sanitize_file_name("_.jpg"), "unnamed-file.jpg");
        assert_eq!(sanitize_file_name("_.no-extension"), "no-extension");
        assert_eq!(sanitize_file_name("demo\u{a0}bar.png"), "demo-bar.png");
        assert_eq!(sanitize_file_name("file.......name.png"), "file.name_.png");
        assert_eq!(
            sanitize_file_name(".....file....name...png......"),
            "file.name_.png"
        );
        assert_eq!(sanitize_file_name("filename...."), "filename");
        assert_eq!(sanitize_file_name("photo.2024.png"), "photo.2024.png");
        assert_eq!(sanitize_file_name("archive.tar.gz"), "archive.tar.gz");
        assert!(looks_generated("photo-150x150"));
        assert!(!looks_generated("photo-2024"));
    }

    #[test]
    fn types_from_content() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let checked = check_filetype_and_ext(png, "x.jpg").expect("corrected");
        assert_eq!(checked.mime, "image/png");
        assert_eq!(checked.proper_filename.as_deref(), Some("x.png"));
        assert!(check_filetype_and_ext(b"hello", "x.png").is_none());
        assert!(check_filetype_and_ext(png, "x.pdf").is_none());
        assert!(check_filetype_and_ext(b"%PDF-1.4", "x.png").is_none());
        assert!(check_filetype_and_ext(b"%PDF-1.4", "x.pdf").is_some());
        assert!(check_filetype_and_ext(b"<?php echo 1;", "x.txt").is_none());
        assert!(check_filetype_and_ext(b"<html></html>", "x.html").is_none());
        assert!(check_filetype_and_ext(b"<svg/>", "x.svg").is_none());
        assert!(check_filetype_and_ext(b"MZ\x90\0", "x.exe").is_none());
        assert!(check_filetype_and_ext(b"hello", "x.txt").is_some());
        assert!(check_filetype_and_ext(b"PK\x03\x04", "x.docx").is_some());
    }

    #[test]
    fn sub_size_dimensions() {
        let thumb = &IMAGE_SIZES[2];
        assert_eq!(resize_dimensions(400, 320, thumb), Some((150, 150)));
        assert_eq!(
            resize_dimensions(400, 320, &IMAGE_SIZES[0]),
            Some((300, 240))
        );
        assert_eq!(resize_dimensions(400, 320, &IMAGE_SIZES[1]), None);
        assert_eq!(resize_dimensions(10, 10, thumb), None);
    }
}
