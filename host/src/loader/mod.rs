//! Opening plugin libraries: discovery in `plugin_dir`, the manifest read as data, the interface gate, the
//! sha256 pin, and abi_stable's layout check. Nothing here calls a plugin's `init`; that is the registry's job.
//!
//! Order of checks (docs/plugin-interface.md, "Checked before run"):
//! 1. [`probe`]: the file is read as data ([`object_file`]): a complete shared library with an openhost manifest.
//!    No code of it runs; discovery and `openhost plugins list` stop here.
//! 2. [`open`], only for a plugin that is enabled, listed (under `require_listed`) and otherwise wanted: the file
//!    is read once more, and those bytes are hashed, checked against the pin, re-read for the manifest, gated on
//!    the interface version, copied into a sealed private [`image::Image`], and loaded from it. What runs is
//!    exactly what was checked.
//! 3. abi_stable's layout check of the root module and every type reachable from it (`lib_header_from_path` per
//!    library, never `RootModule::load_from_file`, which caches one module per type), with the roles that fit a
//!    plugin host: see [`check_layout`].

mod image;
pub mod object_file;

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use abi_stable::{
    StableAbi,
    abi_stability::abi_checking::check_layout_compatibility,
    library::{LibHeader, LibraryError, lib_header_from_path},
};
use openhost_plugin_api::{
    InterfaceVersion, PluginModRef, export::API_VERSION, interface::Incompatible, manifest::Manifest,
};

use crate::{
    signature::{Requirement, Signature, SignatureError},
    text::{one_line, truncate},
};

pub use object_file::Contents;

/// How many plugin libraries this process has mapped: one per load, none ever unmapped (docs/reliability.md,
/// "What stays mapped").
static MAPPED_LIBRARIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many plugin libraries stay mapped in this process, retired generations' included.
pub fn retained_libraries() -> u64 {
    MAPPED_LIBRARIES.load(std::sync::atomic::Ordering::Relaxed)
}

/// The interface this host provides.
pub const HOST_INTERFACE: InterfaceVersion = InterfaceVersion::CURRENT;

/// A plugin library found in `plugin_dir`, as read from its bytes.
#[derive(Debug, Clone)]
pub struct LibraryFile {
    pub path: PathBuf,
    pub sha256: String,
    pub manifest: Manifest,
}

impl LibraryFile {
    /// The file name, for messages and `/api/plugins`.
    pub fn file_name(&self) -> String {
        file_name(&self.path)
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The outcome of looking at one file.
#[derive(Debug)]
pub enum Probe {
    Plugin(LibraryFile),
    NotAPlugin { path: PathBuf, reason: String },
}

/// Why an openhost plugin was not opened.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("plugin `{name}` {}", interface_message(name, *.reason))]
    Interface { name: String, reason: Incompatible },
    #[error("plugin `{name}`: sha256 mismatch: the file is {found}, plugins.toml pins {pinned}; refusing to load it")]
    Pin {
        name: String,
        found: String,
        pinned: String,
    },
    #[error("plugin `{name}` refused: {source}")]
    Signature {
        name: String,
        // Boxed: the largest cause, kept off every other error's path.
        source: Box<SignatureError>,
    },
    #[error("plugin `{name}`: the file changed while it was being loaded ({now}); try again")]
    Changed { name: String, now: String },
    #[error("plugin `{name}`: cannot read the library: {source}")]
    Read { name: String, source: std::io::Error },
    #[error("plugin `{name}`: cannot make a private copy to load: {source}")]
    Image { name: String, source: std::io::Error },
    #[error(
        "plugin `{name}` (built with openhost-plugin-api {sdk}) has an interface layout this host \
         (openhost-plugin-api {API_VERSION}) does not accept: {summary}; rebuild it"
    )]
    Layout { name: String, sdk: String, summary: String },
    #[error("plugin `{name}` could not be opened: {message}")]
    Library { name: String, message: String },
}

impl LoadError {
    /// Plugin `name` refused by its signature.
    pub fn signature(name: &str, refusal: SignatureError) -> LoadError {
        LoadError::Signature {
            name: name.to_owned(),
            source: Box::new(refusal),
        }
    }
}

fn interface_message(name: &str, reason: Incompatible) -> String {
    match reason {
        Incompatible::NewerMinor { host, plugin } => format!(
            "needs plugin interface {plugin}, this host provides {host}: upgrade openhost (or build {name} against \
             openhost-plugin-api {host})"
        ),
        Incompatible::Major { host, plugin } => format!(
            "was built for plugin interface {plugin}, this host provides {host}: rebuild {name} against \
             openhost-plugin-api {}.x",
            host.major
        ),
    }
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

/// Whether a file is named as a sandboxed (http-wasm) module: `*.wasm`.
pub fn is_module_name(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "wasm")
}

/// Hex sha256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// The largest file looked at as a plugin library (a debug build of the enterprise plugin is about 25 MiB). A
/// larger file, which may be a sparse file planted to make discovery read gigabytes, is skipped unread.
pub const MAX_LIBRARY_BYTES: u64 = 256 << 20;

/// How a shared library begins: ELF, Mach-O (32 and 64 bit, either byte order, and universal) and PE.
fn has_library_magic(start: &[u8]) -> bool {
    const MAGICS: [&[u8]; 8] = [
        b"\x7fELF",
        &[0xfe, 0xed, 0xfa, 0xce],
        &[0xfe, 0xed, 0xfa, 0xcf],
        &[0xce, 0xfa, 0xed, 0xfe],
        &[0xcf, 0xfa, 0xed, 0xfe],
        &[0xca, 0xfe, 0xba, 0xbe],
        &[0xbe, 0xba, 0xfe, 0xca],
        b"MZ",
    ];
    MAGICS.iter().any(|magic| start.starts_with(magic))
}

/// Why a file is not opened as a library.
#[derive(Debug, thiserror::Error)]
pub enum Unopenable {
    #[error("cannot be read: {0}")]
    Read(#[from] std::io::Error),
    #[error("not a regular file")]
    NotAFile,
    #[error("{} MiB, larger than a plugin library may be ({} MiB); not read", .0 >> 20, MAX_LIBRARY_BYTES >> 20)]
    TooLarge(u64),
    #[error("not a loadable shared library (it starts like no ELF, Mach-O or PE file)")]
    NoMagic,
}

/// Opens `path` as a plugin file: a regular file of at most [`MAX_LIBRARY_BYTES`], a larger one refused unread.
/// Returns it with its size.
fn open_bounded(path: &Path) -> Result<(File, u64), Unopenable> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(Unopenable::NotAFile);
    }
    let size = metadata.len();
    if size > MAX_LIBRARY_BYTES {
        return Err(Unopenable::TooLarge(size));
    }
    Ok((file, size))
}

/// The whole of a plugin file that is not a library (a sandboxed module), bounded as a library is: a file
/// larger than [`MAX_LIBRARY_BYTES`] is refused unread, and one that grows past it while read is refused too.
pub fn read_plugin_file(path: &Path) -> Result<Vec<u8>, Unopenable> {
    let (file, size) = open_bounded(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_LIBRARY_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_LIBRARY_BYTES {
        return Err(Unopenable::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Opens `path` for reading as a library: a regular file of at most [`MAX_LIBRARY_BYTES`] that starts like a
/// shared library. Reads its first bytes only; the file is returned positioned at its start, with its size.
fn open_library(path: &Path) -> Result<(File, u64), Unopenable> {
    let (mut file, size) = open_bounded(path)?;
    let mut start = Vec::with_capacity(4);
    (&mut file).take(4).read_to_end(&mut start)?;
    if !has_library_magic(&start) {
        return Err(Unopenable::NoMagic);
    }
    file.seek(SeekFrom::Start(0))?;
    Ok((file, size))
}

/// Hex sha256 of the rest of a file, read in fixed-size pieces.
fn sha256_of(file: &mut File) -> std::io::Result<String> {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buffer)? {
            0 => break,
            n => context.update(&buffer[..n]),
        }
    }
    Ok(hex::encode(context.finish()))
}

/// Reads `path` as data: its digest and manifest. Runs nothing of it, and holds no more of it in memory than
/// its headers, symbol tables and manifest: a file that is too large or does not start like a shared library is
/// not read further.
pub fn probe(path: &Path) -> Probe {
    let not_a_plugin = |reason: String| Probe::NotAPlugin {
        path: path.to_owned(),
        reason,
    };
    let (file, _) = match open_library(path) {
        Ok(opened) => opened,
        Err(reason) => return not_a_plugin(reason.to_string()),
    };
    let cache = object::ReadCache::new(file);
    let manifest = match object_file::inspect(&cache) {
        Contents::Plugin(manifest) => manifest,
        Contents::NotAPlugin(reason) => return not_a_plugin(reason),
    };
    let mut file = cache.into_inner();
    let sha256 = match file.seek(SeekFrom::Start(0)).and_then(|_| sha256_of(&mut file)) {
        Ok(sha256) => sha256,
        Err(e) => return not_a_plugin(Unopenable::Read(e).to_string()),
    };
    Probe::Plugin(LibraryFile {
        path: path.to_owned(),
        sha256,
        manifest,
    })
}

/// Whether a library's digest matches its `plugins.toml` pin (none: any digest), compared case-insensitively.
pub fn check_pin(name: &str, sha256: &str, pin: Option<&str>) -> Result<(), LoadError> {
    match pin.filter(|pinned| !pinned.eq_ignore_ascii_case(sha256)) {
        Some(pinned) => Err(LoadError::Pin {
            name: name.to_owned(),
            found: sha256.to_owned(),
            pinned: pinned.to_owned(),
        }),
        None => Ok(()),
    }
}

/// Whether this host can load a plugin built for the manifest's interface.
pub fn check_interface(manifest: &Manifest) -> Result<(), LoadError> {
    HOST_INTERFACE
        .accepts(manifest.interface)
        .map_err(|reason| LoadError::Interface {
            name: manifest.name.clone(),
            reason,
        })
}

/// A plugin library that passed every check and is loaded: its root module.
pub struct OpenedPlugin {
    pub module: PluginModRef,
    pub manifest: Manifest,
    /// The digest of the bytes loaded, which is what `/api/plugins` shows and a pin must name (the file may
    /// have changed since discovery read it).
    pub sha256: String,
    /// What the signature beside the file says about those bytes.
    pub signature: Signature,
}

/// Loads a plugin found by [`probe`]: checks the pin, the signature, the manifest and the interface on the bytes
/// it then loads.
pub fn open(file: &LibraryFile, pin: Option<&str>, signing: Requirement<'_>) -> Result<OpenedPlugin, LoadError> {
    let name = file.manifest.name.clone();
    let (mut opened, size) = open_library(&file.path).map_err(|now| LoadError::Changed {
        name: name.clone(),
        now: now.to_string(),
    })?;
    // Bounded by what was just checked, should the file grow meanwhile.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    (&mut opened)
        .take(MAX_LIBRARY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| LoadError::Read {
            name: name.clone(),
            source,
        })?;
    drop(opened);
    let sha256 = sha256_hex(&bytes);
    check_pin(&name, &sha256, pin)?;
    let signature = signing
        .admit(&name, &file.path, &bytes)
        .map_err(|refusal| LoadError::signature(&name, refusal))?;
    let manifest = match object_file::inspect(bytes.as_slice()) {
        Contents::Plugin(manifest) if manifest == file.manifest => manifest,
        Contents::Plugin(manifest) => {
            return Err(LoadError::Changed {
                name,
                now: format!("it now declares plugin `{}` {}", manifest.name, manifest.version),
            });
        }
        Contents::NotAPlugin(reason) => return Err(LoadError::Changed { name, now: reason }),
    };
    check_interface(&manifest)?;
    let image = image::Image::new(&name, &bytes).map_err(|source| LoadError::Image {
        name: name.clone(),
        source,
    })?;
    drop(bytes);
    let layout_error = |details: String| {
        tracing::debug!(plugin = %name, "full layout report:\n{details}");
        LoadError::Layout {
            name: name.clone(),
            sdk: manifest.sdk_version.clone(),
            summary: layout_summary(&details),
        }
    };
    let library_error = |e: LibraryError| match e {
        LibraryError::AbiInstability(details) => layout_error(details.to_string()),
        other => LoadError::Library {
            name: name.clone(),
            message: one_line(&other.to_string()),
        },
    };
    let header = lib_header_from_path(image.path()).map_err(library_error)?;
    // Mapped from here on, whatever the checks below say.
    MAPPED_LIBRARIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    check_layout(header).map_err(layout_error)?;
    // SAFETY: `check_layout` just checked the library's root module layout against this host's.
    let module = unsafe { header.init_root_module_with_unchecked_layout::<PluginModRef>() }.map_err(library_error)?;
    // The image backs the mapped library for the rest of the process (plugins are never unloaded).
    std::mem::forget(image);
    Ok(OpenedPlugin {
        module,
        manifest,
        sha256,
        signature,
    })
}

/// Checks the layout of a library's root module, and of everything reachable from it, against this host's.
///
/// abi_stable's own check (`init_root_module`) treats the loader as the older side: a prefix type (a vtable,
/// `HostServices`) may be longer in the library, never shorter. A plugin host is the other way round: the host
/// is the newer side, and a plugin built for 1.0 has shorter vtables and a shorter `HostServices` than a 1.3
/// host. So the check runs with the roles reversed: the plugin's layout as the interface, the host's as the
/// implementation. Everything that is not a prefix type must still match exactly; a prefix type may have more
/// fields on the host's side, which the plugin never reads (its accessors stop at its own length) and which the
/// host reads as absent (an appended method's default runs). `tests/tests/compat.rs` proves both directions.
fn check_layout(header: &LibHeader) -> Result<(), String> {
    // `export_plugin!` always asks for the check; a library that opts out is not one of ours.
    let plugin_layout = header
        .layout()
        .ok_or("the library's root module carries no layout to check")?;
    check_layout_compatibility(plugin_layout, <PluginModRef as StableAbi>::LAYOUT).map_err(|errors| errors.to_string())
}

/// abi_stable's layout report runs to hundreds of lines. This pulls out the type that differs and the first
/// difference: `type `PluginMod`: mismatched package (plugin `x`, host `openhost-plugin-api`)`. The report's
/// "expected" side is the plugin's and its "found" side the host's (see [`check_layout`]).
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
            "type `{type_name}`: {difference} (plugin `{}`, host `{}`)",
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
