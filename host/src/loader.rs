//! Opening plugin libraries: discovery in `plugin_dir`, the declaration probe, the ABI gate and abi_stable's
//! layout check. Nothing here calls a plugin's `init`; that is the registry's job.
//!
//! Order of checks, cheapest and most explanatory first:
//! 0. The file is parsed as an object file (the `object` crate) before anything maps it: it must be a shared
//!    library whose every segment and section lies inside the file. A truncated copy can pass `dlopen` (the
//!    loader maps lazily) and crash the host with SIGBUS later, so truncation is caught here.
//! 1. `dlopen` (libloading). A file that cannot be opened is not a plugin (garbage, wrong platform).
//! 2. The `openhost_plugin_declaration` symbol: a frozen C struct with the plugin's name and ABI number. Missing
//!    means "some other shared library". A different ABI number is refused here, by name, in one line, before
//!    abi_stable gets to print a thousand-line layout diff.
//! 3. abi_stable's version and layout check of the root module (`lib_header_from_path` per file, never
//!    `RootModule::load_from_file`, which caches one module per type).

use std::{
    ffi::CStr,
    path::{Path, PathBuf},
};

use abi_stable::library::{LibraryError, lib_header_from_path};
use openhost_plugin_api::{ABI_VERSION, DECLARATION_SYMBOL, PluginDeclaration, PluginManifest, PluginModRef};

/// The version of openhost-plugin-api this host was built with.
pub const HOST_API_VERSION: &str = openhost_plugin_api::export::API_VERSION;

/// A library file and its digest.
#[derive(Debug, Clone)]
pub struct LibraryFile {
    pub path: PathBuf,
    pub sha256: String,
}

impl LibraryFile {
    /// The file name, for messages and `/api/plugins`.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

/// What a plugin says about itself before anything of it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    pub name: String,
    pub abi_version: u32,
    pub api_version: String,
}

/// The outcome of looking at one file.
#[derive(Debug)]
pub enum Probe {
    Plugin {
        file: LibraryFile,
        declaration: Declaration,
    },
    NotAPlugin {
        path: PathBuf,
        reason: String,
    },
}

/// Why an openhost plugin could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "plugin `{name}` was built for plugin ABI {found}, this host speaks {expected}: rebuild it against \
         openhost-plugin-api {HOST_API_VERSION}"
    )]
    AbiVersion { name: String, found: u32, expected: u32 },
    #[error(
        "plugin `{name}` (built with openhost-plugin-api {api_version}) has an interface layout this host \
         (openhost-plugin-api {HOST_API_VERSION}) does not accept: {summary}; rebuild it"
    )]
    Layout {
        name: String,
        api_version: String,
        summary: String,
    },
    #[error("plugin `{name}` could not be opened: {message}")]
    Library { name: String, message: String },
    #[error("plugin `{name}`: {message}")]
    Manifest { name: String, message: String },
}

/// Every `*.so`, `*.dylib` and `*.dll` in `dir`, sorted by name.
pub fn discover(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && is_library_name(path))
        .collect();
    paths.sort();
    Ok(paths)
}

fn is_library_name(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("so" | "dylib" | "dll"))
}

/// Hex sha256 of a file's bytes.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    Ok(sha256_hex(&std::fs::read(path)?))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// Checks that `bytes` are a complete shared library: parseable, of the dynamic kind, with every segment and
/// section inside the file.
fn check_shared_object(bytes: &[u8]) -> Result<(), String> {
    use object::{Object, ObjectKind, ObjectSection, ObjectSegment};
    let file = object::File::parse(bytes).map_err(|e| format!("not a loadable shared library ({e})"))?;
    if file.kind() != ObjectKind::Dynamic {
        return Err(format!("not a shared library (object kind {:?})", file.kind()));
    }
    let length = bytes.len() as u64;
    let inside = |range: Option<(u64, u64)>| range.is_none_or(|(offset, size)| offset.saturating_add(size) <= length);
    let truncated = file.segments().any(|segment| !inside(Some(segment.file_range())))
        || file.sections().any(|section| !inside(section.file_range()));
    if truncated {
        return Err("not a loadable shared library (truncated: parts of it lie past the end of the file)".into());
    }
    Ok(())
}

/// Opens `path` and reads its plugin declaration.
pub fn probe(path: &Path) -> Probe {
    let not_a_plugin = |reason: String| Probe::NotAPlugin {
        path: path.to_owned(),
        reason,
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return not_a_plugin(format!("cannot be read: {e}")),
    };
    if let Err(reason) = check_shared_object(&bytes) {
        return not_a_plugin(reason);
    }
    let sha256 = sha256_hex(&bytes);
    drop(bytes);
    // SAFETY: opening a library runs its initialisers; that is inherent to plugins, and an operator chose to put
    // this file in plugin_dir.
    let library = match unsafe { libloading::Library::new(path) } {
        Ok(library) => library,
        Err(e) => return not_a_plugin(format!("not a loadable shared library ({})", one_line(&e.to_string()))),
    };
    let symbol = format!("{DECLARATION_SYMBOL}\0");
    // SAFETY: the symbol, if present, is the `PluginDeclaration` static every openhost plugin exports.
    let declaration = match unsafe { library.get::<*const PluginDeclaration>(symbol.as_bytes()) } {
        Ok(symbol) => read_declaration(*symbol),
        Err(_) => return not_a_plugin("a shared library, but not an openhost plugin (no plugin declaration)".into()),
    };
    let Some(declaration) = declaration else {
        return not_a_plugin("its plugin declaration is malformed".into());
    };
    // Never unload a plugin library (DESIGN.md 3.8): abi_stable keeps it open too.
    std::mem::forget(library);
    Probe::Plugin {
        file: LibraryFile {
            path: path.to_owned(),
            sha256,
        },
        declaration,
    }
}

fn read_declaration(pointer: *const PluginDeclaration) -> Option<Declaration> {
    if pointer.is_null() {
        return None;
    }
    // SAFETY: `pointer` is the address of the exported static; its string fields are NUL-terminated literals.
    let raw = unsafe { &*pointer };
    let text = |p: *const u8| -> Option<String> {
        if p.is_null() {
            return None;
        }
        // SAFETY: see above.
        let c = unsafe { CStr::from_ptr(p.cast()) };
        c.to_str().ok().map(str::to_owned)
    };
    let name = text(raw.name).filter(|n| !n.is_empty())?;
    Some(Declaration {
        name,
        abi_version: raw.abi_version,
        api_version: text(raw.api_version).unwrap_or_default(),
    })
}

/// A plugin library that passed every check: its root module and manifest.
pub struct OpenedPlugin {
    pub module: PluginModRef,
    pub manifest: PluginManifest,
}

/// Runs the ABI gate and abi_stable's checks, then reads the manifest.
pub fn open(file: &LibraryFile, declaration: &Declaration) -> Result<OpenedPlugin, LoadError> {
    let name = declaration.name.clone();
    if declaration.abi_version != ABI_VERSION {
        return Err(LoadError::AbiVersion {
            name,
            found: declaration.abi_version,
            expected: ABI_VERSION,
        });
    }
    let library_error = |e: LibraryError| match e {
        LibraryError::AbiInstability(details) => {
            let details = details.to_string();
            tracing::debug!(plugin = %name, "full layout report:\n{details}");
            LoadError::Layout {
                name: name.clone(),
                api_version: declaration.api_version.clone(),
                summary: layout_summary(&details),
            }
        }
        other => LoadError::Library {
            name: name.clone(),
            message: one_line(&other.to_string()),
        },
    };
    let header = lib_header_from_path(&file.path).map_err(library_error)?;
    let module = header.init_root_module::<PluginModRef>().map_err(library_error)?;
    let manifest = module.manifest()().into_result().map_err(|e| LoadError::Manifest {
        name: name.clone(),
        message: format!("manifest() failed: {e}"),
    })?;
    if manifest.name.as_str() != declaration.name || manifest.abi_version != declaration.abi_version {
        return Err(LoadError::Manifest {
            name,
            message: format!(
                "its manifest (name `{}`, ABI {}) contradicts its declaration",
                manifest.name, manifest.abi_version
            ),
        });
    }
    Ok(OpenedPlugin { module, manifest })
}

/// abi_stable's layout report runs to hundreds of lines. This pulls out the type that differs and the first
/// difference: `type `PluginMod`: mismatched package (expected `openhost-plugin-api`, found `x`)`.
fn layout_summary(details: &str) -> String {
    let lines: Vec<&str> = details.lines().map(str::trim).collect();
    let next_after = |marker: &str| {
        let start = lines.iter().position(|line| *line == marker)?;
        lines[start + 1..].iter().find(|line| !line.is_empty()).copied()
    };
    let type_name = lines
        .iter()
        .position(|line| *line == "Layout of expected type:")
        .and_then(|start| lines[start + 1..].iter().find_map(|line| line.strip_prefix("type:")));
    let difference = lines.iter().find_map(|line| line.strip_prefix("Error:"));
    let summary = match (type_name, difference) {
        (Some(type_name), Some(difference)) => format!(
            "type `{type_name}`: {difference} (expected `{}`, found `{}`)",
            next_after("Expected:").unwrap_or("?"),
            next_after("Found:").unwrap_or("?")
        ),
        _ => lines
            .iter()
            .find(|line| !line.is_empty())
            .map_or_else(|| "layout mismatch".to_owned(), |line| (*line).to_owned()),
    };
    truncate(summary, 240)
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Collapses a multi-line message into one line.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
