//! `do_blocks()` of WordPress 6.1 (`blocks.php`, `WP_Block_Parser`) for static blocks: the
//! block delimiters (`<!-- wp:name {attrs} -->`, `<!-- /wp:name -->`, `<!-- wp:name /-->`)
//! are removed and the blocks' HTML is kept; a closer with no open block ends the parsing
//! (the rest is kept as it is), as the parser does. Dynamic blocks and block supports that
//! change markup (layout classes) are not rendered (docs/compat.md).

use super::scan::is_pcre_space;

/// The first `}` at or after a position that the tokenizer's attribute pattern stops at:
/// one followed by `\s+/?-->`. Remembered, as candidates come in ascending order.
struct AttrsEnd<'a> {
    b: &'a [u8],
    cached: Option<Option<usize>>,
}

impl AttrsEnd<'_> {
    fn at_or_after(&mut self, from: usize) -> Option<usize> {
        match self.cached {
            Some(None) => return None,
            Some(Some(p)) if p >= from => return Some(p),
            _ => {}
        }
        let found = (from..self.b.len()).find(|&p| self.b[p] == b'}' && closes(self.b, p + 1).is_some());
        self.cached = Some(found);
        found
    }
}

/// `\s+\/?-->` at `p`: the end of the delimiter.
fn closes(b: &[u8], p: usize) -> Option<usize> {
    let ws = b[p.min(b.len())..].iter().take_while(|c| is_pcre_space(**c)).count();
    if ws == 0 {
        return None;
    }
    let mut q = p + ws;
    if b.get(q) == Some(&b'/') {
        q += 1;
    }
    b[q..].starts_with(b"-->").then_some(q + 3)
}

/// `[a-z][a-z0-9_-]*` at `p`: its end.
fn name_end(b: &[u8], p: usize) -> Option<usize> {
    if !b.get(p).is_some_and(u8::is_ascii_lowercase) {
        return None;
    }
    Some(
        p + 1
            + b[p + 1..]
                .iter()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || **c == b'_' || **c == b'-')
                .count(),
    )
}

enum Token {
    Opener,
    Closer,
    Void,
}

/// `WP_Block_Parser::next_token()`'s pattern anchored at `i` (`b[i..]` starts with `<!--`).
fn token_at(b: &[u8], i: usize, attrs_end: &mut AttrsEnd) -> Option<(Token, usize)> {
    let mut p = i + 4;
    let ws = b[p..].iter().take_while(|c| is_pcre_space(**c)).count();
    if ws == 0 {
        return None;
    }
    p += ws;
    let closer = b.get(p) == Some(&b'/');
    if closer {
        p += 1;
    }
    if !b[p..].starts_with(b"wp:") {
        return None;
    }
    p += 3;
    let mut end = name_end(b, p)?;
    if b.get(end) == Some(&b'/') {
        // A namespace, then the name.
        end = name_end(b, end + 1)?;
    }
    p = end;
    let ws = b[p..].iter().take_while(|c| is_pcre_space(**c)).count();
    if ws == 0 {
        return None;
    }
    p += ws;
    if b.get(p) == Some(&b'{') {
        let brace = attrs_end.at_or_after(p + 1)?;
        p = brace + 1;
        p += b[p..].iter().take_while(|c| is_pcre_space(**c)).count();
    }
    let void = b.get(p) == Some(&b'/');
    if void {
        p += 1;
    }
    if !b[p..].starts_with(b"-->") {
        return None;
    }
    let kind = if closer {
        Token::Closer
    } else if void {
        Token::Void
    } else {
        Token::Opener
    };
    Some((kind, p + 3))
}

/// `has_blocks()`.
pub fn has_blocks(content: &str) -> bool {
    content.contains("<!-- wp:")
}

/// A parsed block: its `innerContent`, HTML pieces and inner blocks in order.
#[derive(Default)]
struct Block {
    inner: Vec<Chunk>,
}

enum Chunk {
    Html(String),
    Inner(Block),
}

impl Block {
    /// `WP_Block::render()` of a static block: the chunks joined.
    fn render(&self, out: &mut String) {
        for chunk in &self.inner {
            match chunk {
                Chunk::Html(h) => out.push_str(h),
                Chunk::Inner(b) => b.render(out),
            }
        }
    }

    fn html(html: &str) -> Self {
        Self {
            inner: vec![Chunk::Html(html.to_owned())],
        }
    }
}

/// `WP_Block_Parser_Frame`.
struct Frame {
    block: Block,
    token_start: usize,
    prev_offset: usize,
    leading_html_start: Option<usize>,
}

/// Blocks still open at the end of the content that are each closed with a copy of the rest
/// of it, as WordPress does; past this many only the outermost is (docs/compat.md).
const MAX_OPEN_AT_END: usize = 16;

/// PHP's `! empty( $html )` on a string: neither `''` nor `'0'`.
fn not_empty(s: &str) -> bool {
    !s.is_empty() && s != "0"
}

/// `WP_Block_Parser::parse()`, quirks included (a closer with no open block ends the
/// parsing; blocks left open at the end are each closed with the rest of the document).
fn parse(doc: &str) -> Vec<Block> {
    let b = doc.as_bytes();
    let mut attrs_end = AttrsEnd { b, cached: None };
    let mut output: Vec<Block> = vec![];
    let mut stack: Vec<Frame> = vec![];
    let mut offset = 0;
    // `add_block_from_stack()`.
    let add_block_from_stack =
        |stack: &mut Vec<Frame>, output: &mut Vec<Block>, end_offset: Option<usize>| {
            let Some(mut top) = stack.pop() else { return };
            let html = &doc[top.prev_offset.min(doc.len())..end_offset.unwrap_or(doc.len())];
            if not_empty(html) {
                top.block.inner.push(Chunk::Html(html.to_owned()));
            }
            if let Some(start) = top.leading_html_start {
                output.push(Block::html(&doc[start..top.token_start]));
            }
            output.push(top.block);
        };
    // `add_inner_block()`.
    let add_inner_block = |stack: &mut Vec<Frame>, block: Block, token_start: usize, last_offset: usize| {
        if let Some(parent) = stack.last_mut() {
            let html = &doc[parent.prev_offset.min(token_start)..token_start];
            if not_empty(html) {
                parent.block.inner.push(Chunk::Html(html.to_owned()));
            }
            parent.block.inner.push(Chunk::Inner(block));
            parent.prev_offset = last_offset;
        }
    };
    let mut search = 0;
    loop {
        // `next_token()`: the first delimiter at or after the offset.
        let mut token = None;
        while let Some(p) = super::find_bytes(&b[search..], b"<!--") {
            let at = search + p;
            if let Some((kind, end)) = token_at(b, at, &mut attrs_end) {
                token = Some((kind, at, end));
                break;
            }
            search = at + 1;
        }
        let depth = stack.len();
        let Some((kind, start, end)) = token else {
            // no-more-tokens
            if depth == 0 {
                if offset < doc.len() {
                    output.push(Block::html(&doc[offset..]));
                }
            } else if depth <= MAX_OPEN_AT_END {
                while !stack.is_empty() {
                    add_block_from_stack(&mut stack, &mut output, None);
                }
            } else {
                // WordPress closes every open block with the whole rest of the document, a
                // copy per block (quadratic output); past the bound only the outermost is.
                stack.truncate(1);
                add_block_from_stack(&mut stack, &mut output, None);
            }
            break;
        };
        search = end;
        let leading_html_start = (start > offset).then_some(offset);
        match kind {
            Token::Void if depth == 0 => {
                if let Some(l) = leading_html_start {
                    output.push(Block::html(&doc[l..start]));
                }
                output.push(Block::default());
            }
            Token::Void => add_inner_block(&mut stack, Block::default(), start, end),
            Token::Opener => stack.push(Frame {
                block: Block::default(),
                token_start: start,
                prev_offset: end,
                leading_html_start,
            }),
            Token::Closer if depth == 0 => {
                if offset < doc.len() {
                    output.push(Block::html(&doc[offset..]));
                }
                break;
            }
            Token::Closer if depth == 1 => add_block_from_stack(&mut stack, &mut output, Some(start)),
            Token::Closer => {
                if let Some(mut top) = stack.pop() {
                    let html = &doc[top.prev_offset.min(start)..start];
                    top.block.inner.push(Chunk::Html(html.to_owned()));
                    add_inner_block(&mut stack, top.block, top.token_start, end);
                }
            }
        }
        offset = end;
    }
    output
}

/// `do_blocks()` for static blocks: `parse_blocks()`, then each block rendered (its HTML
/// without the delimiters).
pub fn do_blocks(content: &str) -> String {
    if !content.contains("<!--") {
        return content.to_owned();
    }
    let mut out = String::with_capacity(content.len());
    for block in parse(content) {
        block.render(&mut out);
    }
    out
}
