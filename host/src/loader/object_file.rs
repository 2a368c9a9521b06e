//! Reading a library file as data: is it a complete shared library, and what does its manifest say. Nothing here
//! maps or executes the file (docs/plugin-interface.md, "Checked before run").

use object::{Object, ObjectKind, ObjectSection, ObjectSegment, ObjectSymbol, ReadRef};
use openhost_plugin_api::manifest::{CONFIG_SCHEMA_SYMBOL, MANIFEST_SYMBOL, MAX_LEN, MAX_SCHEMA_LEN, Manifest};

/// The symbol of the plugin declaration of the pre-1.0 ABI; its presence names the kind of library.
const PRE_1_0_SYMBOL: &str = "openhost_plugin_declaration";

/// What the bytes of a file are.
#[derive(Debug)]
pub enum Contents {
    /// An openhost 1.x plugin, with its manifest.
    Plugin(Manifest),
    /// Anything else, and why it is not a plugin this host can load.
    NotAPlugin(String),
}

/// Looks at the bytes of a file: a slice, or a [`object::ReadCache`] over the file itself, which reads only the
/// headers, the symbol tables and the manifest's section (discovery never holds a whole file in memory).
pub fn inspect<'d, R: ReadRef<'d>>(bytes: R) -> Contents {
    let file = match object::File::parse(bytes) {
        Ok(file) => file,
        Err(e) => return Contents::NotAPlugin(format!("not a loadable shared library ({e})")),
    };
    if file.kind() != ObjectKind::Dynamic {
        return Contents::NotAPlugin(format!("not a shared library (object kind {:?})", file.kind()));
    }
    // A truncated copy can pass `dlopen` (the loader maps lazily) and crash the host with SIGBUS later.
    let length = bytes.len().unwrap_or(0);
    let inside = |range: Option<(u64, u64)>| range.is_none_or(|(offset, size)| offset.saturating_add(size) <= length);
    if file.segments().any(|segment| !inside(Some(segment.file_range())))
        || file.sections().any(|section| !inside(section.file_range()))
    {
        return Contents::NotAPlugin(
            "not a loadable shared library (truncated: parts of it lie past the end of the file)".into(),
        );
    }
    match symbol_bytes(&file, MANIFEST_SYMBOL, MAX_LEN) {
        Some(Ok(data)) => match Manifest::parse(data) {
            Ok(manifest) => with_config_schema(&file, manifest),
            Err(e) => Contents::NotAPlugin(format!("its plugin manifest is malformed: {e}")),
        },
        Some(Err(reason)) => Contents::NotAPlugin(format!("its plugin manifest cannot be read: {reason}")),
        None if symbol_bytes(&file, PRE_1_0_SYMBOL, MAX_LEN).is_some() => Contents::NotAPlugin(
            "an openhost plugin built for the pre-1.0 plugin ABI (openhost-plugin-api 0.x): rebuild it against \
             openhost-plugin-api 1.x"
                .into(),
        ),
        None => Contents::NotAPlugin("a shared library, but not an openhost plugin (no plugin manifest)".into()),
    }
}

/// `manifest` with the config schema the file declares, if it declares one (text up to its NUL).
fn with_config_schema<'d, R: ReadRef<'d>>(file: &object::File<'d, R>, mut manifest: Manifest) -> Contents {
    let data = match symbol_bytes(file, CONFIG_SCHEMA_SYMBOL, MAX_SCHEMA_LEN) {
        None => return Contents::Plugin(manifest),
        Some(Ok(data)) => data,
        Some(Err(reason)) => return Contents::NotAPlugin(format!("its config schema cannot be read: {reason}")),
    };
    let Some(text) = data
        .split(|byte| *byte == 0)
        .next()
        .filter(|text| text.len() < data.len())
    else {
        return Contents::NotAPlugin(format!("its config schema is longer than {MAX_SCHEMA_LEN} bytes"));
    };
    match std::str::from_utf8(text) {
        Ok(text) => {
            manifest.config_schema = Some(text.to_owned());
            Contents::Plugin(manifest)
        }
        Err(_) => Contents::NotAPlugin("its config schema is not UTF-8".into()),
    }
}

/// The bytes of an exported data symbol (at most `max` + 1 where the format gives no size), found through its
/// section in the file.
fn symbol_bytes<'d, R: ReadRef<'d>>(
    file: &object::File<'d, R>,
    name: &str,
    max: usize,
) -> Option<Result<&'d [u8], String>> {
    let matches = |symbol: &object::Symbol<'d, '_, R>| {
        // Mach-O prefixes C names with an underscore.
        symbol
            .name()
            .is_ok_and(|n| n == name || n.strip_prefix('_') == Some(name))
            && symbol.is_definition()
    };
    let symbol = file
        .dynamic_symbols()
        .find(|s| matches(s))
        .or_else(|| file.symbols().find(|s| matches(s)))?;
    Some(read_symbol(file, &symbol, max))
}

fn read_symbol<'d, R: ReadRef<'d>>(
    file: &object::File<'d, R>,
    symbol: &object::Symbol<'d, '_, R>,
    max: usize,
) -> Result<&'d [u8], String> {
    let index = symbol.section_index().ok_or("it is not in a section")?;
    let section = file.section_by_index(index).map_err(|e| e.to_string())?;
    let data = section.data().map_err(|e| e.to_string())?;
    let offset = symbol
        .address()
        .checked_sub(section.address())
        .and_then(|o| usize::try_from(o).ok())
        .ok_or("its address lies outside its section")?;
    // Formats without symbol sizes (Mach-O): read up to the NUL the manifest ends with.
    let size = match usize::try_from(symbol.size()).unwrap_or(usize::MAX) {
        0 => max + 1,
        size => size,
    };
    let end = offset.saturating_add(size).min(data.len());
    data.get(offset..end)
        .ok_or_else(|| "its address lies outside its section".to_owned())
}
