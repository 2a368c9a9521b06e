//! Who a request is for. Every piece of per-user state is keyed by `user_id`.

use abi_stable::{
    std_types::{RStr, RString},
    StableAbi,
};

/// Who a request is for, borrowed.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityView<'a> {
    pub user_id: RStr<'a>,
    pub login: RStr<'a>,
    pub auth_kind: RStr<'a>,
}

impl<'a> IdentityView<'a> {
    pub fn user_id(&self) -> &'a str {
        self.user_id.as_str()
    }

    pub fn login(&self) -> &'a str {
        self.login.as_str()
    }

    pub fn auth_kind(&self) -> &'a str {
        self.auth_kind.as_str()
    }

    /// An owned copy.
    pub fn to_identity(&self) -> Identity {
        Identity::new(self.user_id(), self.login(), self.auth_kind())
    }
}

/// Who a request is for, owned.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: RString,
    pub login: RString,
    pub auth_kind: RString,
}

impl Identity {
    pub fn new(user_id: &str, login: &str, auth_kind: &str) -> Self {
        Identity {
            user_id: user_id.into(),
            login: login.into(),
            auth_kind: auth_kind.into(),
        }
    }

    pub fn as_view(&self) -> IdentityView<'_> {
        IdentityView {
            user_id: self.user_id.as_rstr(),
            login: self.login.as_rstr(),
            auth_kind: self.auth_kind.as_rstr(),
        }
    }
}
