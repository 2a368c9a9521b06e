//! A request a test sends to a plugin, built in one expression: the SDK's own [`Request`] (so a test reads and
//! sets the same fields a route handler sees), and the changes a middleware's decision makes to it.

use std::ops::{Deref, DerefMut};

use openhost_plugin_api::{HeaderChange, Identity, IdentityView, Request, RequestEdit, RequestView};

/// A request as the host would hand it to the plugin. Derefs to the SDK's [`Request`]: set
/// `request.peer_addr`, read `request.headers`.
#[derive(Debug, Clone)]
pub struct TestRequest(Request);

impl TestRequest {
    /// A request for `uri` (`/path?query`), from a loopback peer.
    pub fn new(method: &str, uri: &str) -> TestRequest {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        TestRequest(Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            peer_addr: "127.0.0.1:40000".to_owned(),
            ..Request::default()
        })
    }

    pub fn get(uri: &str) -> TestRequest {
        TestRequest::new("GET", uri)
    }

    pub fn post(uri: &str) -> TestRequest {
        TestRequest::new("POST", uri)
    }

    pub fn put(uri: &str) -> TestRequest {
        TestRequest::new("PUT", uri)
    }

    pub fn delete(uri: &str) -> TestRequest {
        TestRequest::new("DELETE", uri)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> TestRequest {
        self.0.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Sets a JSON body, with its content type.
    pub fn json(self, body: &serde_json::Value) -> TestRequest {
        let mut request = self.header("content-type", "application/json");
        request.0.body = body.to_string().into_bytes();
        request
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> TestRequest {
        self.0.body = body.into();
        self
    }

    /// Makes the request one for `identity`, as if a sign-in middleware had established it.
    pub fn identity(mut self, identity: Identity) -> TestRequest {
        self.0.identity = Some(identity);
        self
    }

    /// Hands the request to `read` as the borrowed view the interface passes, with the route `flags`.
    pub(crate) fn with_view<T>(&self, flags: u64, read: impl FnOnce(RequestView<'_>) -> T) -> T {
        self.0.with_view(flags, |view| read(*view))
    }

    /// The identity as the interface passes it.
    pub(crate) fn identity_view(&self) -> Option<IdentityView<'_>> {
        self.0.identity.as_ref().map(Identity::as_view)
    }

    /// Makes a middleware's change, as the host would (without HTTP's syntax checks).
    pub(crate) fn apply(&mut self, edit: RequestEdit) {
        let request = &mut self.0;
        match edit {
            RequestEdit::SetMethod(method) => request.method = method.into_string(),
            RequestEdit::SetUri(uri) => {
                let (path, query) = uri.split_once('?').unwrap_or((uri.as_str(), ""));
                (request.path, request.query) = (path.to_owned(), query.to_owned());
            }
            RequestEdit::Header(HeaderChange::Set(header)) => {
                let name = header.name.as_str().to_ascii_lowercase();
                request.headers.retain(|(n, _)| *n != name);
                request.headers.push((name, header.value.into_string()));
            }
            RequestEdit::Header(HeaderChange::Append(header)) => {
                let name = header.name.as_str().to_ascii_lowercase();
                request.headers.push((name, header.value.into_string()));
            }
            RequestEdit::Header(HeaderChange::Remove(name)) => {
                request.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_str()));
            }
            RequestEdit::SetBody(body) => request.body = body.into_vec(),
        }
    }
}

impl Deref for TestRequest {
    type Target = Request;

    fn deref(&self) -> &Request {
        &self.0
    }
}

impl DerefMut for TestRequest {
    fn deref_mut(&mut self) -> &mut Request {
        &mut self.0
    }
}
