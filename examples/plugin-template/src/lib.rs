//! A minimal openhost plugin: a middleware that adds a greeting header to every response, and a route
//! `GET /hello` that answers with the greeting and who is asking. Copy this crate to start your own.
//!
//! ```toml
//! [plugins.hello.config]
//! greeting = "hello from my plugin"
//! ```

use openhost_plugin_api::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_greeting")]
    greeting: String,
}

fn default_greeting() -> String {
    "hello".to_owned()
}

#[derive(Clone)]
struct Greeter {
    greeting: String,
}

#[middleware]
impl Middleware for Greeter {
    async fn on_request(&self, _request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        Ok(MiddlewareAction::next().with_header("x-hello", &self.greeting))
    }
}

/// `GET /hello`: the greeting and who is asking.
async fn hello(greeter: &Greeter, request: Request) -> Result<Response, PluginError> {
    let user = request.identity.map(|identity| identity.login.to_string());
    tracing::info!(?user, "said hello");
    Ok(Response::json(200, &serde_json::json!({"greeting": greeter.greeting, "user": user})))
}

fn init(_host: Host, config: Config) -> Result<Components, PluginError> {
    let greeter = Greeter {
        greeting: config.greeting,
    };
    Ok(Components::new()
        .middleware(greeter.clone())
        .routes(Router::with_state(greeter).get("/hello", hello)))
}

export_plugin! {
    name: "hello",
    description: "Template plugin: a greeting header and GET /hello",
    provides: [Middleware, Routes],
    init: init,
}

#[cfg(test)]
mod tests;
