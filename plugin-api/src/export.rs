//! Turning a plugin definition into what the library exports: the manifest (data) and the root module (code).
//! [`export_plugin!`](crate::export_plugin) is the only thing an author writes; everything it expands to calls
//! the generic, guarded functions here.

use abi_stable::{prefix_type::PrefixTypeTrait, std_types::RString};

pub use abi_stable::library::{
    __call_root_module_loader as call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult,
};

use crate::{
    guard::guard_call, logging, wire::module::PluginMod, wire::slots::PluginObject, Components, Host, HostServicesRef,
    PluginError, PluginModRef,
};

/// This crate's version.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The symbol abi_stable looks up for the root module. `export_name` needs a literal, so it is spelled out here
/// and a test keeps it equal to `abi_stable::library::ROOT_MODULE_LOADER_NAME`.
#[doc(hidden)]
#[macro_export]
macro_rules! __root_module_symbol {
    () => {
        "_1as_0lib_1header_0root_bmodule_bloader"
    };
}

/// This crate's version as a literal, for the manifest `concat!` (a test keeps it equal to [`API_VERSION`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __sdk_version {
    () => {
        "1.6.0"
    };
}

/// What `export_plugin!` generates an implementation of.
pub trait PluginDefinition: 'static {
    /// Builds the components from the host and the plugin's config table (JSON text).
    fn init(host: Host, config_json: &str) -> Result<Components, PluginError>;

    fn shutdown() {}
}

extern "C" fn init<P: PluginDefinition>(
    services: HostServicesRef,
    config_json: RString,
) -> abi_stable::std_types::RResult<PluginObject, PluginError> {
    guard_call(|| {
        let host = Host::new(services);
        logging::install(host);
        Ok(P::init(host, &config_json)?.into_object())
    })
}

extern "C" fn shutdown<P: PluginDefinition>() {
    let _ = guard_call(|| {
        P::shutdown();
        Ok(())
    });
}

/// Builds the root module of plugin `P`.
pub fn root_module<P: PluginDefinition>() -> PluginModRef {
    PluginMod {
        init: init::<P>,
        shutdown: shutdown::<P>,
    }
    .leak_into_prefix()
}

/// Exports a plugin from a `cdylib` crate.
///
/// ```ignore
/// openhost_plugin_api::export_plugin! {
///     name: "hello",
///     description: "Adds a greeting header",
///     provides: [Middleware],
///     init: init,
/// }
///
/// #[derive(serde::Deserialize)]
/// struct Config { greeting: String }
///
/// fn init(host: Host, config: Config) -> Result<Components, PluginError> {
///     Ok(Components::new().middleware(Hello(config.greeting)))
/// }
/// ```
///
/// `provides` lists [`Slot`](crate::Slot) variants the plugin fills (override or stack); the optional
/// `decorates` lists override slots it wraps; the optional `config_schema` is the JSON Schema of the config
/// table (a `&'static str`, usually `include_str!("../config.schema.json")`): the host checks the config
/// against it before `init` and shows it to operators; `shutdown: path` is optional. `init`'s second parameter is any
/// `serde::Deserialize` type (`serde_json::Value` for the raw table); a table that does not fit is refused with
/// the key named. The name and description are checked when the plugin is compiled.
#[macro_export]
macro_rules! export_plugin {
    (
        name: $name:literal,
        description: $description:literal,
        provides: [$($slot:ident),* $(,)?],
        $(decorates: [$($decorated:ident),* $(,)?],)?
        $(config_schema: $schema:expr,)?
        init: $init:path
        $(, shutdown: $shutdown:path)?
        $(,)?
    ) => {
        $crate::export_plugin! {
            @interface $crate::__interface_version!();
            name: $name, description: $description, provides: [$($slot),*], decorates: [$($($decorated),*)?],
            $(config_schema: $schema,)? init: $init $(, shutdown: $shutdown)?
        }
    };
    // Not for authors: lets the host's own tests build a plugin that claims another interface version.
    (
        @interface $interface:expr;
        name: $name:literal, description: $description:literal, provides: [$($slot:ident),*],
        decorates: [$($decorated:ident),*], $(config_schema: $schema:expr,)? init: $init:path
        $(, shutdown: $shutdown:path)?
    ) => {
        const _: () = $crate::manifest::check_declaration($name, $description);
        $(const _: $crate::Slot = $crate::Slot::$slot;)*
        $(const _: $crate::Slot = $crate::Slot::$decorated;)*

        #[doc(hidden)]
        const __OPENHOST_MANIFEST_TEXT: &str = concat!(
            "openhost-plugin-manifest 1\nname ", $name,
            "\nversion ", env!("CARGO_PKG_VERSION"),
            "\ninterface ", $interface,
            "\nsdk ", $crate::__sdk_version!(),
            "\ndescription ", $description,
            "\nprovides", $(" ", stringify!($slot),)*
            "\ndecorates", $(" ", stringify!($decorated),)*
            // The NUL ends the manifest for readers of formats whose symbols carry no size.
            "\n\0"
        );

        /// The manifest, as data: the host reads it from the file without running anything.
        #[doc(hidden)]
        #[unsafe(export_name = "openhost_plugin_manifest")]
        pub static __OPENHOST_MANIFEST: [u8; __OPENHOST_MANIFEST_TEXT.len()] =
            $crate::manifest::to_bytes(__OPENHOST_MANIFEST_TEXT);

        $(
            #[doc(hidden)]
            const __OPENHOST_CONFIG_SCHEMA_TEXT: &str = $schema;
            const _: () = $crate::manifest::check_config_schema(__OPENHOST_CONFIG_SCHEMA_TEXT);
            /// The JSON Schema of the config, as data, NUL-terminated: read like the manifest.
            #[doc(hidden)]
            #[unsafe(export_name = "openhost_plugin_config_schema")]
            pub static __OPENHOST_CONFIG_SCHEMA: [u8; __OPENHOST_CONFIG_SCHEMA_TEXT.len() + 1] =
                $crate::manifest::to_bytes_with_nul(__OPENHOST_CONFIG_SCHEMA_TEXT);
        )?

        #[doc(hidden)]
        pub struct __OpenhostPlugin;

        impl $crate::export::PluginDefinition for __OpenhostPlugin {
            fn init(
                host: $crate::Host,
                config_json: &str,
            ) -> ::core::result::Result<$crate::Components, $crate::PluginError> {
                $init(host, $crate::sdk::config::from_json(config_json)?)
            }

            $(fn shutdown() { $shutdown() })?
        }

        #[doc(hidden)]
        #[unsafe(export_name = $crate::__root_module_symbol!())]
        pub static __OPENHOST_ROOT_MODULE: $crate::export::LibHeader = {
            extern "C" fn load_root_module() -> $crate::export::RootModuleResult {
                $crate::export::call_root_module_loader(|| $crate::export::root_module::<__OpenhostPlugin>())
            }
            // SAFETY: `load_root_module` returns the root module of type `PluginModRef`, as declared.
            unsafe {
                $crate::export::LibHeader::from_constructor::<$crate::PluginModRef>(
                    load_root_module,
                    $crate::export::CheckTypeLayout::Yes,
                )
            }
        };
    };
}
