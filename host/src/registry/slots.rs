//! Who provides an implementation of a slot, and the active implementation of an override slot with the
//! decorators around it: who is blamed for its failures and what its calls are counted under.

use openhost_plugin_api::Slot;

use crate::telemetry::CallSite;

/// Who provides an implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Host,
    Plugin(String),
}

impl Owner {
    pub fn name(&self) -> &str {
        match self {
            Owner::Host => "host",
            Owner::Plugin(name) => name,
        }
    }
}

/// The active implementation of an override slot: the owner's, wrapped by any decorators (innermost first).
pub struct Active<T> {
    pub owner: Owner,
    pub decorators: Vec<String>,
    pub object: T,
    pub calls: CallSite,
}

impl<T> Active<T> {
    pub(crate) fn host(object: T) -> Active<T> {
        Active {
            owner: Owner::Host,
            decorators: Vec::new(),
            object,
            calls: CallSite::default(),
        }
    }

    /// Who answers for a failure of the slot: the outermost decorator, else the owner.
    pub fn blame(&self) -> Owner {
        match self.decorators.last() {
            Some(name) => Owner::Plugin(name.clone()),
            None => self.owner.clone(),
        }
    }

    /// The name a call of this slot is counted under: the outermost decorator (it is called first), else the
    /// owner.
    pub fn attributed(&self) -> &str {
        self.decorators.last().map_or(self.owner.name(), String::as_str)
    }

    /// Who a call of `slot` is counted under, and where: for `App::within_deadline`.
    pub fn site(&self, slot: Slot) -> (&str, Slot, &CallSite) {
        (self.attributed(), slot, &self.calls)
    }
}
