//! `X-Request-Id` on every response: the client's, if it is well-formed, else a fresh random one.

use openhost_plugin_api::{Header, Middleware, MiddlewareAction, PluginError, RequestView};
use ring::rand::{SecureRandom, SystemRandom};

pub const HEADER: &str = "x-request-id";
const ORDER: i32 = 0;

pub struct RequestId;

/// 1 to 128 characters of letters, digits, `-`, `_`, `.`: safe to echo and to log.
fn is_well_formed(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

fn fresh_id() -> Result<String, PluginError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PluginError::other("the system random number generator failed"))?;
    Ok(hex::encode(bytes))
}

impl Middleware for RequestId {
    fn order(&self) -> i32 {
        ORDER
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        let id = match request.header(HEADER).filter(|id| is_well_formed(id)) {
            Some(id) => id.to_owned(),
            None => fresh_id()?,
        };
        Ok(MiddlewareAction::Continue {
            add_response_headers: vec![Header::new(HEADER, &id)].into(),
            identity: None.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepts_only_plain_ids() {
        assert!(super::is_well_formed("4f7c2a0e-1b7d.x_y"));
        assert!(!super::is_well_formed(""));
        assert!(!super::is_well_formed("a b"));
        assert!(!super::is_well_formed("x\r\nset-cookie: y"));
        assert!(!super::is_well_formed(&"a".repeat(129)));
    }
}
