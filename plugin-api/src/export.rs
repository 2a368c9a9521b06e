//! Turning a plugin definition into the exported root module. [`export_plugin!`](crate::export_plugin) is the
//! only thing an author writes; everything it expands to calls the generic, guarded functions here.

use abi_stable::{
    prefix_type::PrefixTypeTrait,
    std_types::{RResult, RString, RVec},
};

pub use abi_stable::library::{
    __call_root_module_loader as call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult,
};

use crate::{
    guard::guard_call, logging, Components, Host, HostServicesRef, PluginError, PluginInstance, PluginManifest,
    PluginMod, PluginModRef, Slot,
};

/// This crate's version.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// [`API_VERSION`], NUL-terminated, for the plugin declaration.
pub const API_VERSION_NUL: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The symbol abi_stable looks up for the root module. `export_name` needs a literal, so it is spelled out here
/// and a test keeps it equal to `abi_stable::library::ROOT_MODULE_LOADER_NAME`.
#[doc(hidden)]
#[macro_export]
macro_rules! __root_module_symbol {
    () => {
        "_1as_0lib_1header_0root_bmodule_bloader"
    };
}

/// What `export_plugin!` generates an implementation of.
pub trait PluginDefinition: 'static {
    const NAME: &'static str;
    const VERSION: &'static str;
    const DESCRIPTION: &'static str;
    const PROVIDES: &'static [Slot];
    const DECORATES: &'static [Slot];
    const ABI_VERSION: u32;

    fn init(host: Host, config: serde_json::Value) -> Result<Components, PluginError>;

    fn shutdown() {}
}

extern "C" fn manifest<P: PluginDefinition>() -> RResult<PluginManifest, PluginError> {
    guard_call(|| {
        Ok(PluginManifest {
            name: P::NAME.into(),
            version: P::VERSION.into(),
            abi_version: P::ABI_VERSION,
            description: P::DESCRIPTION.into(),
            provides: RVec::from(P::PROVIDES.to_vec()),
            decorates: RVec::from(P::DECORATES.to_vec()),
        })
    })
}

extern "C" fn init<P: PluginDefinition>(
    services: HostServicesRef,
    config_json: RString,
) -> RResult<PluginInstance, PluginError> {
    guard_call(|| {
        let host = Host::new(services);
        logging::install(host);
        let config = serde_json::from_str(&config_json)
            .map_err(|e| PluginError::invalid_config(format!("config is not a JSON object: {e}")))?;
        Ok(P::init(host, config)?.into_instance())
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
        manifest: manifest::<P>,
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
/// fn init(host: Host, config: serde_json::Value) -> Result<Components, PluginError> {
///     Ok(Components::new().middleware(Hello))
/// }
/// ```
///
/// `provides` lists [`Slot`](crate::Slot) variants the plugin implements (override or stack); the optional
/// `decorates` lists override slots it wraps; `shutdown: path` is optional.
#[macro_export]
macro_rules! export_plugin {
    (
        name: $name:literal,
        description: $description:literal,
        provides: [$($slot:ident),* $(,)?],
        $(decorates: [$($decorated:ident),* $(,)?],)?
        init: $init:path
        $(, shutdown: $shutdown:path)?
        $(,)?
    ) => {
        $crate::export_plugin! {
            @abi $crate::ABI_VERSION;
            name: $name, description: $description, provides: [$($slot),*], decorates: [$($($decorated),*)?],
            init: $init $(, shutdown: $shutdown)?
        }
    };
    // Not for authors: lets the host's own tests build a plugin that claims another ABI version.
    (
        @abi $abi:expr;
        name: $name:literal, description: $description:literal, provides: [$($slot:ident),*],
        decorates: [$($decorated:ident),*], init: $init:path
        $(, shutdown: $shutdown:path)?
    ) => {
        #[doc(hidden)]
        pub struct __OpenhostPlugin;

        impl $crate::export::PluginDefinition for __OpenhostPlugin {
            const NAME: &'static str = $name;
            const VERSION: &'static str = env!("CARGO_PKG_VERSION");
            const DESCRIPTION: &'static str = $description;
            const PROVIDES: &'static [$crate::Slot] = &[$($crate::Slot::$slot),*];
            const DECORATES: &'static [$crate::Slot] = &[$($crate::Slot::$decorated),*];
            const ABI_VERSION: u32 = $abi;

            fn init(
                host: $crate::Host,
                config: $crate::serde_json::Value,
            ) -> ::core::result::Result<$crate::Components, $crate::PluginError> {
                $init(host, config)
            }

            $(fn shutdown() { $shutdown() })?
        }

        #[doc(hidden)]
        #[unsafe(export_name = "openhost_plugin_declaration")]
        pub static __OPENHOST_PLUGIN_DECLARATION: $crate::PluginDeclaration = $crate::PluginDeclaration {
            abi_version: $abi,
            name: concat!($name, "\0").as_ptr(),
            api_version: $crate::export::API_VERSION_NUL.as_ptr(),
        };

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
