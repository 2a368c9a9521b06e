//! Applying a middleware's changes to the request before routing (interface 1.5, `Decision::edits`): the method,
//! the path and query, the headers, and (for a middleware that read it) the body. Each change is checked as HTTP
//! would check it; a change HTTP cannot carry is the middleware's failure, and the request is not half-changed
//! by it beyond the edits before it.

use http::{HeaderName, HeaderValue, Method, Uri, uri::PathAndQuery};
use openhost_plugin_api::{HeaderChange, RequestEdit};

use crate::server::context::CurrentRequest;

/// Why a middleware's change to the request cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("set the method to `{0}`, which is not an HTTP method")]
    Method(String, #[source] http::method::InvalidMethod),
    #[error("set the URI to `{0}`, which is not a path and query starting with `/`")]
    Uri(String),
    #[error("changed header `{0}`, which is not a valid header name")]
    HeaderName(String, #[source] http::header::InvalidHeaderName),
    #[error("set header `{0}` to a value HTTP cannot carry")]
    HeaderValue(String, #[source] http::header::InvalidHeaderValue),
    #[error("replaced the body without asking to read it (`reads_body`)")]
    BodyNotRead,
}

impl CurrentRequest<'_> {
    /// Applies `edit`; `reads_body` is whether the middleware making it asked for the body.
    pub fn apply(&mut self, edit: RequestEdit, reads_body: bool) -> Result<(), EditError> {
        match edit {
            RequestEdit::SetMethod(method) => {
                self.parts.method =
                    Method::from_bytes(method.as_bytes()).map_err(|e| EditError::Method(method.into_string(), e))?;
            }
            RequestEdit::SetUri(uri) => {
                let path_and_query = uri
                    .as_str()
                    .starts_with('/')
                    .then(|| PathAndQuery::try_from(uri.as_str()).ok())
                    .flatten()
                    .ok_or_else(|| EditError::Uri(uri.to_string()))?;
                let mut parts = std::mem::take(&mut self.parts.uri).into_parts();
                parts.path_and_query = Some(path_and_query);
                self.parts.uri = Uri::from_parts(parts).map_err(|_| EditError::Uri(uri.into_string()))?;
            }
            RequestEdit::Header(change) => self.change_header(change)?,
            RequestEdit::SetBody(body) => {
                if !reads_body {
                    return Err(EditError::BodyNotRead);
                }
                self.parts
                    .headers
                    .insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
                self.parts.headers.remove(http::header::TRANSFER_ENCODING);
                self.body = Some(body.into_vec());
            }
        }
        Ok(())
    }

    fn change_header(&mut self, change: HeaderChange) -> Result<(), EditError> {
        let name_of =
            |name: &str| HeaderName::from_bytes(name.as_bytes()).map_err(|e| EditError::HeaderName(name.to_owned(), e));
        let value_of = |name: &str, value: &str| {
            HeaderValue::from_str(value).map_err(|e| EditError::HeaderValue(name.to_owned(), e))
        };
        match change {
            HeaderChange::Set(header) => {
                let name = name_of(&header.name)?;
                let value = value_of(&header.name, &header.value)?;
                self.parts.headers.insert(name, value);
            }
            HeaderChange::Append(header) => {
                let name = name_of(&header.name)?;
                let value = value_of(&header.name, &header.value)?;
                self.parts.headers.append(name, value);
            }
            HeaderChange::Remove(name) => {
                self.parts.headers.remove(name_of(&name)?);
            }
        }
        Ok(())
    }
}
