//! The architecture, checked: layers import only what they may (STYLE.md, "Where things live").
//!
//! - In `api/src`: the edges `http/` (JSON) and `web/` (HTML) never import each other; `cli.rs`
//!   imports neither; `mail/` imports no edge and no use case (`service`); `store/` imports
//!   neither `mail`, an edge nor a use case; `service/` imports no edge.
//! - `scheduler` does no IO: no IO crate among its dependencies, and its sources touch neither
//!   the file system, the network nor the clock (`now` is always passed in).
//!
//! The sources are parsed with `syn`, so every path counts: `use` items (groups, `self`,
//! renames, globs), paths in code and types (`crate::http::x()`), and `super::` paths resolved
//! from the file's place in the module tree (inline `mod` blocks included). A path that starts
//! with a name (not `crate`, `self` or `super`) names another crate: `http::StatusCode` is the
//! `http` crate, not Plenary's JSON edge. Each violation is printed with its file and line.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use syn::visit::Visit;

/// The workspace's root: this crate is `tests/` in it.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_path_buf()
}

/// What a part of `api/src` may not import: modules of the `plenary` crate.
struct Rule {
    /// A directory (`web/`) or a file (`cli.rs`) under `api/src`.
    part: &'static str,
    forbidden: &'static [&'static str],
}

const API_RULES: &[Rule] = &[
    Rule { part: "web/", forbidden: &["http"] },
    Rule { part: "http/", forbidden: &["web"] },
    Rule { part: "cli.rs", forbidden: &["http", "web"] },
    Rule { part: "mail/", forbidden: &["http", "web", "service"] },
    Rule { part: "store/", forbidden: &["mail", "http", "web", "service"] },
    Rule { part: "service/", forbidden: &["http", "web"] },
];

/// Crates that do IO, which `scheduler` may not depend on.
const IO_CRATES: &[&str] = &[
    "sea-orm",
    "sea-query",
    "sqlx",
    "rusqlite",
    "postgres",
    "tokio",
    "async-std",
    "smol",
    "mio",
    "axum",
    "hyper",
    "tower",
    "tower-http",
    "reqwest",
    "ureq",
    "lettre",
    "tracing-subscriber",
    "migration",
    "plenary",
];

/// Paths that do IO or read the clock, which `scheduler`'s sources may not contain.
const IO_PATHS: &[&[&str]] = &[
    &["std", "fs"],
    &["std", "net"],
    &["std", "process"],
    &["Utc", "now"],
    &["Local", "now"],
    &["SystemTime", "now"],
    &["Instant", "now"],
];

/// One forbidden import or path.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    file: String,
    line: usize,
    message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A path found in a source file, as written, where it was found.
#[derive(Debug)]
struct Found {
    segments: Vec<String>,
    line: usize,
    /// The module the path was written in (inline `mod` blocks included), for `self` and `super`.
    module: Vec<String>,
}

/// Walks a file and collects every path in it: each leaf of each `use` tree, and every path in
/// code, types, patterns and macro invocations.
struct Paths {
    module: Vec<String>,
    found: Vec<Found>,
}

impl Paths {
    fn of(source: &str, module: Vec<String>) -> syn::Result<Vec<Found>> {
        let file = syn::parse_file(source)?;
        let mut paths = Self { module, found: Vec::new() };
        paths.visit_file(&file);
        Ok(paths.found)
    }

    fn record(&mut self, segments: Vec<String>, span: proc_macro2::Span) {
        self.found.push(Found { segments, line: span.start().line, module: self.module.clone() });
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => self.use_leaf(prefix, &name.ident),
            syn::UseTree::Rename(rename) => self.use_leaf(prefix, &rename.ident),
            syn::UseTree::Glob(glob) => {
                let span = glob.star_token.span;
                self.record(prefix.clone(), span);
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let mut path: Vec<syn::Ident> = Vec::new();
        let mut colons = 0;
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(ident) => {
                    if colons != 2 {
                        self.token_path(&mut path);
                    }
                    path.push(ident);
                    colons = 0;
                }
                proc_macro2::TokenTree::Punct(punct) if punct.as_char() == ':' => colons += 1,
                proc_macro2::TokenTree::Group(group) => {
                    self.token_path(&mut path);
                    self.tokens(group.stream());
                    colons = 0;
                }
                proc_macro2::TokenTree::Punct(_) | proc_macro2::TokenTree::Literal(_) => {
                    self.token_path(&mut path);
                    colons = 0;
                }
            }
        }
        self.token_path(&mut path);
    }

    /// Records the path read so far from a macro's tokens, and starts a new one.
    fn token_path(&mut self, path: &mut Vec<syn::Ident>) {
        if let Some(first) = path.first() {
            let span = first.span();
            let segments = path.iter().map(ToString::to_string).collect();
            self.record(segments, span);
        }
        path.clear();
    }

    /// `use a::b::c;` is `a::b::c`, and `use a::b::{self};` is `a::b`.
    fn use_leaf(&mut self, prefix: &[String], ident: &syn::Ident) {
        let mut segments = prefix.to_vec();
        if ident != "self" {
            segments.push(ident.to_string());
        }
        self.record(segments, ident.span());
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        self.use_tree(&mut prefix, &item.tree);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.module.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.module.pop();
    }

    /// A macro's arguments are tokens, not syntax: read the paths in them (`a::b::c`) too, so
    /// that `format!("{}", Utc::now())` counts.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        syn::visit::visit_macro(self, mac);
        self.tokens(mac.tokens.clone());
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments = path.segments.iter().map(|segment| segment.ident.to_string()).collect();
        let span = path.segments.first().map_or_else(proc_macro2::Span::call_site, |first| first.ident.span());
        self.record(segments, span);
        syn::visit::visit_path(self, path);
    }
}

/// The module path of a file under a crate's `src/` (`web/forms.rs` → `web::forms`).
fn module_of(relative: &Path) -> Vec<String> {
    let mut module: Vec<String> =
        relative.with_extension("").components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
    if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        module.pop();
    }
    module
}

/// The path inside the crate a found path names, or `None` when it names another crate (or a
/// local item). `plenary::` counts as the crate too, for `main.rs`.
fn in_crate(found: &Found) -> Option<Vec<String>> {
    let mut segments = found.segments.iter().map(String::as_str).peekable();
    let mut resolved = match segments.peek().copied()? {
        "crate" | "plenary" => {
            segments.next();
            Vec::new()
        }
        "self" => {
            segments.next();
            found.module.clone()
        }
        "super" => found.module.clone(),
        _ => return None,
    };
    while segments.peek() == Some(&"super") {
        segments.next();
        resolved.pop()?;
    }
    resolved.extend(segments.map(str::to_owned));
    Some(resolved)
}

/// The violations of `rule` in one file of `api/src` (`relative` to it).
fn check_api_source(relative: &Path, source: &str, rules: &[Rule]) -> Vec<Violation> {
    let name = format!("api/src/{}", relative.display());
    let found = match Paths::of(source, module_of(relative)) {
        Ok(found) => found,
        Err(error) => return vec![Violation { file: name, line: 0, message: format!("cannot parse: {error}") }],
    };
    let relative_text = relative.to_string_lossy().replace('\\', "/");
    let mut violations = Vec::new();
    for rule in rules.iter().filter(|rule| relative_text.starts_with(rule.part)) {
        for path in &found {
            let Some(resolved) = in_crate(path) else { continue };
            if let Some(module) = resolved.first().filter(|module| rule.forbidden.contains(&module.as_str())) {
                violations.push(Violation {
                    file: name.clone(),
                    line: path.line,
                    message: format!(
                        "{} must not import crate::{module} (crate::{})",
                        rule.part.trim_end_matches('/'),
                        resolved.join("::")
                    ),
                });
            }
        }
    }
    violations
}

/// The IO paths in one file of `scheduler/src`.
fn check_scheduler_source(relative: &Path, source: &str) -> Vec<Violation> {
    let name = format!("scheduler/src/{}", relative.display());
    let found = match Paths::of(source, module_of(relative)) {
        Ok(found) => found,
        Err(error) => return vec![Violation { file: name, line: 0, message: format!("cannot parse: {error}") }],
    };
    let mut violations = Vec::new();
    for path in &found {
        for io in IO_PATHS {
            if path.segments.windows(io.len()).any(|window| window.iter().zip(io.iter()).all(|(a, b)| a == b)) {
                violations.push(Violation {
                    file: name.clone(),
                    line: path.line,
                    message: format!("scheduler does no IO and reads no clock, but uses {}", path.segments.join("::")),
                });
            }
        }
    }
    violations
}

/// The IO crates among the dependencies in `manifest` (a Cargo.toml): its `[dependencies]` and
/// `[target.….dependencies]` sections, in any of the forms cargo reads (`name = …`,
/// `name.workspace = true`, `[dependencies.name]`). A text scan: the manifest is ours and plain,
/// and this keeps a TOML parser out of the build.
fn check_manifest(file: &str, manifest: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut in_dependencies = false;
    for (index, line) in manifest.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let name = if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_end_matches(']').trim();
            // `[target.'cfg(unix)'.dependencies]` is `[dependencies]` for some targets.
            let header = header
                .strip_prefix("target.")
                .and_then(|rest| rest.find(".dependencies").map(|at| &rest[at + 1..]))
                .unwrap_or(header);
            in_dependencies = header == "dependencies";
            match header.strip_prefix("dependencies.") {
                Some(name) => name,
                None => continue,
            }
        } else if in_dependencies {
            let Some((key, _)) = line.split_once('=') else { continue };
            key.split('.').next().unwrap_or_default()
        } else {
            continue;
        };
        let name = name.trim().trim_matches('"');
        if IO_CRATES.contains(&name) {
            violations.push(Violation {
                file: file.to_owned(),
                line: index + 1,
                message: format!("scheduler does no IO, but depends on {name}"),
            });
        }
    }
    violations
}

/// Every `.rs` file under `root`, relative to it, in a stable order.
fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut directories = vec![root.to_path_buf()];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).unwrap_or_else(|error| panic!("{}: {error}", directory.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                directories.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path.strip_prefix(root).expect("under the root").to_path_buf());
            }
        }
    }
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn assert_none(what: &str, violations: &[Violation]) {
    let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(violations.is_empty(), "{what}: {} violation(s)\n{}", violations.len(), listed.join("\n"));
}

#[test]
fn the_service_layers_import_only_what_they_may() {
    let root = workspace().join("api/src");
    let files = rust_files(&root);
    assert!(files.iter().any(|file| file.starts_with("web")), "api/src/web is where it was");
    let violations: Vec<Violation> =
        files.iter().flat_map(|file| check_api_source(file, &read(&root.join(file)), API_RULES)).collect();
    assert_none("api/src imports across its layers", &violations);
}

#[test]
fn scheduler_depends_on_no_io_crate() {
    let manifest = workspace().join("scheduler/Cargo.toml");
    assert_none("scheduler/Cargo.toml", &check_manifest("scheduler/Cargo.toml", &read(&manifest)));
}

#[test]
fn scheduler_sources_touch_neither_files_network_nor_clock() {
    let root = workspace().join("scheduler/src");
    let files = rust_files(&root);
    assert!(files.iter().any(|file| file.ends_with("lib.rs")), "scheduler/src is where it was");
    let violations: Vec<Violation> =
        files.iter().flat_map(|file| check_scheduler_source(file, &read(&root.join(file)))).collect();
    assert_none("scheduler/src", &violations);
}

/// The lines of `source` that start a transaction with a bare `.begin()`, which on SQLite is a
/// deferred transaction: one that reads and then writes fails when another connection wrote in
/// between. Changes start theirs with `db::begin_write`.
fn bare_begins(source: &str) -> Vec<usize> {
    struct Begins(Vec<usize>);
    impl<'ast> Visit<'ast> for Begins {
        fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
            if call.method == "begin" && call.args.is_empty() {
                self.0.push(call.method.span().start().line);
            }
            syn::visit::visit_expr_method_call(self, call);
        }
    }
    let mut begins = Begins(Vec::new());
    begins.visit_file(&syn::parse_file(source).expect("a Rust source"));
    begins.0
}

#[test]
fn every_change_starts_its_transaction_with_begin_write() {
    let root = workspace().join("api/src");
    let violations: Vec<Violation> = rust_files(&root)
        .iter()
        .flat_map(|file| {
            bare_begins(&read(&root.join(file))).into_iter().map(move |line| Violation {
                file: format!("api/src/{}", file.display()),
                line,
                message: "a bare .begin() is a deferred transaction on SQLite: use db::begin_write".into(),
            })
        })
        .collect();
    assert_none("api/src transactions", &violations);
    assert_eq!(bare_begins("async fn f(db: &Db) { let txn = db.begin().await?; }"), [1]);
}

// ---------------------------------------------------------------------------------------------
// The checker itself, on made-up sources

/// A page of the HTML edge reaching into the JSON edge in every way a path can, and the ways that
/// are allowed.
const A_PAGE: &str = r#"
use crate::http::error::ApiError;
use crate::{app::AppState, http::{self, meetings as m}};
use super::super::http::feeds::*;
use http::StatusCode;
use super::forms::FormErrors;

fn handler() -> Result<(), crate::http::error::ApiError> {
    let _ = crate::app::router;
    crate::http::meetings::plan();
    Ok(())
}

mod inner {
    use super::super::super::http::seating;
}
"#;

#[test]
fn the_checker_finds_each_way_of_naming_a_forbidden_module_with_its_line() {
    let violations = check_api_source(Path::new("web/page.rs"), A_PAGE, API_RULES);
    let found: Vec<(usize, &str)> = violations
        .iter()
        .map(|violation| (violation.line, violation.message.rsplit_once('(').unwrap().1.trim_end_matches(')')))
        .collect();
    assert_eq!(
        found,
        [
            (2, "crate::http::error::ApiError"),
            (3, "crate::http"),
            (3, "crate::http::meetings"),
            (4, "crate::http::feeds"),
            (8, "crate::http::error::ApiError"),
            (10, "crate::http::meetings::plan"),
            (15, "crate::http::seating"),
        ],
        "{violations:#?}"
    );
    assert!(violations.iter().all(|violation| violation.file == "api/src/web/page.rs"));
    assert_eq!(
        violations[0].to_string(),
        "api/src/web/page.rs:2: web must not import crate::http (crate::http::error::ApiError)"
    );
    // The same file elsewhere breaks no rule: the JSON edge may use itself.
    assert_eq!(check_api_source(Path::new("http/page.rs"), A_PAGE, API_RULES), []);
    // `mod.rs` is its directory's module: `super` from web/mod.rs is the crate.
    let from_mod = check_api_source(Path::new("web/mod.rs"), "use super::http::Json;", API_RULES);
    assert_eq!(from_mod.len(), 1, "{from_mod:?}");
    let unparsable = check_api_source(Path::new("web/broken.rs"), "fn (", API_RULES);
    assert!(unparsable[0].message.starts_with("cannot parse"), "{unparsable:?}");
}

#[test]
fn the_checker_finds_io_in_scheduler_sources_and_manifest() {
    let source = "use std::{fs, io::Write};\nuse chrono::Utc;\n\nfn f() {\n    let _ = Utc::now();\n    let _ = std::net::TcpStream::connect(\"x\");\n    let _ = now_in(chrono::Utc);\n    println!(\"{}\", chrono::Local::now());\n}\n";
    let lines: Vec<usize> =
        check_scheduler_source(Path::new("plan.rs"), source).iter().map(|violation| violation.line).collect();
    assert_eq!(lines, [1, 5, 6, 8]);

    let manifest = "[package]\nname = \"scheduler\"\ntokio = \"not a dependency\"\n\n[dependencies]\nchrono.workspace = true\nsea-orm = { workspace = true }\n\n[dependencies.reqwest]\nversion = \"0.12\"\n\n[target.'cfg(unix)'.dependencies]\ntokio.workspace = true\n\n[dev-dependencies]\naxum = \"0.8\"\n";
    let violations = check_manifest("scheduler/Cargo.toml", manifest);
    let found: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "scheduler/Cargo.toml:7: scheduler does no IO, but depends on sea-orm",
            "scheduler/Cargo.toml:9: scheduler does no IO, but depends on reqwest",
            "scheduler/Cargo.toml:13: scheduler does no IO, but depends on tokio",
        ]
    );
}
