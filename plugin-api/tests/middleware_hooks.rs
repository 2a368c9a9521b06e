//! `#[middleware]` declares the hooks an `impl Middleware` block writes (interface 1.6), and the ABI object
//! carries them to the host.

use openhost_plugin_api::{prelude::*, sdk::middleware_object};

struct RequestOnly;
#[middleware]
impl Middleware for RequestOnly {
    async fn on_request(&self, _request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        Ok(MiddlewareAction::next())
    }
}

struct Decides;
#[middleware]
impl Middleware for Decides {
    async fn decide(&self, _request: &RequestView<'_>, _body: &[u8]) -> Result<Decision, PluginError> {
        Ok(Decision::next())
    }
}

struct ResponseOnly;
#[middleware]
impl Middleware for ResponseOnly {
    fn order(&self) -> i32 {
        7
    }

    async fn on_response(
        &self,
        _request: &RequestView<'_>,
        _response: &ResponseView<'_>,
    ) -> Result<Vec<HeaderChange>, PluginError> {
        Ok(Vec::new())
    }
}

struct Both;
#[middleware]
impl Middleware for Both {
    async fn on_request(&self, _request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        Ok(MiddlewareAction::next())
    }

    async fn on_response(
        &self,
        _request: &RequestView<'_>,
        _response: &ResponseView<'_>,
    ) -> Result<Vec<HeaderChange>, PluginError> {
        Ok(Vec::new())
    }
}

/// Declared by hand: the attribute leaves it as written.
struct Explicit;
#[middleware]
impl Middleware for Explicit {
    const HOOKS: MiddlewareHooks = MiddlewareHooks::RESPONSE;

    async fn on_request(&self, _request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        Ok(MiddlewareAction::next())
    }
}

/// No attribute: both, as every plugin built before 1.6.
struct Undeclared;
impl Middleware for Undeclared {
    async fn on_request(&self, _request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        Ok(MiddlewareAction::next())
    }
}

#[test]
fn the_attribute_declares_the_hooks_the_block_writes() {
    assert_eq!(RequestOnly::HOOKS, MiddlewareHooks::REQUEST);
    assert_eq!(Decides::HOOKS, MiddlewareHooks::REQUEST);
    assert_eq!(ResponseOnly::HOOKS, MiddlewareHooks::RESPONSE);
    assert_eq!(Both::HOOKS, MiddlewareHooks::BOTH);
    assert_eq!(Explicit::HOOKS, MiddlewareHooks::RESPONSE);
    assert_eq!(Undeclared::HOOKS, MiddlewareHooks::BOTH);
}

#[test]
fn the_abi_object_carries_the_declared_hooks() {
    assert_eq!(middleware_object(RequestOnly).hooks(), MiddlewareHooks::REQUEST);
    let response_only = middleware_object(ResponseOnly);
    assert_eq!(
        (response_only.hooks(), response_only.order()),
        (MiddlewareHooks::RESPONSE, 7)
    );
    assert_eq!(middleware_object(Undeclared).hooks(), MiddlewareHooks::BOTH);
}
