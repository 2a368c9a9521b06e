//! `Cache-Control: no-store` on every `/api/*` response: they are per-user and may carry settings.

use openhost_plugin_api::{Header, HeaderChange, Middleware, PluginError, RequestView, ResponseView, order};

pub struct CacheControl;

#[openhost_plugin_api::middleware]
impl Middleware for CacheControl {
    fn order(&self) -> i32 {
        order::CACHE_CONTROL
    }

    async fn on_response(
        &self,
        request: &RequestView<'_>,
        _response: &ResponseView<'_>,
    ) -> Result<Vec<HeaderChange>, PluginError> {
        if request.path().starts_with("/api/") {
            Ok(vec![HeaderChange::Set(Header::new("cache-control", "no-store"))])
        } else {
            Ok(Vec::new())
        }
    }
}
