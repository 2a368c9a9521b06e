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

struct Greeter {
    greeting: String,
}

impl Middleware for Greeter {
    async fn on_request(&self, _request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        Ok(MiddlewareAction::next().with_header("x-hello", &self.greeting))
    }
}

/// `GET /hello`: the greeting and who is asking.
async fn hello(greeting: String, request: Request) -> Result<Response, PluginError> {
    let user = request.identity.map(|identity| identity.login.to_string());
    tracing::info!(?user, "said hello");
    Ok(Response::json(200, &serde_json::json!({"greeting": greeting, "user": user})))
}

fn init(_host: Host, config: Config) -> Result<Components, PluginError> {
    let greeting = config.greeting.clone();
    Ok(Components::new()
        .middleware(Greeter {
            greeting: config.greeting,
        })
        .routes(Router::new().get("/hello", move |request| hello(greeting.clone(), request))))
}

export_plugin! {
    name: "hello",
    description: "Template plugin: a greeting header and GET /hello",
    provides: [Middleware, Routes],
    init: init,
}
