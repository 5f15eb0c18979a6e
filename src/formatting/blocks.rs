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
        let found =
            (from..self.b.len()).find(|&p| self.b[p] == b'}' && closes(self.b, p + 1).is_some());
        self.cached = Some(found);
        found
    }
}

/// `\s+\/?-->` at `p`: the end of the delimiter.
fn closes(b: &[u8], p: usize) -> Option<usize> {
    let ws = b[p.min(b.len())..]
        .iter()
        .take_while(|c| is_pcre_space(**c))
        .count();
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
                .take_while(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || **c == b'_' || **c == b'-'
                })
                .count(),
    )
}

enum Token {
    Opener,
    Closer,
    Void,
}

/// `WP_Block_Parser::next_token()`'s pattern anchored at `i` (`b[i..]` starts with `<!--`).
fn token_at(
    b: &[u8],
    i: usize,
    attrs_end: &mut AttrsEnd,
) -> Option<(Token, usize, (usize, usize))> {
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
    let name_start = p;
    let mut end = name_end(b, p)?;
    if b.get(end) == Some(&b'/') {
        // A namespace, then the name.
        end = name_end(b, end + 1)?;
    }
    let name = (name_start, end);
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
    Some((kind, p + 3, name))
}

/// `has_blocks()`.
pub fn has_blocks(content: &str) -> bool {
    content.contains("<!-- wp:")
}

/// Parsed blocks in an arena (no recursion, so deep nesting cannot exhaust the stack):
/// each block's `blockName` and `innerContent`, HTML pieces and inner blocks in order.
#[derive(Default)]
struct Blocks {
    nodes: Vec<Node>,
    /// The top-level blocks, in order.
    top: Vec<usize>,
}

#[derive(Default)]
struct Node {
    /// `core/…` for names without a namespace; `None` for freeform HTML.
    name: Option<String>,
    inner: Vec<Chunk>,
}

enum Chunk {
    Html(String),
    Inner(usize),
}

impl Blocks {
    fn add(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn html(&mut self, html: &str) -> usize {
        self.add(Node {
            name: None,
            inner: vec![Chunk::Html(html.to_owned())],
        })
    }

    /// `WP_Block::render()` of a static block: the chunks joined, inner blocks rendered.
    fn render(&self, id: usize, out: &mut String) {
        let mut stack = vec![(id, 0usize)];
        while let Some((node, at)) = stack.pop() {
            let Some(chunk) = self.nodes[node].inner.get(at) else {
                continue;
            };
            stack.push((node, at + 1));
            match chunk {
                Chunk::Html(h) => out.push_str(h),
                Chunk::Inner(child) => stack.push((*child, 0)),
            }
        }
    }

    fn children(&self, id: usize) -> impl Iterator<Item = usize> + '_ {
        self.nodes[id].inner.iter().filter_map(|c| match c {
            Chunk::Inner(i) => Some(*i),
            Chunk::Html(_) => None,
        })
    }
}

/// `WP_Block_Parser_Frame`.
struct Frame {
    node: usize,
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

fn block_name(doc: &str, (start, end): (usize, usize)) -> String {
    let name = &doc[start..end];
    if name.contains('/') {
        name.to_owned()
    } else {
        format!("core/{name}")
    }
}

/// `WP_Block_Parser::parse()`, quirks included (a closer with no open block ends the
/// parsing; blocks left open at the end are each closed with the rest of the document).
fn parse(doc: &str) -> Blocks {
    let b = doc.as_bytes();
    let mut attrs_end = AttrsEnd { b, cached: None };
    let mut blocks = Blocks::default();
    let mut stack: Vec<Frame> = vec![];
    let mut offset = 0;
    // `add_block_from_stack()`.
    let add_block_from_stack =
        |blocks: &mut Blocks, stack: &mut Vec<Frame>, end_offset: Option<usize>| {
            let Some(top) = stack.pop() else { return };
            let html = &doc[top.prev_offset.min(doc.len())..end_offset.unwrap_or(doc.len())];
            if not_empty(html) {
                blocks.nodes[top.node]
                    .inner
                    .push(Chunk::Html(html.to_owned()));
            }
            if let Some(start) = top.leading_html_start {
                let free = blocks.html(&doc[start..top.token_start]);
                blocks.top.push(free);
            }
            blocks.top.push(top.node);
        };
    // `add_inner_block()`.
    let add_inner_block = |blocks: &mut Blocks,
                           stack: &mut Vec<Frame>,
                           node: usize,
                           token_start: usize,
                           last_offset: usize| {
        if let Some(parent) = stack.last_mut() {
            let html = &doc[parent.prev_offset.min(token_start)..token_start];
            if not_empty(html) {
                blocks.nodes[parent.node]
                    .inner
                    .push(Chunk::Html(html.to_owned()));
            }
            blocks.nodes[parent.node].inner.push(Chunk::Inner(node));
            parent.prev_offset = last_offset;
        }
    };
    let mut search = 0;
    loop {
        // `next_token()`: the first delimiter at or after the offset.
        let mut token = None;
        while let Some(p) = super::find_bytes(&b[search..], b"<!--") {
            let at = search + p;
            if let Some((kind, end, name)) = token_at(b, at, &mut attrs_end) {
                token = Some((kind, at, end, name));
                break;
            }
            search = at + 1;
        }
        let depth = stack.len();
        let Some((kind, start, end, name)) = token else {
            // no-more-tokens
            if depth == 0 {
                if offset < doc.len() {
                    let free = blocks.html(&doc[offset..]);
                    blocks.top.push(free);
                }
            } else if depth <= MAX_OPEN_AT_END {
                while !stack.is_empty() {
                    add_block_from_stack(&mut blocks, &mut stack, None);
                }
            } else {
                // WordPress closes every open block with the whole rest of the document, a
                // copy per block (quadratic output); past the bound only the outermost is.
                stack.truncate(1);
                add_block_from_stack(&mut blocks, &mut stack, None);
            }
            break;
        };
        search = end;
        let leading_html_start = (start > offset).then_some(offset);
        let named = |blocks: &mut Blocks| {
            blocks.add(Node {
                name: Some(block_name(doc, name)),
                inner: vec![],
            })
        };
        match kind {
            Token::Void if depth == 0 => {
                if let Some(l) = leading_html_start {
                    let free = blocks.html(&doc[l..start]);
                    blocks.top.push(free);
                }
                let node = named(&mut blocks);
                blocks.top.push(node);
            }
            Token::Void => {
                let node = named(&mut blocks);
                add_inner_block(&mut blocks, &mut stack, node, start, end);
            }
            Token::Opener => {
                let node = named(&mut blocks);
                stack.push(Frame {
                    node,
                    token_start: start,
                    prev_offset: end,
                    leading_html_start,
                });
            }
            Token::Closer if depth == 0 => {
                if offset < doc.len() {
                    let free = blocks.html(&doc[offset..]);
                    blocks.top.push(free);
                }
                break;
            }
            Token::Closer if depth == 1 => {
                add_block_from_stack(&mut blocks, &mut stack, Some(start))
            }
            Token::Closer => {
                if let Some(top) = stack.pop() {
                    let html = &doc[top.prev_offset.min(start)..start];
                    blocks.nodes[top.node]
                        .inner
                        .push(Chunk::Html(html.to_owned()));
                    add_inner_block(&mut blocks, &mut stack, top.node, top.token_start, end);
                }
            }
        }
        offset = end;
    }
    blocks
}

/// `do_blocks()` for static blocks: `parse_blocks()`, then each block rendered (its HTML
/// without the delimiters).
pub fn do_blocks(content: &str) -> String {
    if !content.contains("<!--") {
        return content.to_owned();
    }
    let blocks = parse(content);
    let mut out = String::with_capacity(content.len());
    for &id in &blocks.top {
        blocks.render(id, &mut out);
    }
    out
}

/// `excerpt_remove_blocks()`: only text blocks (and the text blocks inside columns and
/// groups) make a generated excerpt.
pub fn excerpt_remove_blocks(content: &str) -> String {
    const INNER: &[&str] = &[
        "core/freeform",
        "core/heading",
        "core/html",
        "core/list",
        "core/media-text",
        "core/paragraph",
        "core/preformatted",
        "core/pullquote",
        "core/quote",
        "core/table",
        "core/verse",
    ];
    const WRAPPERS: &[&str] = &["core/columns", "core/column", "core/group"];
    let is_inner = |n: &Option<String>| n.as_deref().is_none_or(|n| INNER.contains(&n));
    let is_wrapper = |n: &Option<String>| n.as_deref().is_some_and(|n| WRAPPERS.contains(&n));
    let blocks = parse(content);
    let mut out = String::with_capacity(content.len());
    for &id in &blocks.top {
        let node = &blocks.nodes[id];
        if !(is_inner(&node.name) || is_wrapper(&node.name)) {
            continue;
        }
        let mut children = blocks.children(id).peekable();
        if children.peek().is_some() {
            if is_wrapper(&node.name) {
                // `_excerpt_render_inner_blocks()`, depth first, without recursion.
                let mut pending: Vec<usize> = blocks.children(id).collect();
                pending.reverse();
                while let Some(child) = pending.pop() {
                    let c = &blocks.nodes[child];
                    if !(is_inner(&c.name) || is_wrapper(&c.name)) {
                        continue;
                    }
                    let mut grand: Vec<usize> = blocks.children(child).collect();
                    if grand.is_empty() {
                        blocks.render(child, &mut out);
                    } else {
                        grand.reverse();
                        pending.extend(grand);
                    }
                }
                continue;
            }
            // Skip the block if it has disallowed or nested inner blocks.
            let skip = blocks.children(id).any(|c| {
                let c = &blocks.nodes[c];
                !is_inner(&c.name) || blocks.children_exist(c)
            });
            if skip {
                continue;
            }
        }
        blocks.render(id, &mut out);
    }
    out
}

impl Blocks {
    fn children_exist(&self, node: &Node) -> bool {
        node.inner.iter().any(|c| matches!(c, Chunk::Inner(_)))
    }
}
