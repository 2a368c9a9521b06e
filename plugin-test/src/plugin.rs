//! The components a plugin's `init` returned, reachable one by one, and a request sent through them as the host
//! would send it (docs/architecture.md, "Requests"): the middleware's decision and changes, the matched route,
//! the response hook.

use openhost_plugin_api::{
    export::PluginDefinition,
    route_path::RoutePath,
    sdk::{
        git_service_object, server_config_object, user_auth_object, GitServiceHandle, ServerConfigHandle,
        UserAuthHandle,
    },
    types::{ROption, RSlice},
    Decision, GitService, GitServiceObject, Identity, MiddlewareAction, MiddlewareHooks, MiddlewareObject, PluginError,
    PluginObject, RequestView, Response, ResponseView, RouteSpec, RoutesObject, ServerConfig, ServerConfigObject,
    UserAuth, UserAuthObject,
};

use crate::{block_on, host::TestHost, request::TestRequest, state};

/// A plugin started on a [`TestHost`].
pub struct Plugin {
    host: TestHost,
    middleware: Option<MiddlewareObject>,
    routes: Option<RoutesObject>,
    /// The declared routes, read, in the plugin's order (the index the host passes).
    specs: Vec<(RouteSpec, Option<RoutePath>)>,
    server_config: Option<ServerConfigObject>,
    user_auth: Option<UserAuthObject>,
    git_service: Option<GitServiceHandle>,
    plugin: PluginObject,
}

impl Plugin {
    /// Starts the plugin `P` (the type `export_plugin!` defines; see [`crate::start!`]) on `host` with `config` as its
    /// `[plugins.NAME.config]` table: `init` runs as the host runs it. An `Err` is what the host would refuse
    /// the plugin with.
    pub fn start<P: PluginDefinition>(host: &TestHost, config: serde_json::Value) -> Result<Plugin, PluginError> {
        state::capture_logs_of(host.state());
        // The SDK sets a panic hook that forwards to the host log; a test's own failures keep the usual one.
        let previous = std::panic::take_hook();
        let module = openhost_plugin_api::export::root_module::<P>();
        let started = (module.init())(host.host().services(), config.to_string().into()).into_result();
        std::panic::set_hook(previous);
        Ok(Plugin::new(host.clone(), started?))
    }

    pub(crate) fn new(host: TestHost, plugin: PluginObject) -> Plugin {
        let routes = plugin.routes().into_option();
        let specs = routes
            .as_ref()
            .map(|routes| routes.routes().into_iter().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|spec| {
                let path = RoutePath::parse(spec.path.as_str()).ok();
                (spec, path)
            })
            .collect();
        Plugin {
            host,
            middleware: plugin.middleware().into_option(),
            routes,
            specs,
            server_config: plugin.server_config().into_option(),
            user_auth: plugin.user_auth().into_option(),
            git_service: plugin.git_service().into_option().map(GitServiceHandle::new),
            plugin,
        }
    }

    /// The services the plugin was started on.
    pub fn host(&self) -> &TestHost {
        &self.host
    }

    /// The routes the plugin declared.
    pub fn routes(&self) -> Vec<RouteSpec> {
        self.specs.iter().map(|(spec, _)| spec.clone()).collect()
    }

    /// The public origins the plugin declared (`Components::public_origin`).
    pub fn public_origins(&self) -> Vec<String> {
        self.plugin.public_origins().into_iter().map(String::from).collect()
    }

    /// The hooks the plugin's middleware declares (interface 1.6), if it has one: the host calls only those,
    /// and so does [`TestPlugin::send`].
    pub fn middleware_hooks(&self) -> Option<MiddlewareHooks> {
        self.middleware.as_ref().map(|middleware| middleware.hooks())
    }

    /// Sends `request` through the plugin as the host would: its middleware decides (and may change the
    /// request), the route it then matches answers (404 if none of the plugin's does), and the middleware's
    /// response hook changes the answer's headers; each hook only if the middleware declares it. Errors become
    /// the answers the host would give.
    pub fn send(&self, mut request: TestRequest) -> Response {
        let mut added = Vec::new();
        if let Some(middleware) = &self.middleware {
            let hooks = middleware.hooks();
            let decided = if hooks.request {
                self.decide(&request)
            } else {
                Ok(Decision::next())
            };
            let Decision { action, edits } = match decided {
                Ok(decision) => decision,
                Err(error) => return answer_for(error),
            };
            match action {
                MiddlewareAction::Respond(response) => return response,
                MiddlewareAction::Continue {
                    add_response_headers,
                    identity,
                } => {
                    added.extend(add_response_headers);
                    if let ROption::RSome(identity) = identity {
                        request.identity = Some(identity);
                    }
                }
            }
            for edit in edits {
                request.apply(edit);
            }
            let mut response = self.route(request.clone()).unwrap_or_else(answer_for);
            response.headers.extend(added);
            if !hooks.response {
                return response;
            }
            let changes = request.with_view(self.flags(&request), |view| {
                let headers: Vec<_> = response
                    .headers
                    .iter()
                    .map(|h| openhost_plugin_api::HeaderView {
                        name: h.name.as_rstr(),
                        value: h.value.as_rstr(),
                    })
                    .collect();
                let seen = ResponseView {
                    status: response.status,
                    headers: RSlice::from_slice(&headers),
                    elapsed_micros: 0,
                };
                block_on(middleware.on_response(view, seen)).into_result()
            });
            match changes {
                Ok(changes) => changes.into_iter().for_each(|change| response.apply(change)),
                Err(error) => return answer_for(error),
            }
            return response;
        }
        self.route(request).unwrap_or_else(answer_for)
    }

    /// The middleware's decision about `request` (its body passed if the middleware reads bodies).
    pub fn decide(&self, request: &TestRequest) -> Result<Decision, PluginError> {
        let middleware = self.middleware.as_ref().ok_or_else(|| missing("middleware"))?;
        let body: &[u8] = if middleware.reads_body() { &request.body } else { &[] };
        request.with_view(self.flags(request), |view| {
            block_on(middleware.decide(view, RSlice::from_slice(body))).into_result()
        })
    }

    /// The answer of the route `request` matches, called directly (no middleware); a 404 `not_found` error if
    /// the plugin declares none that matches (as the host answers when no route does).
    pub fn route(&self, request: TestRequest) -> Result<Response, PluginError> {
        let not_found = || PluginError::http(404, "not_found", format!("no route for {}", request.path));
        let routes = self.routes.as_ref().ok_or_else(not_found)?;
        let index = self.matching(&request).ok_or_else(not_found)?;
        let index = u32::try_from(index).map_err(|_| missing("a route of that index"))?;
        request.with_view(self.flags(&request), |view| {
            block_on(routes.handle(index, view, RSlice::from_slice(&request.body))).into_result()
        })
    }

    /// Who the plugin's `user_auth` says `request` is for.
    pub fn identify(&self, request: &TestRequest) -> Result<Option<Identity>, PluginError> {
        let user_auth = self.user_auth.as_ref().ok_or_else(|| missing("user_auth"))?;
        request.with_view(0, |view| {
            block_on(user_auth.identify(view))
                .into_result()
                .map(ROption::into_option)
        })
    }

    /// What `POST /api/logout` would apply: the plugin's `user_auth` signs `request` out.
    pub fn sign_out(&self, request: &TestRequest) -> Result<Vec<openhost_plugin_api::HeaderChange>, PluginError> {
        let user_auth = self.user_auth.as_ref().ok_or_else(|| missing("user_auth"))?;
        let identity = request
            .identity_view()
            .ok_or_else(|| missing("an identity on the request"))?;
        request.with_view(0, |view| {
            block_on(user_auth.sign_out(view, identity))
                .into_result()
                .map(Into::into)
        })
    }

    /// The JSON of the plugin's `server_config`.
    pub fn server_config(&self) -> Result<serde_json::Value, PluginError> {
        let config = self.server_config.as_ref().ok_or_else(|| missing("server_config"))?;
        let text = block_on(config.config_json()).into_result()?;
        serde_json::from_str(&text).map_err(|e| PluginError::other(format!("server_config answered bad JSON: {e}")))
    }

    /// The plugin's `git_service`, to call as the host would.
    pub fn git_service(&self) -> Option<&GitServiceHandle> {
        self.git_service.as_ref()
    }

    /// The plugin's `server_config` decorator wrapped around `inner` (the implementation it would decorate).
    pub fn decorate_server_config(&self, inner: impl ServerConfig) -> Result<ServerConfigHandle, PluginError> {
        let decorator = self
            .plugin
            .server_config_decorator()
            .into_option()
            .ok_or_else(|| missing("a server_config decorator (or it was taken already)"))?;
        let wrapped = decorator.wrap(server_config_object(inner)).into_result()?;
        Ok(ServerConfigHandle::new(wrapped))
    }

    /// The plugin's `user_auth` decorator wrapped around `inner` (the implementation it would decorate).
    pub fn decorate_user_auth(&self, inner: impl UserAuth) -> Result<UserAuthHandle, PluginError> {
        let decorator = self
            .plugin
            .user_auth_decorator()
            .into_option()
            .ok_or_else(|| missing("a user_auth decorator (or it was taken already)"))?;
        let wrapped = decorator.wrap(user_auth_object(inner)).into_result()?;
        Ok(UserAuthHandle::new(wrapped))
    }

    /// The plugin's `git_service` decorator wrapped around `inner` (the implementation it would decorate).
    /// Call once per plugin: the host takes a decorator once.
    pub fn decorate_git_service(&self, inner: impl GitService) -> Result<GitServiceHandle, PluginError> {
        let decorator = self
            .plugin
            .git_service_decorator()
            .into_option()
            .ok_or_else(|| missing("a git_service decorator (or it was taken already)"))?;
        let wrapped: GitServiceObject = decorator.wrap(git_service_object(inner)).into_result()?;
        Ok(GitServiceHandle::new(wrapped))
    }

    /// The index of the declared route `request` matches: the most specific, as the host picks.
    fn matching(&self, request: &TestRequest) -> Option<usize> {
        self.specs
            .iter()
            .enumerate()
            .filter(|(_, (spec, path))| {
                spec.method.as_str() == request.method && path.as_ref().is_some_and(|p| p.matches(&request.path))
            })
            .min_by_key(|(_, (_, path))| path.as_ref().map(RoutePath::specificity))
            .map(|(index, _)| index)
    }

    /// The route flags the host would set: public, cross-site.
    fn flags(&self, request: &TestRequest) -> u64 {
        self.matching(request).map_or(0, |index| {
            let spec = &self.specs[index].0;
            let public = if spec.is_public() { RequestView::PUBLIC_ROUTE } else { 0 };
            let cross_site = if spec.accepts_cross_site() {
                RequestView::CROSS_SITE_ROUTE
            } else {
                0
            };
            public | cross_site
        })
    }
}

/// The answer the host gives for a plugin's error: its own HTTP answer, else 500 `plugin_failed`.
fn answer_for(error: PluginError) -> Response {
    error
        .http_response()
        .unwrap_or_else(|| Response::error(500, "plugin_failed", &format!("the plugin failed: {error}")))
}

fn missing(what: &str) -> PluginError {
    PluginError::other(format!("the plugin under test has no {what}"))
}
