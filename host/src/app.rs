//! The application state every request handler shares, and how a slot call's outcome becomes an answer: the
//! plugin deadline, and the mapping of failures to responses (who is blamed, what is logged and counted).

use std::{ops::Deref, sync::Arc, task::Poll};

use openhost_plugin_api::{PluginError, Response, Slot, types::RResult};
use tracing::Instrument;

use crate::{
    call::CallError,
    config::{Config, Overrides},
    live::Generations,
    plugin_settings::PluginSettings,
    registry::{HostDeps, Owner, Registry},
    settings::SettingsStore,
    store::Store,
    telemetry::{CallSite, CallTimer, Telemetry, panics::PanicCounts},
    user_records::UserRecords,
    user_secrets::UserSecrets,
};

/// Everything a request handler needs.
pub struct App {
    /// As read at startup: the `[host]` keys a reload cannot change keep these values (crate::live::changes).
    pub config: Config,
    /// The command line's overrides of `config`, applied again by each reload.
    pub overrides: Overrides,
    /// Where plugin settings are saved: what a reload and the admin API read and change.
    pub plugin_settings: PluginSettings,
    /// The serving registry generation; each request takes one ([`App::serving`]).
    pub generations: Generations,
    /// What a reload lends the plugins it initialises.
    pub deps: Arc<HostDeps>,
    pub panics: PanicCounts,
    pub store: Arc<dyn Store>,
    pub settings: SettingsStore,
    pub secrets: UserRecords<UserSecrets>,
    pub http: reqwest::Client,
    pub telemetry: Arc<Telemetry>,
    /// The last `server_config` text found to be JSON: the same text again is served without parsing it again.
    pub checked_server_config: std::sync::RwLock<String>,
}

/// One request's view of the application: the app, and the registry generation the request started on, which
/// serves it to its end whatever a reload swaps in meanwhile.
pub struct Serving<'a> {
    app: &'a App,
    pub registry: Arc<Registry>,
}

impl Deref for Serving<'_> {
    type Target = App;

    fn deref(&self) -> &App {
        self.app
    }
}

impl App {
    /// The generation serving now, for one request.
    pub fn serving(&self) -> Serving<'_> {
        Serving {
            app: self,
            registry: self.generations.current(),
        }
    }

    /// Awaits `plugin`'s implementation of `slot`, giving up after `plugin_timeout_secs`: a plugin that never
    /// answers costs its caller one 504, not a stuck connection. Each call is counted and timed per plugin and
    /// slot (crate::telemetry). Most calls (every built-in middleware) finish on their first poll; those never
    /// touch the timer, nor get a span.
    pub async fn within_deadline<T>(
        &self,
        site: (&str, Slot, &CallSite),
        call: impl std::future::Future<Output = RResult<T, PluginError>>,
    ) -> Result<T, CallError> {
        // A named future, not an `async` block: the compiler cannot prove an `async` block around a borrowed call
        // `Send` for every lifetime the connection task needs.
        let call = futures_util::FutureExt::map(call, |result| result.into_result().map_err(CallError::from));
        self.timed_call(site, self.config.plugin_timeout, call).await
    }

    /// Awaits a call that fails as a [`CallError`] itself (a sandboxed guest's trap or deadline), giving up after
    /// `deadline`; counted, timed and spanned like [`App::within_deadline`].
    pub async fn timed_call<T>(
        &self,
        (plugin, slot, site): (&str, Slot, &CallSite),
        deadline: std::time::Duration,
        call: impl std::future::Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        let timer = CallTimer::start(plugin, slot, site);
        let mut call = std::pin::pin!(call);
        let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
        let result = match first {
            Poll::Ready(result) => result,
            Poll::Pending => tokio::time::timeout(deadline, call)
                .instrument(timer.span())
                .await
                .unwrap_or(Err(CallError::Timeout(deadline))),
        };
        timer.finish(&self.telemetry, &result);
        result
    }

    /// Turns a failed slot call into the response, logging and counting panics.
    pub fn failure(&self, owner: &Owner, error: CallError) -> Response {
        let who = owner.name();
        let error = match error {
            CallError::Timeout(limit) => {
                tracing::warn!(plugin = who, "plugin call timed out");
                return Response::error(
                    504,
                    "plugin_timeout",
                    &format!("no answer within {} s", limit.as_secs_f32()),
                );
            }
            CallError::Plugin(error) => error,
        };
        if let Some(response) = error.http_response() {
            return response;
        }
        match error {
            PluginError::Panicked(message) => {
                tracing::error!(plugin = who, "plugin panicked: {message}");
                self.panics.record(who);
            }
            other => tracing::error!(plugin = who, "plugin failed: {other}"),
        }
        Response::error(
            500,
            "plugin_failed",
            &format!("plugin `{who}` failed while handling this request"),
        )
    }
}
