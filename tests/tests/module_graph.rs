//! No import circle inside any crate of the workspace (docs/architecture.md, "Module graph"): a module that
//! names another (`use crate::a::b`, `crate::a::b::f()`, `super::x`) depends on it, and no module may depend on
//! itself through others. A circle means two modules are one concept split in two files, or that a low module
//! reaches up (an error type of the top returned from below): either way, the layers no longer read bottom-up.
//!
//! The reading is textual and deliberately simple: comments and `#[cfg(test)] mod tests` are left out, `use`
//! trees are expanded, and a path counts against the deepest module it names.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use openhost_tests::workspace_root;

/// The crates whose modules must form no circle.
const CRATES: &[&str] = &[
    "host/src",
    "plugin-api/src",
    "plugin-test/src",
    "github/src",
    "plugins/enterprise/src",
    "plugins/api-keys/src",
];

type Module = Vec<String>;

/// Every module of the crate under `src`, by path (`["registry", "resolve"]`; the root is `[]`).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    for file in openhost_tests::files_under(src) {
        if file.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = file.strip_prefix(src).expect("under src").with_extension("");
        let mut module: Module = relative
            .iter()
            .map(|part| part.to_string_lossy().into_owned())
            .collect();
        if module.last().is_some_and(|last| last == "mod") {
            module.pop();
        }
        // `main.rs` is the binary: another crate, which uses this one by its name.
        if module == ["main"] {
            continue;
        }
        if module == ["lib"] {
            module.clear();
        }
        found.insert(module, file);
    }
    found
}

/// The source without comments and without the unit tests at the end of a file.
fn code_of(text: &str) -> String {
    let mut code: String = text
        .lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let tests = code.match_indices("#[cfg(").map(|(at, _)| at).find(|&at| {
        let Some(end) = code[at..].find(']') else { return false };
        let attribute = &code[at..at + end];
        attribute.contains("test") && code[at + end + 1..].trim_start().starts_with("mod tests")
    });
    if let Some(at) = tests {
        code.truncate(at);
    }
    code
}

/// The paths a `use` tree names, each with the name it is visible under: `a::{b, c::{d as e}}` is `a::b` (as
/// `b`) and `a::c::d` (as `e`).
fn expand(tree: &str, prefix: &[String], out: &mut Vec<(String, Module)>) {
    let mut depth = 0;
    let mut start = 0;
    let tree = tree.trim();
    // Split the top level at commas, outside braces.
    let mut parts = Vec::new();
    for (at, c) in tree.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&tree[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&tree[start..]);
    for part in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        if let Some(open) = part.find('{') {
            let head: Vec<String> = part[..open]
                .split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let inner = &part[open + 1..part.rfind('}').unwrap_or(part.len())];
            let mut next = prefix.to_vec();
            next.extend(head);
            expand(inner, &next, out);
        } else {
            let mut path = prefix.to_vec();
            let (part, alias) = match part.split_once(" as ") {
                Some((part, alias)) => (part, Some(alias.trim())),
                None => (part, None),
            };
            path.extend(
                part.split("::")
                    .map(str::trim)
                    .filter(|s| !s.is_empty() && *s != "self")
                    .map(str::to_owned),
            );
            let name = alias.or(path.last().map(String::as_str)).unwrap_or_default().to_owned();
            out.push((name, path));
        }
    }
}

/// What one module's source names: every path it uses, and the items it re-exports (`pub use`), by name.
struct Uses {
    paths: Vec<Module>,
    reexports: BTreeMap<String, Module>,
}

/// Reads the `use` statements and inline `crate::` paths of `module`, whose source is `code`.
fn uses(module: &Module, code: &str, known: &BTreeMap<Module, PathBuf>) -> Uses {
    let mut paths: Vec<Module> = Vec::new();
    let mut reexports = BTreeMap::new();
    let statements = code.match_indices("use ").filter_map(|(at, _)| {
        let before = code[..at].trim_end();
        let boundary = code[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '{' || c == ';');
        let public = before.ends_with("pub") || before.ends_with(')') && before.contains("pub(");
        boundary.then(|| (public, &code[at + 4..]))
    });
    for (public, statement) in statements {
        let Some(end) = statement.find(';') else { continue };
        let mut tree = statement[..end].trim();
        let base = if let Some(rest) = tree.strip_prefix("crate::") {
            tree = rest;
            Vec::new()
        } else if tree.starts_with("self::") || tree.starts_with("super::") {
            let mut base = module.clone();
            if let Some(rest) = tree.strip_prefix("self::") {
                tree = rest;
            }
            while let Some(rest) = tree.strip_prefix("super::") {
                base.pop();
                tree = rest;
            }
            base
        } else {
            // A path relative to this module: `use child::Thing` names its own submodule.
            let first = tree.split([':', ' ', '{', ',']).next().unwrap_or("");
            let mut child = module.clone();
            child.push(first.to_owned());
            if !known.contains_key(&child) {
                continue;
            }
            module.clone()
        };
        let mut named = Vec::new();
        expand(tree, &base, &mut named);
        for (name, path) in named {
            // The first wins: a later `pub use crate::Thing` of an inline module (a prelude) re-exports the
            // re-export.
            if public && path != [name.clone()] {
                reexports.entry(name).or_insert_with(|| path.clone());
            }
            paths.push(path);
        }
    }
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '$') {
            continue;
        }
        let written = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("");
        // `crate::a::{..}` and `crate::a::*` are `use` trees, read above.
        if written.ends_with("::") {
            continue;
        }
        let path: Module = written
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        // `use crate::{..}` was read above.
        if !path.is_empty() {
            paths.push(path);
        }
    }
    Uses { paths, reexports }
}

/// The module a path names: the deepest module it goes through, followed through re-exports (`crate::Thing`
/// re-exported by the root from `a::b` names `a::b`).
fn resolve(path: &[String], known: &BTreeMap<Module, Uses>) -> Option<Module> {
    let mut path = path.to_vec();
    for _ in 0..16 {
        let depth = (0..=path.len()).rev().find(|&n| known.contains_key(&path[..n]))?;
        let module = path[..depth].to_vec();
        let reexported = path.get(depth).and_then(|item| known[&module].reexports.get(item));
        match reexported {
            Some(source) if source[..] != path[..=depth] => {
                let mut next = source.clone();
                next.extend_from_slice(&path[depth + 1..]);
                path = next;
            }
            _ => return Some(module),
        }
    }
    None
}

/// The circles of a graph: its strongly connected components of more than one module (Tarjan).
fn circles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a Module) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in &self.edges[v] {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        module.join("::")
    }
}

/// The circles among the modules of the crate under `src`, each as its modules' names.
fn circles_of(src: &Path) -> Vec<Vec<String>> {
    let files = modules(src);
    let read: BTreeMap<Module, Uses> = files
        .iter()
        .map(|(module, file)| {
            let text = std::fs::read_to_string(file).expect("read source");
            (module.clone(), uses(module, &code_of(&text), &files))
        })
        .collect();
    let edges: BTreeMap<Module, BTreeSet<Module>> = read
        .iter()
        .map(|(module, uses)| {
            let targets = uses
                .paths
                .iter()
                .filter_map(|path| resolve(path, &read))
                .filter(|target| target != module)
                .collect();
            (module.clone(), targets)
        })
        .collect();
    circles(&edges)
        .iter()
        .map(|circle| circle.iter().map(name).collect())
        .collect()
}

#[test]
fn no_crate_has_an_import_circle() {
    let root = workspace_root();
    let mut found = Vec::new();
    for krate in CRATES {
        for circle in circles_of(&root.join(krate)) {
            found.push(format!("{krate}: {}", circle.join(" -> ")));
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_reading_finds_a_circle_where_there_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    };
    write("lib.rs", "mod a;\nmod b;\nmod c;\n");
    write("a.rs", "use crate::{b::{Thing, other}, c};\n");
    write("b.rs", "// use crate::c;\npub fn f() { crate::c::g(); }\n");
    write("c/mod.rs", "mod inner;\npub use inner::h;\n");
    write(
        "c/inner.rs",
        "use super::super::a::X;\nfn h() { let _ = crate::a::Y; }\n",
    );
    let circles = circles_of(dir.path());
    assert_eq!(
        circles,
        vec![vec![
            "a".to_owned(),
            "b".to_owned(),
            "c".to_owned(),
            "c::inner".to_owned()
        ]]
    );
}
