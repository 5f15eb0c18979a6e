//! WP-CLI's output: `WP_CLI\Formatter` (`--format=table|csv|json|yaml|count|ids`,
//! `--fields`, `--field`) and the `Success:` line. Tables are drawn as php-cli-tools draws
//! them: with `+---+` borders on a terminal, tab-separated when standard output is a pipe
//! or a file (`cli\Shell::isPiped()`, overridden by `SHELL_PIPE=0|1`).

use std::io::IsTerminal as _;

use anyhow::bail;
use clap::Args;
use serde_json::{Map, Value};

/// `--format`, `--fields` and `--field`, as every WP-CLI list and get command takes them.
#[derive(Debug, Clone, Default, Args)]
pub struct FormatArgs {
    /// Render output in a particular format: table, csv, json, yaml, count or ids.
    #[arg(long)]
    pub format: Option<String>,
    /// Limit the output to specific fields (comma-separated).
    #[arg(long)]
    pub fields: Option<String>,
    /// Prints the value of a single field for each item.
    #[arg(long)]
    pub field: Option<String>,
}

/// One row: field name to value, in display order.
pub type Item = Map<String, Value>;

/// `WP_CLI::success()`: written to standard output, as WP-CLI does.
pub fn success(message: &str) {
    println!("Success: {message}");
}

/// `WP_CLI\Formatter` for one command: its default fields and the prefix WP-CLI tries
/// when a field is not found (`--fields=login` means `user_login`).
pub struct Formatter<'a> {
    pub args: &'a FormatArgs,
    pub default_fields: &'a [&'a str],
    pub prefix: &'a str,
}

impl Formatter<'_> {
    fn fields(&self) -> Vec<String> {
        match &self.args.fields {
            Some(f) => f
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            None => self
                .default_fields
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }

    /// The key of `field` in `item`: itself, or with the command's prefix.
    fn resolve(&self, item: &Item, field: &str) -> Option<String> {
        if item.contains_key(field) {
            return Some(field.to_owned());
        }
        let prefixed = format!("{}_{field}", self.prefix);
        (!self.prefix.is_empty() && item.contains_key(&prefixed)).then_some(prefixed)
    }

    /// `display_items()`.
    pub fn items(&self, items: &[Item]) -> anyhow::Result<()> {
        let format = self.args.format.as_deref().unwrap_or("table");
        if let Some(field) = &self.args.field {
            for item in items {
                let Some(key) = self.resolve(item, field) else {
                    bail!("Invalid field: {field}.");
                };
                match format {
                    "json" => println!("{}", item[&key]),
                    _ => println!("{}", scalar(&item[&key])),
                }
            }
            return Ok(());
        }
        let fields = self.fields();
        // Every requested field must exist on the items (`Formatter::validate_fields`).
        let mut keys = Vec::with_capacity(fields.len());
        for f in &fields {
            let key = items
                .first()
                .map_or(Some(f.clone()), |i| self.resolve(i, f));
            match key {
                Some(k) => keys.push(k),
                None => bail!("Invalid field: {f}."),
            }
        }
        let pick = |item: &Item| -> Item {
            keys.iter()
                .map(|k| (k.clone(), item.get(k).cloned().unwrap_or(Value::Null)))
                .collect()
        };
        match format {
            "count" => println!("{}", items.len()),
            "ids" => {
                let ids: Vec<String> = items
                    .iter()
                    .filter_map(|i| keys.first().and_then(|k| i.get(k)).map(scalar))
                    .collect();
                println!("{}", ids.join(" "));
            }
            "json" => {
                let list: Vec<Value> = items.iter().map(|i| Value::Object(pick(i))).collect();
                println!("{}", Value::Array(list));
            }
            "yaml" => {
                let mut out = String::from("---\n");
                for item in items {
                    let mut first = true;
                    for (k, v) in pick(item) {
                        out.push_str(if first { "- " } else { "  " });
                        first = false;
                        out.push_str(&format!("{k}: {}\n", yaml_scalar(&v)));
                    }
                }
                print!("{out}");
            }
            "csv" => {
                println!("{}", csv_row(&keys));
                for item in items {
                    let row: Vec<String> = keys
                        .iter()
                        .map(|k| item.get(k).map(scalar).unwrap_or_default())
                        .collect();
                    println!("{}", csv_row(&row));
                }
            }
            "table" => {
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|i| {
                        keys.iter()
                            .map(|k| i.get(k).map(scalar).unwrap_or_default())
                            .collect()
                    })
                    .collect();
                print_table(&keys, &rows);
            }
            other => bail!("Invalid format: {other}"),
        }
        Ok(())
    }

    /// `display_item()`: one item, as Field/Value rows in a table.
    pub fn item(&self, item: &Item) -> anyhow::Result<()> {
        let format = self.args.format.as_deref().unwrap_or("table");
        if let Some(field) = &self.args.field {
            let Some(key) = self.resolve(item, field) else {
                bail!("Invalid field: {field}.");
            };
            match format {
                "json" => println!("{}", item[&key]),
                _ => println!("{}", scalar(&item[&key])),
            }
            return Ok(());
        }
        let keys: Vec<String> = match &self.args.fields {
            Some(_) => {
                let mut keys = vec![];
                for f in self.fields() {
                    match self.resolve(item, &f) {
                        Some(k) => keys.push(k),
                        None => bail!("Invalid field: {f}."),
                    }
                }
                keys
            }
            // An empty default (`wp user get`) shows every field of the item.
            None if self.default_fields.is_empty() => item.keys().cloned().collect(),
            None => self
                .default_fields
                .iter()
                .filter(|f| item.contains_key(**f))
                .map(|f| (*f).to_owned())
                .collect(),
        };
        let picked: Item = keys.iter().map(|k| (k.clone(), item[k].clone())).collect();
        match format {
            "json" => println!("{}", Value::Object(picked)),
            "yaml" => {
                let mut out = String::from("---\n");
                for (k, v) in &picked {
                    out.push_str(&format!("{k}: {}\n", yaml_scalar(v)));
                }
                print!("{out}");
            }
            "csv" => {
                println!("Field,Value");
                for (k, v) in &picked {
                    println!("{}", csv_row(&[k.clone(), scalar(v)]));
                }
            }
            "table" => {
                let rows: Vec<Vec<String>> = picked
                    .iter()
                    .map(|(k, v)| vec![k.clone(), scalar(v)])
                    .collect();
                print_table(&["Field".to_owned(), "Value".to_owned()], &rows);
            }
            other => bail!("Invalid format: {other}"),
        }
        Ok(())
    }
}

/// A value as a table cell or a line: strings bare, arrays and objects as JSON, null empty.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "1" } else { "" }.to_owned(),
        other => other.to_string(),
    }
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) if s.is_empty() => "\"\"".to_owned(),
        Value::String(s)
            if s.parse::<f64>().is_ok()
                || s.contains(": ")
                || s.contains('#')
                || s.contains('\n')
                || s.starts_with(|c: char| "-?:,[]{}&*!|>'\"%@` ".contains(c))
                || s.ends_with(' ') =>
        {
            Value::String(s.clone()).to_string()
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// PHP's `fputcsv()`: a field is quoted when it holds the delimiter, a quote, a backslash,
/// white space or a line break; quotes inside are doubled.
fn csv_row(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\\', ' ', '\t', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `cli\Shell::isPiped()`.
fn is_piped() -> bool {
    match std::env::var("SHELL_PIPE") {
        Ok(v) => matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes"),
        Err(_) => !std::io::stdout().is_terminal(),
    }
}

/// `cli\Table::display()`: the ASCII renderer on a terminal, the tabular one on a pipe.
pub fn print_table(headers: &[String], rows: &[Vec<String>]) {
    if is_piped() {
        println!("{}", headers.join("\t"));
        for row in rows {
            println!("{}", row.join("\t"));
        }
        return;
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let border = format!(
        "+{}+",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    let line = |cells: &[String]| {
        let inner: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths[i].saturating_sub(c.chars().count());
                format!(" {c}{} ", " ".repeat(pad))
            })
            .collect();
        format!("|{}|", inner.join("|"))
    };
    println!("{border}");
    println!("{}", line(headers));
    println!("{border}");
    for row in rows {
        println!("{}", line(row));
    }
    println!("{border}");
}

#[cfg(test)]
mod tests {
    use super::csv_row;

    #[test]
    fn csv_quotes_as_fputcsv() {
        let row = csv_row(&["a".into(), "My App".into(), "x,y".into(), "q\"".into()]);
        assert_eq!(row, "a,\"My App\",\"x,y\",\"q\"\"\"");
    }
}
