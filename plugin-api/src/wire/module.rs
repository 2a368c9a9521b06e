//! The root module every plugin library exports: frozen for the whole of interface 1.x.
//!
//! abi_stable compares two things of a root module when it loads a library: its version string and its layout.
//! Its version rule lets a *loader* with a lower minor load a *library* with a higher one, the reverse of what a
//! plugin host needs, and a host whose root module has more fields than a plugin's refuses the plugin. So both
//! stay fixed for the major: the version string is always `1.0.0`, the fields are `init` and `shutdown`, and the
//! interface minor lives in our own manifest (`crate::manifest`). Growth goes into [`crate::wire::slots`] (methods
//! appended to sabi traits) and [`crate::HostServices`] (fields appended to a prefix type).

use abi_stable::{
    declare_root_module_statics, library::RootModule, sabi_types::VersionStrings, std_types::RResult, StableAbi,
};

use crate::{host::HostServicesRef, wire::slots::PluginObject, PluginError};

/// The root module.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// `config_json` is the plugin's `[plugins.NAME.config]` table as JSON, `${VAR}`s already replaced.
    pub init: extern "C" fn(
        host: HostServicesRef,
        config_json: abi_stable::std_types::RString,
    ) -> RResult<PluginObject, PluginError>,
    /// Called once when the host retires the plugin's instance (on stop, or after a reload drained it).
    #[sabi(last_prefix_field)]
    pub shutdown: extern "C" fn(),
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "openhost_plugin";
    const NAME: &'static str = "openhost_plugin";
    // Frozen for the major: see the module docs.
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("1.0.0");
}
