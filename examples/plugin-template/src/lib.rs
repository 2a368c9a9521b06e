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
        Ok(MiddlewareAction::Continue {
            add_response_headers: vec![Header::new("x-hello", &self.greeting)].into(),
            identity: None.into(),
        })
    }
}

struct HelloRoute {
    greeting: String,
}

impl Routes for HelloRoute {
    fn routes(&self) -> Vec<RouteSpec> {
        vec![RouteSpec {
            method: "GET".into(),
            path: "/hello".into(),
        }]
    }

    async fn handle(&self, request: &RequestView<'_>, _body: &[u8]) -> Result<Response, PluginError> {
        let user = request.identity.into_option().map(|identity| identity.login.to_string());
        tracing::info!(?user, "said hello");
        Ok(Response::json(200, &serde_json::json!({"greeting": self.greeting, "user": user})))
    }
}

fn init(_host: Host, config: serde_json::Value) -> Result<Components, PluginError> {
    let config: Config = serde_json::from_value(config).map_err(|e| PluginError::invalid_config(e.to_string()))?;
    Ok(Components::new()
        .middleware(Greeter {
            greeting: config.greeting.clone(),
        })
        .routes(HelloRoute {
            greeting: config.greeting,
        }))
}

export_plugin! {
    name: "hello",
    description: "Template plugin: a greeting header and GET /hello",
    provides: [Middleware, Routes],
    init: init,
}
