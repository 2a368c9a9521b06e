//! An answer of the fake, before it becomes an HTTP response.

use serde_json::{Value, json};
use warp::http::StatusCode;

/// A fake's answer.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Answer {
    pub(super) fn json(status: StatusCode, value: Value) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json; charset=utf-8".into())],
            body: value.to_string().into_bytes(),
        }
    }

    pub(super) fn message(status: StatusCode, message: &str) -> Answer {
        Answer::json(
            status,
            json!({
                "message": message,
                "documentation_url": "https://docs.github.com/rest",
                "status": status.as_str(),
            }),
        )
    }

    pub(super) fn with_header(mut self, name: &str, value: impl Into<String>) -> Answer {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub(super) fn redirect(location: String) -> Answer {
        Answer {
            status: StatusCode::FOUND,
            headers: vec![("location".into(), location)],
            body: Vec::new(),
        }
    }
}
