//! Resolving the slots from the initialised plugins: the winner of each override slot (with
//! `[host.overrides]`), the decorators around it, the middleware chain in order, and the route table with its
//! collision check.

use std::sync::Arc;

use openhost_plugin_api::{PluginError, Slot, route_path::RoutePath, types::RResult};

use crate::{
    config::Config,
    middleware::run::RequestBuiltin,
    registry::RegistryError,
    registry::{
        Active, ChainLink, ChainParts, Hooks, LinkObject, Owner, Route, RouteTarget,
        instance::Instance,
        route_table::{RouteRefusal, RouteTable, is_admin_path},
    },
    routes::HostRoute,
    telemetry::{CallSite, RequestMetrics},
};

/// The active implementation of an override slot: the winning override (or the host's `default`), wrapped in
/// every decorator of the slot.
pub fn slot<T, D>(
    config: &Config,
    slot: Slot,
    instances: &mut [Instance],
    default: T,
    take: impl Fn(&mut Instance) -> Option<T>,
    take_decorator: impl Fn(&mut Instance) -> Option<D>,
    wrap: impl Fn(&D, T) -> RResult<T, PluginError>,
) -> Result<Active<T>, RegistryError> {
    let active = override_winner(config, slot, instances, take)?.unwrap_or_else(|| Active::host(default));
    decorate(active, slot, instances, take_decorator, wrap)
}

/// Picks the winner of an override slot among the initialised plugins that provide it.
fn override_winner<T>(
    config: &Config,
    slot: Slot,
    instances: &mut [Instance],
    take: impl Fn(&mut Instance) -> Option<T>,
) -> Result<Option<Active<T>>, RegistryError> {
    let providers: Vec<usize> = (0..instances.len())
        .filter(|&i| instances[i].provided_slots().contains(&slot))
        .collect();
    let winner = match config.overrides.get(slot.as_str()).map(String::as_str) {
        Some("host") => None,
        Some(chosen) => Some(
            providers
                .iter()
                .copied()
                .find(|&i| instances[i].name == chosen)
                .ok_or_else(|| RegistryError::OverrideUnknown {
                    slot,
                    chosen: chosen.to_owned(),
                })?,
        ),
        None => match providers.as_slice() {
            [] => None,
            [only] => Some(*only),
            [first, second, ..] => {
                return Err(RegistryError::OverrideConflict {
                    slot,
                    first: instances[*first].name.clone(),
                    second: instances[*second].name.clone(),
                });
            }
        },
    };
    Ok(winner.and_then(|i| {
        let instance = &mut instances[i];
        take(instance).map(|object| Active {
            owner: Owner::Plugin(instance.name.clone()),
            decorators: Vec::new(),
            object,
            calls: CallSite::default(),
        })
    }))
}

/// Wraps the active implementation of `slot` in each decorating plugin's, in plugin-name order (the first name
/// innermost). A plugin may not decorate a slot it also won as the override.
fn decorate<T, D>(
    mut active: Active<T>,
    slot: Slot,
    instances: &mut [Instance],
    take: impl Fn(&mut Instance) -> Option<D>,
    wrap: impl Fn(&D, T) -> RResult<T, PluginError>,
) -> Result<Active<T>, RegistryError> {
    for instance in instances.iter_mut() {
        let Some(decorator) = take(instance) else {
            continue;
        };
        if active.owner == Owner::Plugin(instance.name.clone()) {
            return Err(RegistryError::OverrideAndDecorate {
                plugin: instance.name.clone(),
                slot,
            });
        }
        active.object =
            wrap(&decorator, active.object)
                .into_result()
                .map_err(|source| RegistryError::DecorateFailed {
                    plugin: instance.name.clone(),
                    slot,
                    source: Box::new(source),
                })?;
        active.decorators.push(instance.name.clone());
        tracing::info!(plugin = %instance.name, slot = %slot, "decorating");
    }
    Ok(active)
}

/// The middleware chain: the links made before resolution and each native plugin's, by ascending order, ties
/// by name; the host's request built-ins placed among them the same way, those with no other link between them
/// as one link (crate::middleware::run).
pub fn middleware_chain(parts: ChainParts, instances: &mut [Instance]) -> Vec<ChainLink> {
    let mut links = parts.links;
    for instance in instances.iter_mut() {
        if let Some(object) = instance.middleware.take() {
            links.push(ChainLink {
                name: instance.name.clone(),
                owner: Owner::Plugin(instance.name.clone()),
                order: object.order(),
                hooks: Hooks::declared_by(&object),
                object: LinkObject::Native(object),
                calls: CallSite::default(),
                members: Vec::new(),
            });
        }
    }
    links.sort_by(|a, b| (a.order, &a.name).cmp(&(b.order, &b.name)));
    let mut requests = parts.requests;
    requests.sort_by_key(|builtin| (builtin.order(), builtin.name()));
    let mut requests = requests.into_iter().peekable();
    let mut chain = Vec::with_capacity(links.len() + 1);
    for link in links {
        // On a tie of order and name the built-in goes first, as it did when every link was sorted together.
        let before = |builtin: &RequestBuiltin| (builtin.order(), builtin.name()) <= (link.order, link.name.as_str());
        let run: Vec<RequestBuiltin> = std::iter::from_fn(|| requests.next_if(before)).collect();
        if !run.is_empty() {
            chain.push(ChainLink::run(run));
        }
        chain.push(link);
    }
    let run: Vec<RequestBuiltin> = requests.collect();
    if !run.is_empty() {
        chain.push(ChainLink::run(run));
    }
    chain
}

/// The route table: the host's routes and every plugin's, refusing collisions.
pub fn route_table(instances: &mut [Instance]) -> Result<RouteTable, RegistryError> {
    let mut table = RouteTable::default();
    for (method, path, route) in HostRoute::ALL {
        let declared = RoutePath::parse(path).map_err(|reason| RegistryError::HostRoute { path, reason })?;
        let methods = table
            .methods_mut(path)
            .map_err(|reason| RegistryError::HostRoute { path, reason })?;
        methods.insert(
            method.to_string(),
            Route {
                path: declared,
                public: route.is_public(),
                cross_site: false,
                identify: route.needs_identity(),
                target: RouteTarget::Host(*route),
                metrics: RequestMetrics::new(path),
            },
        );
    }
    for instance in instances.iter_mut() {
        let Some(handler) = instance.routes.take() else {
            continue;
        };
        let handler = Arc::new(handler);
        for (index, spec) in handler.routes().into_iter().enumerate() {
            let method = spec.method.as_str().to_owned();
            let path = spec.path.as_str().to_owned();
            let invalid = |reason: RouteRefusal| RegistryError::InvalidRoute {
                plugin: instance.name.clone(),
                method: method.clone(),
                path: path.clone(),
                reason,
            };
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(RouteRefusal::Method));
            }
            if is_admin_path(&path) {
                return Err(invalid(RouteRefusal::Admin));
            }
            // A plugin declares far fewer than 2^32 routes; `routes()` is the plugin's own list.
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let declared = RoutePath::parse(&path).map_err(|e| invalid(e.into()))?;
            let methods = table.methods_mut(&path).map_err(|e| invalid(e.into()))?;
            if let Some(existing) = methods.get(&method) {
                return Err(RegistryError::RouteCollision {
                    method,
                    path,
                    plugin: instance.name.clone(),
                    owner: match &existing.target {
                        RouteTarget::Host(_) => "the host".to_owned(),
                        RouteTarget::Plugin { owner, .. } => format!("plugin `{owner}`"),
                    },
                });
            }
            methods.insert(
                method,
                Route {
                    path: declared,
                    public: spec.is_public(),
                    cross_site: spec.accepts_cross_site(),
                    identify: !spec.is_public(),
                    metrics: RequestMetrics::new(&path),
                    target: RouteTarget::Plugin {
                        owner: instance.name.clone(),
                        handler: Arc::clone(&handler),
                        index,
                        calls: CallSite::default(),
                    },
                },
            );
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use openhost_plugin_api::{Middleware, sdk};

    use super::*;
    use crate::{middleware::builtins, origins::Origins};

    /// A middleware of another owner, placed between the rate limiter (100) and CORS (200).
    struct Between;

    #[openhost_plugin_api::middleware]
    impl Middleware for Between {
        fn order(&self) -> i32 {
            150
        }

        async fn on_request(
            &self,
            _request: &openhost_plugin_api::RequestView<'_>,
        ) -> Result<openhost_plugin_api::MiddlewareAction, PluginError> {
            Ok(openhost_plugin_api::MiddlewareAction::next())
        }
    }

    #[test]
    fn request_built_ins_run_as_one_link_only_where_nothing_sits_between_them() {
        let text = "[host]\nrate_limit_per_sec = 5\n";
        let config = Config::parse(std::path::Path::new("p.toml"), text, &Default::default()).unwrap();
        let origins = Arc::new(Origins::new(config.listen, None, None, Vec::new()));
        let builtins = builtins(&config, &origins).unwrap();
        let mut links: Vec<ChainLink> = builtins
            .responses
            .into_iter()
            .map(|(name, object)| ChainLink::host(name, object, Vec::new()))
            .collect();
        links.push(ChainLink::host("between", sdk::middleware_object(Between), Vec::new()));
        let chain = middleware_chain(
            ChainParts {
                requests: builtins.requests,
                links,
            },
            &mut [],
        );
        let links: Vec<(&str, usize)> = chain.iter().map(|l| (l.name.as_str(), l.members.len())).collect();
        assert_eq!(
            links,
            [("request-id", 3), ("between", 0), ("cors", 2), ("cache-control", 0)]
        );
        let listed: Vec<(&str, i32)> = chain.iter().flat_map(ChainLink::listed).collect();
        assert_eq!(
            listed,
            [
                ("request-id", 0),
                ("host-names", 10),
                ("rate-limit", 100),
                ("between", 150),
                ("cors", 200),
                ("cross-site", 250),
                ("cache-control", 900)
            ]
        );
    }
}
