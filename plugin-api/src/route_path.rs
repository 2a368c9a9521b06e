//! Route paths (interface 1.5): exact (`/api/keys`), with `{name}` segments (`/api/keys/{id}`: any one non-empty
//! segment), or ending in a `*` rest (`/integrations/NAME/*`: the rest of the path, maybe empty). The one reading
//! of a declared path: the host routes with it, the SDK reads a request's parameters back with it, and the plugin
//! test kit matches with it.

/// Why a declared path cannot be a route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("a route path starts with `/`")]
    NotAbsolute,
    #[error("`*` may only be a route path's last segment")]
    RestNotLast,
    #[error("segment `{0}` is neither a literal nor a whole `{{name}}`")]
    BadParameter(String),
    #[error("parameter `{0}` appears twice")]
    DuplicateParameter(String),
}

/// One segment of a declared path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter(String),
}

/// A declared route path, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePath {
    segments: Vec<Segment>,
    /// Ends in `*`.
    rest: bool,
}

/// The name [`RoutePath::params`] gives the rest of a path ending in `*`.
pub const REST: &str = "*";

impl RoutePath {
    /// Reads a declared path.
    pub fn parse(path: &str) -> Result<RoutePath, PathError> {
        let Some(inner) = path.strip_prefix('/') else {
            return Err(PathError::NotAbsolute);
        };
        let parts: Vec<&str> = inner.split('/').collect();
        let mut segments = Vec::new();
        let mut rest = false;
        for (position, part) in parts.iter().enumerate() {
            if *part == REST {
                if position + 1 != parts.len() {
                    return Err(PathError::RestNotLast);
                }
                rest = true;
            } else if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !valid {
                    return Err(PathError::BadParameter((*part).to_owned()));
                }
                if segments.contains(&Segment::Parameter(name.to_owned())) {
                    return Err(PathError::DuplicateParameter(name.to_owned()));
                }
                segments.push(Segment::Parameter(name.to_owned()));
            } else if part.contains(['{', '}', '*']) {
                return Err(PathError::BadParameter((*part).to_owned()));
            } else {
                segments.push(Segment::Literal((*part).to_owned()));
            }
        }
        Ok(RoutePath { segments, rest })
    }

    /// Whether the path is matched by equality alone: no parameter, no rest.
    pub fn is_exact(&self) -> bool {
        !self.rest && self.segments.iter().all(|s| matches!(s, Segment::Literal(_)))
    }

    /// Whether `path` (starting with `/`) is one this declaration matches.
    pub fn matches(&self, path: &str) -> bool {
        self.walk(path, |_, _| ()).is_some()
    }

    /// The parameters of `path` under this declaration, `{name}` segments by name and the rest as [`REST`];
    /// `None` if it does not match.
    pub fn params(&self, path: &str) -> Option<Vec<(String, String)>> {
        let mut params = Vec::new();
        let rest = self.walk(path, |name, value| params.push((name.to_owned(), value.to_owned())))?;
        if let Some(rest) = rest {
            params.push((REST.to_owned(), rest.to_owned()));
        }
        Some(params)
    }

    /// Matches `path` segment by segment, handing each parameter to `found`: `None` if it does not match, else
    /// the rest (`Some` for a declaration ending in `*`).
    fn walk<'p>(&self, path: &'p str, mut found: impl FnMut(&str, &'p str)) -> Option<Option<&'p str>> {
        let mut remaining = path.strip_prefix('/').unwrap_or(path);
        let mut ended = false;
        for segment in &self.segments {
            if ended {
                return None;
            }
            let (part, after) = match remaining.split_once('/') {
                Some((part, after)) => (part, after),
                None => {
                    ended = true;
                    (remaining, "")
                }
            };
            match segment {
                Segment::Literal(literal) if part == literal => {}
                Segment::Parameter(name) if !part.is_empty() => found(name, part),
                _ => return None,
            }
            remaining = after;
        }
        if self.rest {
            return Some(Some(remaining));
        }
        (ended || self.segments.is_empty() && remaining.is_empty()).then_some(None)
    }

    /// Orders declarations the most specific first: no rest before a rest, more segments before fewer, then
    /// segment by segment a literal before a parameter.
    pub fn specificity(&self) -> impl Ord + use<> {
        let ranks: Vec<u8> = self
            .segments
            .iter()
            .map(|s| u8::from(matches!(s, Segment::Parameter(_))))
            .collect();
        (self.rest, std::cmp::Reverse(self.segments.len()), ranks)
    }

    /// The shape two declarations collide on: parameter names do not matter (`/a/{x}` is `/a/{y}`).
    pub fn shape(&self) -> String {
        let mut shape = String::new();
        for segment in &self.segments {
            shape.push('/');
            match segment {
                Segment::Literal(literal) => shape.push_str(literal),
                Segment::Parameter(_) => shape.push_str("{}"),
            }
        }
        if self.rest {
            shape.push_str("/*");
        }
        shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(declared: &str, path: &str) -> Option<Vec<(String, String)>> {
        RoutePath::parse(declared).unwrap().params(path)
    }

    fn pairs(list: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn parameters_and_the_rest_are_read_from_a_matching_path() {
        assert_eq!(params("/api/notes/{id}", "/api/notes/7"), pairs(&[("id", "7")]));
        assert_eq!(params("/a/{x}/b/{y}", "/a/1/b/2"), pairs(&[("x", "1"), ("y", "2")]));
        assert_eq!(
            params("/integrations/x/*", "/integrations/x/a/b"),
            pairs(&[("*", "a/b")])
        );
        assert_eq!(params("/integrations/x/*", "/integrations/x/"), pairs(&[("*", "")]));
        assert_eq!(params("/integrations/x/*", "/integrations/x"), pairs(&[("*", "")]));
        assert_eq!(
            params("/i/{name}/*", "/i/n/deep/er"),
            pairs(&[("name", "n"), ("*", "deep/er")])
        );
        assert_eq!(params("/exact", "/exact"), pairs(&[]));
        assert_eq!(params("/", "/"), pairs(&[]));
    }

    #[test]
    fn paths_that_do_not_line_up_do_not_match() {
        assert_eq!(params("/api/notes/{id}", "/api/notes/"), None);
        assert_eq!(params("/api/notes/{id}", "/api/notes/7/8"), None);
        assert_eq!(params("/api/notes/{id}", "/api/notes"), None);
        assert_eq!(params("/integrations/x/*", "/integrations/xy"), None);
        assert_eq!(params("/exact", "/exact/"), None);
    }

    #[test]
    fn malformed_declarations_are_refused() {
        assert_eq!(RoutePath::parse("a"), Err(PathError::NotAbsolute));
        assert_eq!(RoutePath::parse("/a/*/b"), Err(PathError::RestNotLast));
        assert_eq!(RoutePath::parse("/a/x{y}"), Err(PathError::BadParameter("x{y}".into())));
        assert_eq!(RoutePath::parse("/a/{}"), Err(PathError::BadParameter("{}".into())));
        assert_eq!(
            RoutePath::parse("/a/{x}/{x}"),
            Err(PathError::DuplicateParameter("x".into()))
        );
        assert!(RoutePath::parse("/a/b").unwrap().is_exact());
        assert!(!RoutePath::parse("/a/{b}").unwrap().is_exact());
    }
}
