//! The one error type that crosses the plugin boundary.

use abi_stable::{
    std_types::{RString, RVec},
    StableAbi,
};

use crate::{Header, Response};

/// What a plugin call can fail with. It is `#[repr(u8)]` and ABI-stable: the host turns each variant into a log
/// line and, on request paths, into an HTTP error `{"error", "code"}`.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The plugin panicked; the SDK caught it inside the plugin before it could reach the boundary.
    #[error("plugin panicked: {0}")]
    Panicked(RString),
    /// The configuration handed to `init` is missing a key or has a bad value.
    #[error("invalid plugin config: {0}")]
    InvalidConfig(RString),
    /// A deliberate HTTP answer: the host sends `status` with `{"error": message, "code": code}` and `headers`
    /// (e.g. `retry-after`).
    #[error("{message}")]
    Http {
        status: u16,
        code: RString,
        message: RString,
        headers: RVec<Header>,
    },
    /// A host service (key-value store, outbound HTTP) failed.
    #[error("host service failed: {0}")]
    Host(RString),
    /// Anything else, as a human sentence.
    #[error("{0}")]
    Other(RString),
}

impl PluginError {
    /// A deliberate HTTP error answer.
    pub fn http(status: u16, code: &str, message: impl Into<String>) -> Self {
        PluginError::Http {
            status,
            code: code.into(),
            message: RString::from(message.into()),
            headers: RVec::new(),
        }
    }

    /// An invalid-configuration error naming what is wrong.
    pub fn invalid_config(message: impl Into<String>) -> Self {
        PluginError::InvalidConfig(RString::from(message.into()))
    }

    /// The answer a deliberate [`PluginError::Http`] asks for: `{"error", "code"}` with its headers. `None` for
    /// every other variant, and for a status outside 400..=599, which are the host's to answer (500).
    pub fn http_response(&self) -> Option<Response> {
        match self {
            PluginError::Http {
                status,
                code,
                message,
                headers,
            } if (400..=599).contains(status) => {
                let mut response = Response::error(*status, code.as_str(), message.as_str());
                response.headers.extend(headers.iter().cloned());
                Some(response)
            }
            _ => None,
        }
    }

    /// A free-form failure.
    pub fn other(message: impl Into<String>) -> Self {
        PluginError::Other(RString::from(message.into()))
    }
}
