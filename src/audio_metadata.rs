//! `wp_read_audio_metadata()` (wp-admin/includes/media.php): what getID3 reports of an
//! uploaded audio file, as WordPress 6.1 keeps it in the attachment's metadata and shows it
//! in `media_details`.
//!
//! getID3's own answers are reproduced for MPEG audio layer III (frames of one bitrate, or a
//! Xing/Info header without a LAME tag), PCM WAV and FLAC, with the ID3v2 (2.2–2.4) and
//! ID3v1 tags WordPress copies (`wp_add_id3_tag_data()`); other files get their size alone
//! (docs/compat.md). Only headers and tags are read, in bounded buffers: a truncated or
//! hostile file gives the size alone, never a large allocation.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::{Map, Value, json};

/// An ID3v2 tag larger than this is skipped (its length still tells where audio starts).
const MAX_TAG_BYTES: u64 = 2 << 20;
/// The MPEG frames looked at: a sync within the first 64 KiB after the tag, then up to
/// 50 frames (at most 1,441 bytes each) to tell a constant bitrate.
const SYNC_SEARCH: usize = 64 << 10;
const FRAME_WINDOW: usize = SYNC_SEARCH + 50 * 1441 + 4;
/// Files smaller than this are not analysed past their tags (getID3's APE tag look-up
/// seeks this far back from the end and fails).
const MIN_ANALYSED: u64 = 128 + 32 + 10;
/// getID3's `mp3_valid_check_frames`.
const VALID_CHECK_FRAMES: usize = 50;

/// `getid3_id3v1::ArrayOfGenres()` 0–191.
const GENRES: [&str; 192] = [
    "Blues",
    "Classic Rock",
    "Country",
    "Dance",
    "Disco",
    "Funk",
    "Grunge",
    "Hip-Hop",
    "Jazz",
    "Metal",
    "New Age",
    "Oldies",
    "Other",
    "Pop",
    "R&B",
    "Rap",
    "Reggae",
    "Rock",
    "Techno",
    "Industrial",
    "Alternative",
    "Ska",
    "Death Metal",
    "Pranks",
    "Soundtrack",
    "Euro-Techno",
    "Ambient",
    "Trip-Hop",
    "Vocal",
    "Jazz+Funk",
    "Fusion",
    "Trance",
    "Classical",
    "Instrumental",
    "Acid",
    "House",
    "Game",
    "Sound Clip",
    "Gospel",
    "Noise",
    "Alt. Rock",
    "Bass",
    "Soul",
    "Punk",
    "Space",
    "Meditative",
    "Instrumental Pop",
    "Instrumental Rock",
    "Ethnic",
    "Gothic",
    "Darkwave",
    "Techno-Industrial",
    "Electronic",
    "Pop-Folk",
    "Eurodance",
    "Dream",
    "Southern Rock",
    "Comedy",
    "Cult",
    "Gangsta Rap",
    "Top 40",
    "Christian Rap",
    "Pop/Funk",
    "Jungle",
    "Native American",
    "Cabaret",
    "New Wave",
    "Psychedelic",
    "Rave",
    "Showtunes",
    "Trailer",
    "Lo-Fi",
    "Tribal",
    "Acid Punk",
    "Acid Jazz",
    "Polka",
    "Retro",
    "Musical",
    "Rock & Roll",
    "Hard Rock",
    "Folk",
    "Folk/Rock",
    "National Folk",
    "Swing",
    "Fast-Fusion",
    "Bebob",
    "Latin",
    "Revival",
    "Celtic",
    "Bluegrass",
    "Avantgarde",
    "Gothic Rock",
    "Progressive Rock",
    "Psychedelic Rock",
    "Symphonic Rock",
    "Slow Rock",
    "Big Band",
    "Chorus",
    "Easy Listening",
    "Acoustic",
    "Humour",
    "Speech",
    "Chanson",
    "Opera",
    "Chamber Music",
    "Sonata",
    "Symphony",
    "Booty Bass",
    "Primus",
    "Porn Groove",
    "Satire",
    "Slow Jam",
    "Club",
    "Tango",
    "Samba",
    "Folklore",
    "Ballad",
    "Power Ballad",
    "Rhythmic Soul",
    "Freestyle",
    "Duet",
    "Punk Rock",
    "Drum Solo",
    "A Cappella",
    "Euro-House",
    "Dance Hall",
    "Goa",
    "Drum & Bass",
    "Club-House",
    "Hardcore",
    "Terror",
    "Indie",
    "BritPop",
    "Negerpunk",
    "Polsk Punk",
    "Beat",
    "Christian Gangsta Rap",
    "Heavy Metal",
    "Black Metal",
    "Crossover",
    "Contemporary Christian",
    "Christian Rock",
    "Merengue",
    "Salsa",
    "Thrash Metal",
    "Anime",
    "JPop",
    "Synthpop",
    "Abstract",
    "Art Rock",
    "Baroque",
    "Bhangra",
    "Big Beat",
    "Breakbeat",
    "Chillout",
    "Downtempo",
    "Dub",
    "EBM",
    "Eclectic",
    "Electro",
    "Electroclash",
    "Emo",
    "Experimental",
    "Garage",
    "Global",
    "IDM",
    "Illbient",
    "Industro-Goth",
    "Jam Band",
    "Krautrock",
    "Leftfield",
    "Lounge",
    "Math Rock",
    "New Romantic",
    "Nu-Breakz",
    "Post-Punk",
    "Post-Rock",
    "Psytrance",
    "Shoegaze",
    "Space Rock",
    "Trop Rock",
    "World Music",
    "Neoclassical",
    "Audiobook",
    "Audio Theatre",
    "Neue Deutsche Welle",
    "Podcast",
    "Indie-Rock",
    "G-Funk",
    "Dubstep",
    "Garage Rock",
    "Psybient",
];

/// getID3's `FrameNameShortLookup()` for the text frames and comments
/// (ID3v2.2 three-letter ids and 2.3/2.4 four-letter ones).
const FRAME_NAMES: &[(&str, &str)] = &[
    ("COM", "comment"),
    ("COMM", "comment"),
    ("TAL", "album"),
    ("TALB", "album"),
    ("TBP", "bpm"),
    ("TBPM", "bpm"),
    ("TCM", "composer"),
    ("TCMP", "part_of_a_compilation"),
    ("TCO", "genre"),
    ("TCOM", "composer"),
    ("TCON", "genre"),
    ("TCOP", "copyright_message"),
    ("TCP", "part_of_a_compilation"),
    ("TCR", "copyright_message"),
    ("TDA", "date"),
    ("TDAT", "date"),
    ("TDEN", "encoding_time"),
    ("TDLY", "playlist_delay"),
    ("TDOR", "original_release_time"),
    ("TDRC", "recording_time"),
    ("TDRL", "release_time"),
    ("TDTG", "tagging_time"),
    ("TDY", "playlist_delay"),
    ("TEN", "encoded_by"),
    ("TENC", "encoded_by"),
    ("TEXT", "lyricist"),
    ("TFLT", "file_type"),
    ("TFT", "file_type"),
    ("TIM", "time"),
    ("TIME", "time"),
    ("TIPL", "involved_people_list"),
    ("TIT1", "content_group_description"),
    ("TIT2", "title"),
    ("TIT3", "subtitle"),
    ("TKE", "initial_key"),
    ("TKEY", "initial_key"),
    ("TLA", "language"),
    ("TLAN", "language"),
    ("TLE", "length"),
    ("TLEN", "length"),
    ("TMCL", "musician_credits_list"),
    ("TMED", "media_type"),
    ("TMOO", "mood"),
    ("TMT", "media_type"),
    ("TOA", "original_artist"),
    ("TOAL", "original_album"),
    ("TOF", "original_filename"),
    ("TOFN", "original_filename"),
    ("TOL", "original_lyricist"),
    ("TOLY", "original_lyricist"),
    ("TOPE", "original_artist"),
    ("TOR", "original_year"),
    ("TORY", "original_year"),
    ("TOT", "original_album"),
    ("TOWN", "file_owner"),
    ("TP1", "artist"),
    ("TP2", "band"),
    ("TP3", "conductor"),
    ("TP4", "remixer"),
    ("TPA", "part_of_a_set"),
    ("TPB", "publisher"),
    ("TPE1", "artist"),
    ("TPE2", "band"),
    ("TPE3", "conductor"),
    ("TPE4", "remixer"),
    ("TPOS", "part_of_a_set"),
    ("TPRO", "produced_notice"),
    ("TPUB", "publisher"),
    ("TRC", "isrc"),
    ("TRCK", "track_number"),
    ("TRD", "recording_dates"),
    ("TRDA", "recording_dates"),
    ("TRK", "track_number"),
    ("TRSN", "internet_radio_station_name"),
    ("TRSO", "internet_radio_station_owner"),
    ("TS2", "album_artist_sort_order"),
    ("TSA", "album_sort_order"),
    ("TSC", "composer_sort_order"),
    ("TSI", "size"),
    ("TSIZ", "size"),
    ("TSO2", "album_artist_sort_order"),
    ("TSOA", "album_sort_order"),
    ("TSOC", "composer_sort_order"),
    ("TSOP", "performer_sort_order"),
    ("TSOT", "title_sort_order"),
    ("TSP", "performer_sort_order"),
    ("TSRC", "isrc"),
    ("TSS", "encoder_settings"),
    ("TSSE", "encoder_settings"),
    ("TSST", "set_subtitle"),
    ("TST", "title_sort_order"),
    ("TT1", "content_group_description"),
    ("TT2", "title"),
    ("TT3", "subtitle"),
    ("TXT", "lyricist"),
    ("TXX", "text"),
    ("TXXX", "text"),
    ("TYE", "year"),
    ("TYER", "year"),
    ("TFEA", "featured_artist"),
    ("TSTU", "recording_studio"),
];

/// A PHP number: an integer, or a float when a division was not exact.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// PHP's `/`: an integer when both sides are integers and it divides exactly.
    fn div(self, by: Num) -> Option<Num> {
        match (self, by) {
            (_, Num::Int(0)) => None,
            (Num::Int(a), Num::Int(b)) if a % b == 0 => Some(Num::Int(a / b)),
            (a, b) => {
                let q = a.f() / b.f();
                q.is_finite().then_some(Num::Float(q))
            }
        }
    }

    fn json(self) -> Value {
        match self {
            Num::Int(i) => json!(i),
            Num::Float(f) => json!(f),
        }
    }
}

/// `getid3_lib::PlaytimeString()`.
fn playtime_string(seconds: f64) -> String {
    let sign = if seconds < 0.0 { "-" } else { "" };
    let seconds = seconds.abs().round();
    let h = (seconds / 3600.0).floor() as i64;
    let m = ((seconds - 3600.0 * h as f64) / 60.0).floor() as i64;
    let s = (seconds - 3600.0 * h as f64 - 60.0 * m as f64).round() as i64;
    if h > 0 {
        format!("{sign}{h}:{m:02}:{s:02}")
    } else {
        format!("{sign}{m}:{s:02}")
    }
}

/// What getID3 found of the audio stream: the `audio` array (in its order) and the file's
/// format, type and play time.
struct Stream {
    audio: Vec<(&'static str, Value)>,
    fileformat: &'static str,
    mime_type: &'static str,
    playtime: Option<f64>,
}

/// `wp_read_audio_metadata()` of the file at `path` (named `filename`): the metadata
/// WordPress stores, `filesize` at least.
pub fn read_audio_metadata(path: &Path, filename: &str) -> Value {
    let Ok(mut file) = File::open(path) else {
        return json!({});
    };
    let filesize = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut meta = Map::new();
    let id3v2 = read_id3v2(&mut file, filesize);
    let id3v1 = read_id3v1(&mut file, filesize);
    let avdataoffset = id3v2.as_ref().map_or(0, |t| t.length);
    let avdataend = filesize - if id3v1.is_some() { 128 } else { 0 };
    // getID3 looks for an APE tag 170 bytes before the end: in a smaller file that seek
    // fails and the analysis stops with the tags read so far.
    let stream = if filesize < MIN_ANALYSED || avdataoffset + 10 > filesize {
        None
    } else {
        let mut head = [0u8; 12];
        read_at(&mut file, avdataoffset, &mut head)
            .ok()
            .and_then(|()| match &head {
                [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E'] => {
                    read_wav(&mut file, avdataoffset, avdataend)
                }
                [b'f', b'L', b'a', b'C', ..] => read_flac(&mut file, avdataoffset, avdataend),
                _ => read_mpeg(&mut file, avdataoffset, avdataend, id3v2.as_ref(), filesize),
            })
    };
    let Some(stream) = stream else {
        meta.insert("filesize".into(), json!(filesize));
        if filesize < MIN_ANALYSED {
            add_id3_tag_data(&mut meta, id3v2, id3v1);
            return Value::Object(meta);
        }
        // getID3 takes an unrecognised `.mp3` for MPEG audio by its name alone.
        if id3v2.is_none()
            && !starts_with_id3(&mut file)
            && filename
                .rsplit_once('.')
                .is_some_and(|(_, e)| e.eq_ignore_ascii_case("mp3"))
        {
            meta.insert("mime_type".into(), json!("audio/mpeg"));
        }
        return Value::Object(meta);
    };
    for (k, v) in stream.audio {
        meta.insert(k.into(), v);
    }
    meta.insert("fileformat".into(), json!(stream.fileformat));
    if filesize > 0 {
        meta.insert("filesize".into(), json!(filesize));
    }
    meta.insert("mime_type".into(), json!(stream.mime_type));
    if let Some(p) = stream.playtime.filter(|p| *p != 0.0 && p.is_finite()) {
        meta.insert("length".into(), json!(p.round() as i64));
        meta.insert("length_formatted".into(), json!(playtime_string(p)));
    }
    add_id3_tag_data(&mut meta, id3v2, id3v1);
    Value::Object(meta)
}

/// `wp_add_id3_tag_data()`: the ID3v2 comments, or else the ID3v1 ones, through
/// `wp_kses_post()` (`length` left out).
fn add_id3_tag_data(
    meta: &mut Map<String, Value>,
    id3v2: Option<Id3v2>,
    id3v1: Option<Vec<(String, String)>>,
) {
    let comments = match id3v2.map(|t| t.comments).filter(|c| !c.is_empty()) {
        Some(c) => Some(c),
        None => id3v1.filter(|c| !c.is_empty()),
    };
    for (key, value) in comments.unwrap_or_default() {
        if key != "length" {
            meta.insert(key, json!(crate::kses::filter_post_kses(&value, "")));
        }
    }
}

/// Whether the file starts as an ID3v2 tag (even one cut short).
fn starts_with_id3(file: &mut File) -> bool {
    read_upto(file, 0, 3) == b"ID3"
}

fn read_at(file: &mut File, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(buf)
}

/// Up to `len` bytes from `at` (fewer at the end of the file).
fn read_upto(file: &mut File, at: u64, len: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    if file.seek(SeekFrom::Start(at)).is_ok() {
        let _ = file.take(len as u64).read_to_end(&mut buf);
    }
    buf
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |acc, &x| (acc << 8) | u64::from(x))
}

fn syncsafe(b: &[u8]) -> u64 {
    b.iter().fold(0, |acc, &x| (acc << 7) | u64::from(x & 0x7f))
}

/// An ID3v2 tag: its length (where audio starts) and getID3's `comments`, first value of
/// each name in the order names first appear.
struct Id3v2 {
    length: u64,
    comments: Vec<(String, String)>,
}

fn read_id3v2(file: &mut File, filesize: u64) -> Option<Id3v2> {
    let mut header = [0u8; 10];
    read_at(file, 0, &mut header).ok()?;
    if &header[..3] != b"ID3" {
        return None;
    }
    let major = header[3];
    let flags = header[5];
    let mut length = syncsafe(&header[6..10]) + 10;
    if major == 4 && flags & 0x10 != 0 {
        length += 10;
    }
    let mut tag = Id3v2 {
        length,
        comments: vec![],
    };
    if !(2..=4).contains(&major) || length > filesize || length - 10 > MAX_TAG_BYTES {
        return Some(tag);
    }
    let mut body = read_upto(file, 10, (syncsafe(&header[6..10])) as usize);
    if major <= 3 && flags & 0x80 != 0 {
        body = deunsynchronise(&body);
    }
    let mut pos = 0usize;
    if major >= 3 && flags & 0x40 != 0 {
        // The extended header: its size excludes itself in 2.3, includes it in 2.4.
        let size = body.get(0..4).map_or(0, |b| {
            if major == 3 {
                be(b) as usize + 4
            } else {
                syncsafe(b) as usize
            }
        });
        pos = size;
    }
    let mut raw: Vec<(String, Vec<String>)> = vec![];
    let (id_len, header_len) = if major == 2 { (3, 6) } else { (4, 10) };
    while pos + header_len <= body.len() {
        let id = &body[pos..pos + id_len];
        if id.iter().all(|&c| c == 0) {
            break;
        }
        let size = match major {
            2 => be(&body[pos + 3..pos + 6]),
            3 => be(&body[pos + 4..pos + 8]),
            _ => syncsafe(&body[pos + 4..pos + 8]),
        } as usize;
        let frame_flags = if major >= 3 {
            be(&body[pos + 8..pos + 10])
        } else {
            0
        };
        let start = pos + header_len;
        let valid = id[0].is_ascii_uppercase()
            && id[1..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let Some(data) = body.get(start..start.saturating_add(size)) else {
            break;
        };
        if !valid {
            break;
        }
        pos = start + size;
        // Compressed or encrypted frames are not read (getID3 inflates the first).
        let (compressed, encrypted, unsync) = match major {
            3 => (frame_flags & 0x80 != 0, frame_flags & 0x40 != 0, false),
            4 => (
                frame_flags & 0x08 != 0,
                frame_flags & 0x04 != 0,
                frame_flags & 0x02 != 0,
            ),
            _ => (false, false, false),
        };
        if compressed || encrypted {
            continue;
        }
        let data = if unsync {
            deunsynchronise(data)
        } else {
            data.to_vec()
        };
        let id = String::from_utf8_lossy(id).into_owned();
        let Some((_, name)) = FRAME_NAMES.iter().find(|(f, _)| *f == id) else {
            continue;
        };
        let values = if *name == "comment" {
            comment_frame(&data)
        } else if *name == "text" {
            txxx_frame(&data)
        } else {
            text_frame(&data)
        };
        // A name takes its place with its first value.
        match raw.iter_mut().find(|(n, _)| n == name) {
            Some((_, list)) => list.extend(values),
            None if !values.is_empty() => raw.push(((*name).to_owned(), values)),
            None => {}
        }
    }
    // The genres (`ParseID3v2GenreString()`), track numbers and year derived as getID3
    // does after reading the frames.
    if let Some(i) = raw.iter().position(|(n, _)| n == "genre") {
        let mut genres: Vec<String> = vec![];
        for value in &raw[i].1 {
            for g in parse_genre(value, major) {
                if !genres.contains(&g) {
                    genres.push(g);
                }
            }
        }
        raw[i].1 = genres;
    }
    // `list( $track, $total ) = explode( '/', $value )` for each value with a `/`.
    if let Some(i) = raw.iter().position(|(n, _)| n == "track_number") {
        let mut totals = vec![];
        for value in &mut raw[i].1 {
            if let Some((track, total)) = value.split_once('/') {
                totals.push(total.split('/').next().unwrap_or("").to_owned());
                *value = track.to_owned();
            }
        }
        if !totals.is_empty() {
            raw.push(("totaltracks".into(), totals));
        }
    }
    if !raw.iter().any(|(n, _)| n == "year")
        && let Some((_, v)) = raw.iter().find(|(n, _)| n == "recording_time")
        && let Some(first) = v.first()
    {
        let t = first.trim();
        if t.len() >= 4 && t.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
            let year = t[..4].to_owned();
            raw.push(("year".into(), vec![year]));
        }
    }
    tag.comments = raw
        .into_iter()
        .filter_map(|(n, v)| v.into_iter().next().map(|first| (n, first)))
        .collect();
    Some(tag)
}

/// Undoes ID3v2 unsynchronisation (`FF 00` → `FF`).
fn deunsynchronise(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        out.push(b[i]);
        if b[i] == 0xff && b.get(i + 1) == Some(&0) {
            i += 1;
        }
        i += 1;
    }
    out
}

/// Text in an ID3v2 encoding (0 ISO-8859-1, 1 UTF-16 with BOM, 2 UTF-16BE, 3 UTF-8) as
/// UTF-8.
fn decode_text(enc: u8, b: &[u8]) -> String {
    match enc {
        1 | 2 => {
            let (big, body) = match b {
                [0xfe, 0xff, rest @ ..] => (true, rest),
                [0xff, 0xfe, rest @ ..] => (false, rest),
                _ => (enc == 2, b),
            };
            let units: Vec<u16> = body
                .chunks_exact(2)
                .map(|c| {
                    if big {
                        u16::from_be_bytes([c[0], c[1]])
                    } else {
                        u16::from_le_bytes([c[0], c[1]])
                    }
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        3 => String::from_utf8_lossy(b).into_owned(),
        _ => b.iter().map(|&c| char::from(c)).collect(),
    }
}

/// The width of an encoding's characters (and of its terminator).
fn word(enc: u8) -> usize {
    if enc == 1 || enc == 2 { 2 } else { 1 }
}

/// Splits at terminators (NUL characters of the encoding's width), as getID3 splits text
/// frames into values.
fn split_terminated(enc: u8, b: &[u8]) -> Vec<&[u8]> {
    let w = word(enc);
    let mut parts = vec![];
    let mut start = 0;
    let mut i = 0;
    while i + w <= b.len() {
        if b[i..i + w].iter().all(|&c| c == 0) {
            parts.push(&b[start..i]);
            start = i + w;
        }
        i += w;
    }
    parts.push(&b[start..b.len().min(i.max(start))]);
    parts
}

/// `T???` frames: each non-empty value (PHP's `empty()`: not `""` nor `"0"`).
fn text_frame(data: &[u8]) -> Vec<String> {
    let Some((&enc, body)) = data.split_first() else {
        return vec![];
    };
    let w = word(enc);
    let mut body = body;
    // `RemoveStringTerminator()`: one final terminator.
    if body.len() >= w && body[body.len() - w..].iter().all(|&c| c == 0) {
        body = &body[..body.len() - w];
    }
    split_terminated(enc, body)
        .into_iter()
        .map(|part| decode_text(enc, part))
        .filter(|s| !s.is_empty() && s != "0")
        .collect()
}

/// The position of the terminator ending a description at `from`.
fn terminator_at(enc: u8, data: &[u8], from: usize) -> Option<usize> {
    let w = word(enc);
    let mut i = from;
    while i + w <= data.len() {
        if data[i..i + w].iter().all(|&c| c == 0) {
            return Some(i);
        }
        i += if w == 2 { 1 } else { w };
    }
    None
}

/// The value after a description that starts at `from` (`TXXX`: after the encoding;
/// `COMM`: after the language), its final terminator removed: the raw bytes and the text.
fn after_description(data: &[u8], from: usize) -> Option<(&[u8], String)> {
    let &enc = data.first()?;
    let w = word(enc);
    let mut end = terminator_at(enc, data, from)?;
    // "strpos() fooled because 2nd byte of Unicode chars are often 0x00".
    if data.get(end + w) == Some(&0) {
        end += 1;
    }
    let mut value = &data[(end + w).min(data.len())..];
    if value.len() >= w && value[value.len() - w..].iter().all(|&c| c == 0) {
        value = &value[..value.len() - w];
    }
    Some((value, decode_text(enc, value)))
}

/// PHP's `empty()` of a raw string.
fn raw_empty(b: &[u8]) -> bool {
    b.is_empty() || b == b"0"
}

/// `TXXX`: the value after the description, trimmed.
fn txxx_frame(data: &[u8]) -> Vec<String> {
    match after_description(data, 1) {
        Some((raw, text)) if !raw_empty(raw) => vec![text.trim().to_owned()],
        _ => vec![],
    }
}

/// `COMM`: language, description, then the text.
fn comment_frame(data: &[u8]) -> Vec<String> {
    if data.len() < 5 {
        return vec![];
    }
    match after_description(data, 4) {
        Some((raw, text)) if !raw_empty(raw) => vec![text],
        _ => vec![],
    }
}

/// `getid3_id3v2::ParseID3v2GenreString()`.
fn parse_genre(value: &str, major: u8) -> Vec<String> {
    let mut s = value.to_owned();
    if major == 3 && !s.contains('\0') {
        if s.contains('/') {
            s = s.replace('/', "\0");
            for legit in ["Pop/Funk", "Cut-up/DJ", "RnB/Swing", "Funk / Soul"] {
                let hidden = legit.replace('/', "\0");
                s = replace_ignore_case(&s, &hidden, legit);
            }
        }
        s = s.replace(';', "\0");
    }
    if !s.contains('\0') {
        // `(N)` → `N\0`.
        let mut out = String::with_capacity(s.len());
        let mut rest = s.as_str();
        while let Some(p) = rest.find('(') {
            out.push_str(&rest[..p]);
            let after = &rest[p + 1..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if (1..=3).contains(&digits) && after.as_bytes().get(digits) == Some(&b')') {
                out.push_str(&after[..digits]);
                out.push('\0');
                rest = &after[digits + 1..];
            } else {
                out.push('(');
                rest = after;
            }
        }
        out.push_str(rest);
        s = out;
    }
    let mut genres = vec![];
    for element in s.split('\0') {
        let element = element.trim();
        if element.is_empty() || element == "0" {
            continue;
        }
        if element.len() <= 3 && element.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(name) = genre_name(element.parse().unwrap_or(u32::MAX)) {
                genres.push(name.to_owned());
            }
        } else {
            genres.push(element.replace("((", "("));
        }
    }
    genres
}

fn replace_ignore_case(hay: &str, needle: &str, with: &str) -> String {
    let lower = hay.to_ascii_lowercase();
    let n = needle.to_ascii_lowercase();
    let mut out = String::new();
    let mut last = 0;
    for (p, _) in lower.match_indices(&n) {
        if p < last {
            continue;
        }
        out.push_str(&hay[last..p]);
        out.push_str(with);
        last = p + n.len();
    }
    out.push_str(&hay[last..]);
    out
}

/// `getid3_id3v1::LookupGenreName()` of a number.
fn genre_name(id: u32) -> Option<&'static str> {
    const EXTENDED: [&str; 16] = [
        "Sacred",
        "Northern Europe",
        "Irish & Scottish",
        "Scotland",
        "Ethnic Europe",
        "Enka",
        "Children's Song",
        "Japanese Sky",
        "Japanese Heavy Rock",
        "Japanese Doom Rock",
        "Japanese J-POP",
        "Japanese Seiyu",
        "Japanese Ambient Techno",
        "Japanese Moemoe",
        "Japanese Tokusatsu",
        "Unknown",
    ];
    match id {
        0..=191 => GENRES.get(id as usize).copied(),
        240..=255 => EXTENDED.get((id - 240) as usize).copied(),
        _ => None,
    }
}

/// The ID3v1 tag at the end of the file: getID3's `comments` (empty values kept).
fn read_id3v1(file: &mut File, filesize: u64) -> Option<Vec<(String, String)>> {
    if filesize < 128 {
        return None;
    }
    let mut t = [0u8; 128];
    read_at(file, filesize - 128, &mut t).ok()?;
    if &t[..3] != b"TAG" {
        return None;
    }
    // `cutfield()`: up to the first NUL, trimmed; ISO-8859-1 read as UTF-8.
    let cut = |b: &[u8]| -> String {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        let s: String = b[..end].iter().map(|&c| char::from(c)).collect();
        s.trim_matches([' ', '\t', '\n', '\r', '\0', '\x0b'])
            .to_owned()
    };
    let mut c = vec![
        ("title".to_owned(), cut(&t[3..33])),
        ("artist".to_owned(), cut(&t[33..63])),
        ("album".to_owned(), cut(&t[63..93])),
        ("year".to_owned(), cut(&t[93..97])),
    ];
    let genre_id = t[127];
    let track = t[125] == 0 && t[126] != 0;
    c.push((
        "comment".into(),
        cut(if track { &t[97..125] } else { &t[97..127] }),
    ));
    // `genreid` comes before the track number and stays only when it names no genre; a
    // genre's name goes last.
    let genre = genre_name(u32::from(genre_id));
    if genre.is_none() {
        c.push(("genreid".into(), genre_id.to_string()));
    }
    if track {
        c.push(("track_number".into(), t[126].to_string()));
    }
    match genre {
        Some("Unknown") | None => {}
        Some(name) => c.push(("genre".into(), name.to_owned())),
    }
    Some(c)
}

/// getID3's `riff` module for a PCM `WAVE`: its `fmt ` and `data` chunks.
fn read_wav(file: &mut File, offset: u64, avdataend: u64) -> Option<Stream> {
    let mut pos = offset + 12;
    let mut fmt: Option<Vec<u8>> = None;
    let mut data: Option<(u64, u64)> = None;
    // A bounded number of chunks before `data`.
    for _ in 0..64 {
        let mut h = [0u8; 8];
        if read_at(file, pos, &mut h).is_err() {
            break;
        }
        let size = u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]]));
        match &h[..4] {
            b"fmt " if size <= 64 => {
                let mut b = vec![0u8; size as usize];
                read_at(file, pos + 8, &mut b).ok()?;
                fmt = Some(b);
            }
            b"data" => {
                data = Some((pos + 8, size));
                break;
            }
            _ => {}
        }
        pos = pos + 8 + size + (size & 1);
    }
    let fmt = fmt.filter(|f| f.len() >= 16)?;
    let (start, size) = data?;
    let le16 = |i: usize| i64::from(u16::from_le_bytes([fmt[i], fmt[i + 1]]));
    let le32 = |i: usize| {
        i64::from(u32::from_le_bytes([
            fmt[i],
            fmt[i + 1],
            fmt[i + 2],
            fmt[i + 3],
        ]))
    };
    let (tag, channels, rate, bytes_per_sec, bits) = (le16(0), le16(2), le32(4), le32(8), le16(14));
    if tag != 1 || channels == 0 || rate == 0 || bytes_per_sec == 0 || bits == 0 {
        return None;
    }
    let bitrate = bytes_per_sec * 8;
    let end = (start + size).min(avdataend);
    let playtime = Num::Int((end.saturating_sub(start) * 8) as i64).div(Num::Int(bitrate))?;
    let mut audio: Vec<(&'static str, Value)> = vec![
        ("dataformat", json!("wav")),
        ("bitrate_mode", json!("cbr")),
        ("wformattag", json!(tag)),
        ("codec", json!("Pulse Code Modulation (PCM)")),
        ("channels", json!(channels)),
        ("sample_rate", json!(rate)),
        ("bitrate", json!(bitrate)),
        ("bits_per_sample", json!(bits)),
        ("lossless", json!(true)),
    ];
    push_channelmode(&mut audio, channels);
    let ratio = Num::Int(bitrate).div(Num::Int(channels * rate * bits))?;
    audio.push(("compression_ratio", ratio.json()));
    Some(Stream {
        audio,
        fileformat: "wav",
        mime_type: "audio/wav",
        playtime: Some(playtime.f()),
    })
}

/// `ChannelsBitratePlaytimeCalculations()`: `mono` or `stereo` for one or two channels.
fn push_channelmode(audio: &mut Vec<(&'static str, Value)>, channels: i64) {
    match channels {
        1 => audio.push(("channelmode", json!("mono"))),
        2 => audio.push(("channelmode", json!("stereo"))),
        _ => {}
    }
}

/// getID3's `flac` module: `STREAMINFO` and the vendor of `VORBIS_COMMENT`.
fn read_flac(file: &mut File, offset: u64, avdataend: u64) -> Option<Stream> {
    let mut pos = offset + 4;
    let mut info: Option<(i64, i64, i64, i64)> = None;
    let mut vendor: Option<String> = None;
    for _ in 0..128 {
        let mut h = [0u8; 4];
        read_at(file, pos, &mut h).ok()?;
        let last = h[0] & 0x80 != 0;
        let kind = h[0] & 0x7f;
        let len = be(&h[1..4]);
        if pos + 4 + len > avdataend {
            return None;
        }
        match kind {
            0 if len >= 18 => {
                let mut b = [0u8; 18];
                read_at(file, pos + 4, &mut b).ok()?;
                let rate = (be(&b[10..13]) >> 4) as i64;
                let channels = i64::from(((b[12] >> 1) & 0x07) + 1);
                let bits = i64::from((((b[12] & 1) << 4) | (b[13] >> 4)) + 1);
                let samples = (be(&b[13..18]) & 0x0f_ffff_ffff) as i64;
                info = Some((rate, channels, bits, samples));
            }
            4 => {
                let mut b = [0u8; 4];
                read_at(file, pos + 4, &mut b).ok()?;
                let n = u64::from(u32::from_le_bytes(b));
                if n <= 4096 && n + 4 <= len {
                    let mut v = vec![0u8; n as usize];
                    read_at(file, pos + 8, &mut v).ok()?;
                    vendor = Some(String::from_utf8_lossy(&v).into_owned());
                }
            }
            _ => {}
        }
        pos += 4 + len;
        if last {
            break;
        }
    }
    let (rate, channels, bits, samples) = info.filter(|i| i.0 > 0)?;
    let mut audio: Vec<(&'static str, Value)> = vec![
        ("dataformat", json!("flac")),
        ("bitrate_mode", json!("vbr")),
        ("lossless", json!(true)),
        ("sample_rate", json!(rate)),
        ("channels", json!(channels)),
        ("bits_per_sample", json!(bits)),
    ];
    let playtime = Num::Int(samples).div(Num::Int(rate))?;
    // Measured when STREAMINFO is read: from the start of the stream, its blocks included.
    let bitrate = if playtime.f() > 0.0 {
        let b = Num::Int(((avdataend - offset) * 8) as i64).div(playtime)?;
        audio.push(("bitrate", b.json()));
        Some(b)
    } else {
        None
    };
    if let Some(v) = vendor.filter(|v| !v.is_empty() && v != "0") {
        audio.push(("encoder", json!(v.replace("reference ", ""))));
    }
    push_channelmode(&mut audio, channels);
    if let Some(b) = bitrate.filter(|b| b.f() != 0.0) {
        let ratio = b.div(Num::Int(channels * rate * bits))?;
        audio.push(("compression_ratio", ratio.json()));
    }
    Some(Stream {
        audio,
        fileformat: "flac",
        mime_type: "audio/flac",
        playtime: Some(playtime.f()),
    })
}

/// One MPEG audio frame header (layer III).
#[derive(Clone, Copy, PartialEq)]
struct Frame {
    /// MPEG-2 or 2.5 (half the samples per frame).
    lsf: bool,
    /// MPEG-2.5.
    v25: bool,
    bitrate: i64,
    sample_rate: i64,
    mode: u8,
    length: usize,
}

/// `MPEGaudioHeaderDecode()` + `MPEGaudioHeaderValid()` + `MPEGaudioFrameLength()` for
/// layer III (other layers and free-format streams are not read).
fn frame_at(b: &[u8]) -> Option<Frame> {
    let h = b.get(..4)?;
    if h[0] != 0xff || h[1] & 0xe0 != 0xe0 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 0: 2.5, 2: 2, 3: 1
    let layer = (h[1] >> 1) & 3; // 1: III
    if version == 1 || layer != 1 {
        return None;
    }
    let bitrate_idx = usize::from(h[2] >> 4);
    let rate_idx = usize::from((h[2] >> 2) & 3);
    let padding = usize::from((h[2] >> 1) & 1);
    if bitrate_idx == 0 || bitrate_idx == 15 || rate_idx == 3 || h[3] & 3 == 2 {
        return None;
    }
    const V1: [i64; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const V2: [i64; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let lsf = version != 3;
    let bitrate = if lsf { V2 } else { V1 }[bitrate_idx] * 1000;
    let sample_rate = match version {
        3 => [44100, 48000, 32000][rate_idx],
        2 => [22050, 24000, 16000][rate_idx],
        _ => [11025, 12000, 8000][rate_idx],
    };
    let coefficient = if lsf { 72 } else { 144 };
    let length = (coefficient * bitrate / sample_rate) as usize + padding;
    Some(Frame {
        lsf,
        v25: version == 0,
        bitrate,
        sample_rate,
        mode: h[3] >> 6,
        length,
    })
}

/// `RecursiveFrameScanning()`: up to 50 frames from `next` (an index into `window`, read
/// from `offset`) must be valid (and of `first`'s bitrate when `as_cbr`); the end of the
/// audio, or too little left for another frame, ends the scan. Returns the distinct
/// bitrates seen, `None` when a frame is invalid.
fn scan_frames(
    window: &[u8],
    mut next: usize,
    offset: u64,
    avdataend: u64,
    first: Frame,
    as_cbr: bool,
) -> Option<Vec<i64>> {
    let mut bitrates = vec![];
    for _ in 0..VALID_CHECK_FRAMES {
        if offset + next as u64 + 4 >= avdataend {
            break;
        }
        match window.get(next..).and_then(frame_at) {
            Some(f) if as_cbr && f.bitrate != first.bitrate => return None,
            Some(f) => {
                if !bitrates.contains(&f.bitrate) {
                    bitrates.push(f.bitrate);
                }
                next += f.length;
            }
            None if offset + (next + first.length) as u64 > avdataend => break,
            None => return None,
        }
    }
    Some(bitrates)
}

/// getID3's `mp3` module for layer III: the first frame, then a Xing/Info header in it or
/// 50 more frames of the same bitrate.
fn read_mpeg(
    file: &mut File,
    offset: u64,
    avdataend: u64,
    id3v2: Option<&Id3v2>,
    filesize: u64,
) -> Option<Stream> {
    let window = read_upto(file, offset, FRAME_WINDOW);
    let sync = (0..window.len().min(SYNC_SEARCH)).find(|&i| {
        frame_at(&window[i..]).is_some_and(|f| {
            // A sync away from where audio should start must be followed by another frame.
            i == 0 || frame_at(&window[(i + f.length).min(window.len())..]).is_some()
        })
    })?;
    let first = frame_at(&window[sync..])?;
    let avdataoffset = offset + sync as u64;
    let channels: i64 = if first.mode == 3 { 1 } else { 2 };
    let channelmode = ["stereo", "joint stereo", "dual channel", "mono"][usize::from(first.mode)];
    let frame = &window[sync..];
    // `XingVBRidOffset()`: after the side information.
    let vbr_at = match (first.lsf, first.v25, channels) {
        (false, _, 2) => 36,
        (true, false, 1) => 13,
        _ => 21,
    };
    let xing = frame.get(vbr_at..vbr_at + 4);
    let (bitrate, bitrate_mode, xing_frame_length) = if xing == Some(b"Xing")
        || xing == Some(b"Info")
    {
        // A LAME tag (version, presets, CBR/ABR modes) is not interpreted (docs/compat.md).
        let flags = be(frame.get(vbr_at + 4..vbr_at + 8)?);
        let mut at = vbr_at + 8;
        let frames = if flags & 1 != 0 {
            let v = be(frame.get(at..at + 4)?);
            at += 4;
            v
        } else {
            0
        };
        let bytes = if flags & 2 != 0 {
            be(frame.get(at..at + 4)?)
        } else {
            0
        };
        let scanned = scan_frames(
            &window,
            sync + first.length,
            offset,
            avdataend,
            first,
            false,
        )?;
        if frames == 0 {
            // No frame count: the first frame's bitrate, still `vbr`.
            (Num::Int(first.bitrate), "vbr", 0)
        } else {
            let used = if bytes > 0 {
                bytes
            } else {
                filesize
                    .saturating_sub(id3v2.map_or(0, |t| t.length))
                    .saturating_sub(filesize - avdataend)
            };
            let framelength = used as f64 / frames as f64;
            let per_frame = if first.lsf { 576.0 } else { 1152.0 };
            let bitrate = if bytes > 0 {
                (bytes as f64 / frames as f64) * 8.0 * (first.sample_rate as f64 / per_frame)
            } else {
                framelength * first.sample_rate as f64 * (2.0 / channels as f64) / 144.0
            };
            // `RecursiveFrameScanning()`: the next frames must be valid; when they all have one
            // bitrate within 1 % of the header's, the file is taken as CBR.
            let mode = match scanned.as_slice() {
                [one] if bytes > 0 && ((bitrate - *one as f64).abs() / *one as f64) < 0.01 => "cbr",
                _ => "vbr",
            };
            (Num::Float(bitrate), mode, framelength.floor() as u64)
        }
    } else {
        // `RecursiveFrameScanning()` as CBR: the next frames must all be valid and alike (a
        // stream of several bitrates without a header is not measured: docs/compat.md).
        scan_frames(&window, sync + first.length, offset, avdataend, first, true)?;
        (Num::Int(first.bitrate), "cbr", 0)
    };
    if bitrate.f() <= 0.0 {
        return None;
    }
    let encoder_options = if bitrate_mode == "cbr" {
        format!("CBR{}", (bitrate.f() / 1000.0).round() as i64)
    } else {
        "VBR".to_owned()
    };
    let playtime = (avdataend
        .saturating_sub(avdataoffset)
        .saturating_sub(xing_frame_length)
        * 8) as f64
        / bitrate.f();
    let ratio = match bitrate {
        Num::Int(b) => Num::Int(b).div(Num::Int(channels * first.sample_rate * 16))?,
        Num::Float(b) => Num::Float(b / (channels * first.sample_rate * 16) as f64),
    };
    let audio = vec![
        ("dataformat", json!("mp3")),
        ("channels", json!(channels)),
        ("sample_rate", json!(first.sample_rate)),
        ("bitrate", bitrate.json()),
        ("channelmode", json!(channelmode)),
        ("bitrate_mode", json!(bitrate_mode)),
        ("lossless", json!(false)),
        ("encoder_options", json!(encoder_options)),
        ("compression_ratio", ratio.json()),
    ];
    Some(Stream {
        audio,
        fileformat: "mp3",
        mime_type: "audio/mpeg",
        playtime: Some(playtime),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genres_play_times_and_divisions_as_getid3() {
        assert_eq!(parse_genre("(17)", 3), ["Rock"]);
        assert_eq!(parse_genre("(51)(39)", 3), ["Techno-Industrial", "Noise"]);
        // Duplicates are removed by the caller (`array_unique()`).
        assert_eq!(parse_genre("(13)Pop", 3), ["Pop", "Pop"]);
        assert_eq!(parse_genre("Rock/Pop/Funk", 3), ["Rock", "Pop/Funk"]);
        assert_eq!(parse_genre("a;b", 4), ["a;b"]);
        assert_eq!(parse_genre("((x", 4), ["(x"]);
        assert_eq!(playtime_string(5.21), "0:05");
        assert_eq!(playtime_string(3725.0), "1:02:05");
        assert_eq!(playtime_string(59.6), "1:00");
        assert_eq!(Num::Int(6).div(Num::Int(3)), Some(Num::Int(2)));
        assert_eq!(Num::Int(1).div(Num::Int(4)), Some(Num::Float(0.25)));
        assert_eq!(Num::Int(1).div(Num::Int(0)), None);
    }

    #[test]
    fn id3_text_in_every_encoding() {
        assert_eq!(text_frame(b"\x00Caf\xe9\x00"), ["Café"]);
        assert_eq!(
            text_frame(b"\x01\xff\xfeA\x00\x00\x00\xff\xfeB\x00"),
            ["A", "B"]
        );
        assert_eq!(text_frame(b"\x02\x00A\x00B"), ["AB"]);
        assert_eq!(text_frame(b"\x03\xc3\xa9\x000"), ["é"]);
        assert_eq!(comment_frame(b"\x00engdesc\x00text"), ["text"]);
        assert_eq!(txxx_frame(b"\x00desc\x00 v "), ["v"]);
        assert!(comment_frame(b"\x00en").is_empty());
    }
}
