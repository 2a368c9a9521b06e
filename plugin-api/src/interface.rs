//! The plugin interface version: `major.minor`, and the rule for which plugins a host accepts.
//!
//! A host of interface `M.n` loads a plugin built for `M.k` with `k <= n`: a newer minor only *adds* (methods at
//! the end of slot traits, fields at the end of prefix types, new host services, new slots), so everything an
//! older plugin was built against is still there, and what it lacks reads as a default. A plugin built for a newer
//! minor may call what this host lacks, and a plugin of another major speaks another interface: both are refused
//! in one line that says which side to upgrade (docs/plugin-interface.md).

/// The interface major this crate speaks. A change that cannot be made by adding is a new major.
pub const INTERFACE_MAJOR: u32 = 1;
/// The interface minor this crate speaks: bumped by every release that adds to the interface.
pub const INTERFACE_MINOR: u32 = 6;

/// The interface this crate speaks, as written in manifests: `"1.6"`. A macro so that `concat!` can use it.
#[doc(hidden)]
#[macro_export]
macro_rules! __interface_version {
    () => {
        "1.6"
    };
}

/// An interface version, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InterfaceVersion {
    pub major: u32,
    pub minor: u32,
}

impl InterfaceVersion {
    /// The version this crate speaks.
    pub const CURRENT: InterfaceVersion = InterfaceVersion {
        major: INTERFACE_MAJOR,
        minor: INTERFACE_MINOR,
    };

    /// Parses `"1.4"`.
    pub fn parse(text: &str) -> Option<InterfaceVersion> {
        let (major, minor) = text.trim().split_once('.')?;
        let number = |part: &str| {
            part.parse::<u32>()
                .ok()
                .filter(|_| part.bytes().all(|b| b.is_ascii_digit()))
        };
        Some(InterfaceVersion {
            major: number(major)?,
            minor: number(minor)?,
        })
    }

    /// Whether a host speaking `self` can load a plugin built for `plugin`: same major, plugin minor <= ours.
    pub fn accepts(self, plugin: InterfaceVersion) -> Result<(), Incompatible> {
        if plugin.major != self.major {
            return Err(Incompatible::Major { host: self, plugin });
        }
        if plugin.minor > self.minor {
            return Err(Incompatible::NewerMinor { host: self, plugin });
        }
        Ok(())
    }
}

impl std::fmt::Display for InterfaceVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Why a host refuses a plugin's interface version. The text names the plugin in the caller's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Incompatible {
    /// The plugin needs what this host does not have yet.
    #[error(
        "needs plugin interface {plugin}, this host provides {host}: upgrade openhost (or build the plugin against \
         openhost-plugin-api {}.{})",
        host.major,
        host.minor
    )]
    NewerMinor {
        host: InterfaceVersion,
        plugin: InterfaceVersion,
    },
    /// Another major: the two sides speak different interfaces.
    #[error(
        "was built for plugin interface {plugin}, this host provides {host}: rebuild the plugin against \
         openhost-plugin-api {}.x",
        host.major
    )]
    Major {
        host: InterfaceVersion,
        plugin: InterfaceVersion,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_loads_its_major_up_to_its_minor() {
        let host = InterfaceVersion { major: 1, minor: 3 };
        let v = |text| InterfaceVersion::parse(text).unwrap();
        assert!(host.accepts(v("1.0")).is_ok());
        assert!(host.accepts(v("1.3")).is_ok());
        let newer = host.accepts(v("1.4")).unwrap_err();
        assert_eq!(
            newer.to_string(),
            "needs plugin interface 1.4, this host provides 1.3: upgrade openhost (or build the plugin against \
             openhost-plugin-api 1.3)"
        );
        assert!(matches!(host.accepts(v("2.0")), Err(Incompatible::Major { .. })));
        assert!(matches!(host.accepts(v("0.9")), Err(Incompatible::Major { .. })));
        assert_eq!(InterfaceVersion::parse("1.x"), None);
        assert_eq!(InterfaceVersion::parse("+1.2"), None);
        assert_eq!(crate::__interface_version!(), InterfaceVersion::CURRENT.to_string());
    }
}
