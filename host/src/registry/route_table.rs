//! The route table: the host's routes and every plugin's, in one shape, and how a request's method and path find
//! one (docs/architecture.md, "Requests").
//!
//! A declared path is read by `RoutePath` (the interface crate's one reading of route paths): exact, with
//! `{name}` segments, or ending in a `*` rest. Exact paths are found in a map; the few paths with parameters are
//! tried after it, the most specific first (literal before `{name}` before `*`, longer before shorter), so a
//! request finds the same route whatever order plugins declared theirs in.

use std::collections::{BTreeMap, HashMap};

use openhost_plugin_api::route_path::{PathError, RoutePath};

use std::sync::Arc;

use openhost_plugin_api::RoutesObject;

use crate::{routes::HostRoute, telemetry::CallSite};

/// What serves a route.
pub enum RouteTarget {
    Host(HostRoute),
    /// `routes()[index]` of a plugin's routes object.
    Plugin {
        owner: String,
        handler: Arc<RoutesObject>,
        index: u32,
        calls: CallSite,
    },
}

/// A route and whether it needs no sign-in.
pub struct Route {
    pub target: RouteTarget,
    /// Its path as declared, which names its parameters (`/api/secrets/{id}`).
    pub path: RoutePath,
    pub public: bool,
    /// Accepts unsafe requests from other sites (a plugin's webhook).
    pub cross_site: bool,
    /// The route needs to know who the request is for: when no middleware said, the pipeline asks `user_auth`
    /// before the route runs.
    pub identify: bool,
    /// Its requests' counts and durations, labelled with its path as declared (`/api/secrets/{id}`).
    pub metrics: crate::telemetry::RequestMetrics,
}

/// Method -> route, for one declared path.
pub type Methods = BTreeMap<String, Route>;

/// Why a plugin's route declaration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteRefusal {
    #[error("a route's method is an upper-case token")]
    Method,
    /// A page on the public listener at the admin console's address would look like the console to an operator
    /// (and could ask for an admin token), so no plugin serves one.
    #[error("`/admin` and the paths under it are the admin console's (docs/operating.md, \"Admin API\")")]
    Admin,
    #[error(transparent)]
    Path(#[from] PathError),
}

/// Whether a declared path is the admin console's: `/admin` or a path whose first segment is `admin` (any
/// letter case: a browser may be sent to `/ADMIN/`). A pattern whose first segment is a parameter is not
/// refused: it names a shape such as `/{owner}/{repo}`, not the console.
pub fn is_admin_path(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    first.eq_ignore_ascii_case("admin")
}

/// Every route of one registry generation.
#[derive(Default)]
pub struct RouteTable {
    exact: HashMap<String, Methods>,
    /// (pattern, declared path, methods), the most specific first.
    patterns: Vec<(RoutePath, String, Methods)>,
}

impl RouteTable {
    /// The routes of `path` (as declared) to add to: refused if the path is not one, or if another declaration
    /// of the same shape (`/a/{x}` and `/a/{y}`) is already here under another spelling.
    pub fn methods_mut(&mut self, path: &str) -> Result<&mut Methods, PathError> {
        let pattern = RoutePath::parse(path)?;
        if pattern.is_exact() {
            return Ok(self.exact.entry(path.to_owned()).or_default());
        }
        let shape = pattern.shape();
        let position = match self.patterns.iter().position(|(p, _, _)| p.shape() == shape) {
            Some(position) => position,
            None => {
                let key = pattern.specificity();
                let position = self.patterns.partition_point(|(p, _, _)| p.specificity() <= key);
                self.patterns
                    .insert(position, (pattern, path.to_owned(), Methods::new()));
                position
            }
        };
        Ok(&mut self.patterns[position].2)
    }

    /// The route for a method and path: `Ok(route)`, or `Err` with the methods the path allows (empty: no
    /// such path). The exact path is tried first, then the patterns, the most specific first; the first that
    /// has the method serves.
    pub fn find(&self, method: &str, path: &str) -> Result<&Route, Vec<&str>> {
        let exact = self.exact.get(path);
        if let Some(route) = exact.and_then(|methods| methods.get(method)) {
            return Ok(route);
        }
        let mut matching = self
            .patterns
            .iter()
            .filter(|(pattern, _, _)| pattern.matches(path))
            .map(|(_, _, methods)| methods);
        if let Some(route) = matching.clone().find_map(|methods| methods.get(method)) {
            return Ok(route);
        }
        let mut allowed: Vec<&str> = exact
            .into_iter()
            .chain(&mut matching)
            .flat_map(|methods| methods.keys().map(String::as_str))
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        Err(allowed)
    }

    /// Every route as (declared path, method, route): exact paths in order, then the patterns.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &Route)> {
        let mut exact: Vec<(&String, &Methods)> = self.exact.iter().collect();
        exact.sort_by_key(|(path, _)| *path);
        exact
            .into_iter()
            .chain(self.patterns.iter().map(|(_, path, methods)| (path, methods)))
            .flat_map(|(path, methods)| {
                methods
                    .iter()
                    .map(move |(method, route)| (path.as_str(), method.as_str(), route))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{registry::RouteTarget, routes::HostRoute, telemetry::RequestMetrics};

    #[test]
    fn the_admin_consoles_paths_are_told_apart() {
        for path in ["/admin", "/admin/", "/admin/api/plugins", "/Admin/x", "/admin/{rest}"] {
            assert!(is_admin_path(path), "{path}");
        }
        for path in ["/", "/administrator", "/api/admin", "/{owner}/{repo}", "/adminx/y"] {
            assert!(!is_admin_path(path), "{path}");
        }
    }

    fn route(path: &str, tag: HostRoute) -> Route {
        Route {
            target: RouteTarget::Host(tag),
            path: RoutePath::parse(path).unwrap(),
            public: false,
            cross_site: false,
            identify: false,
            metrics: RequestMetrics::new("/"),
        }
    }

    fn served(table: &RouteTable, method: &str, path: &str) -> Option<HostRoute> {
        match table.find(method, path).ok()?.target {
            RouteTarget::Host(tag) => Some(tag),
            RouteTarget::Plugin { .. } => None,
        }
    }

    #[test]
    fn exact_before_parameter_before_rest_whatever_the_order_declared() {
        let mut table = RouteTable::default();
        let declared = [
            ("/integrations/x/*", HostRoute::Healthz),
            ("/integrations/x/{item}", HostRoute::Plugins),
            ("/integrations/x/list", HostRoute::OptionsConfig),
            ("/integrations/*", HostRoute::Logout),
        ];
        for (path, tag) in declared {
            table.methods_mut(path).unwrap().insert("GET".into(), route(path, tag));
        }
        assert_eq!(
            served(&table, "GET", "/integrations/x/list"),
            Some(HostRoute::OptionsConfig)
        );
        assert_eq!(served(&table, "GET", "/integrations/x/7"), Some(HostRoute::Plugins));
        assert_eq!(
            served(&table, "GET", "/integrations/x/7/deeper"),
            Some(HostRoute::Healthz)
        );
        assert_eq!(served(&table, "GET", "/integrations/x/"), Some(HostRoute::Healthz));
        assert_eq!(served(&table, "GET", "/integrations/x"), Some(HostRoute::Healthz));
        assert_eq!(served(&table, "GET", "/integrations/y/z"), Some(HostRoute::Logout));
        assert_eq!(served(&table, "GET", "/elsewhere"), None);
        assert_eq!(table.find("POST", "/integrations/x/7").err(), Some(vec!["GET"]));
        assert_eq!(table.find("GET", "/nothing").err(), Some(vec![]));
    }

    #[test]
    fn a_parameter_matches_one_non_empty_segment() {
        let mut table = RouteTable::default();
        table
            .methods_mut("/api/secrets/{id}")
            .unwrap()
            .insert("PUT".into(), route("/api/secrets/{id}", HostRoute::UpdateSecret));
        assert_eq!(served(&table, "PUT", "/api/secrets/a"), Some(HostRoute::UpdateSecret));
        let found = table.find("PUT", "/api/secrets/a").ok().unwrap();
        assert_eq!(
            found.path.params("/api/secrets/a"),
            Some(vec![("id".into(), "a".into())])
        );
        assert_eq!(served(&table, "PUT", "/api/secrets/"), None);
        assert_eq!(served(&table, "PUT", "/api/secrets/a/b"), None);
    }

    #[test]
    fn declarations_of_one_shape_share_their_methods() {
        let mut table = RouteTable::default();
        table
            .methods_mut("/a/{x}")
            .unwrap()
            .insert("GET".into(), route("/a/{x}", HostRoute::Healthz));
        assert!(table.methods_mut("/a/{y}").unwrap().contains_key("GET"));
        assert!(!table.methods_mut("/a/{y}/*").unwrap().contains_key("GET"));
    }
}
