//! Every document a code comment cites exists, and so does the part it names: `docs/NAME.md` must be a file of
//! `docs/`, and `docs/NAME.md, "Title"` a heading, a table row's first cell or a bold lead of that file. A
//! citation is how a reader finds the why behind the code; one that leads nowhere is worse than none.

use std::path::{Path, PathBuf};

use openhost_tests::workspace_root;

/// Where code comments live; the frozen compatibility fixtures are left as they were built.
const SOURCE_DIRS: [&str; 9] = [
    "host",
    "plugin-api",
    "github",
    "plugins",
    "examples",
    "tests/src",
    "tests/tests",
    "tools",
    "fuzz/fuzz_targets",
];

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The comments of a source file as one text, consecutive comment lines joined by a space (a citation may wrap).
fn comment_text(source: &str) -> String {
    let mut text = String::new();
    for line in source.lines() {
        let trimmed = line.trim_start();
        match trimmed.find("//") {
            Some(at) => {
                let comment = trimmed[at..].trim_start_matches('/').trim_start_matches('!');
                text.push_str(comment.trim());
                text.push(' ');
            }
            None => text.push('\n'),
        }
    }
    text
}

/// `(document, title)` of every citation in `text`.
fn citations(text: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("docs/") {
        let rest = &text[at + "docs/".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        let Some(after) = rest[name.len()..].strip_prefix(".md") else {
            continue;
        };
        let title = after
            .strip_prefix(", \"")
            .and_then(|quoted| quoted.split_once('"'))
            .map(|(title, _)| title.split_whitespace().collect::<Vec<_>>().join(" "));
        found.push((format!("docs/{name}.md"), title));
    }
    found
}

/// What a document offers to be cited by: its headings, table rows' first cells and bold leads, without markup.
fn has_part(document: &str, title: &str) -> bool {
    let plain = |text: &str| text.replace(['`', '*'], "");
    document.lines().map(plain).any(|line| {
        let line = line.trim();
        let heading = line.starts_with('#') && line.trim_start_matches('#').trim().starts_with(title);
        let row = line
            .strip_prefix('|')
            .is_some_and(|cells| cells.trim_start().starts_with(title));
        let lead = line.strip_prefix("- ").is_some_and(|item| item.starts_with(title));
        heading || row || lead
    })
}

#[test]
fn every_cited_document_and_section_exists() {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 100, "found only {} source files", files.len());
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let source = std::fs::read_to_string(file).expect("read source");
        for (document, title) in citations(&comment_text(&source)) {
            checked += 1;
            let Ok(text) = std::fs::read_to_string(root.join(&document)) else {
                broken.push(format!("{}: {document} does not exist", file.display()));
                continue;
            };
            if let Some(title) = title.filter(|title| !has_part(&text, title)) {
                broken.push(format!("{}: {document} has no part \"{title}\"", file.display()));
            }
        }
    }
    assert!(checked > 50, "found only {checked} citations");
    assert!(broken.is_empty(), "citations that lead nowhere:\n{}", broken.join("\n"));
}
