//! The host's own routes (docs/architecture.md, "HTTP API"). Routes ask `user_auth` who the request is for and
//! `git_service` for data *for that identity*; no route reads a token itself.

mod git;
mod providers;
mod secrets;

use openhost_plugin_api::{Header, Identity, PluginError, RequestView, Response, Slot};
use serde_json::{Map, Value, json};

use crate::{
    app::Serving,
    call::CallError,
    registry::Owner,
    routes::{HostRoute, OptionList},
    user_records::RecordError,
};

/// A failure of a host route: an answer, blamed on whoever produced it. Boxed: routes return it through
/// every `?`, and the success path should not pay for its size.
#[derive(Debug)]
pub struct Failure {
    pub owner: Owner,
    pub error: Box<CallError>,
}

impl Failure {
    pub(crate) fn new(owner: &Owner, error: CallError) -> Failure {
        Failure {
            owner: owner.clone(),
            error: Box::new(error),
        }
    }

    fn host(status: u16, code: &str, message: impl Into<String>) -> Failure {
        Failure::new(&Owner::Host, PluginError::http(status, code, message).into())
    }
}

impl From<RecordError> for Failure {
    fn from(error: RecordError) -> Failure {
        match error {
            RecordError::Invalid(message) => Failure::host(400, "invalid_settings", message),
            RecordError::SecretExists(_) => Failure::host(400, "secret_exists", error.to_string()),
            RecordError::NoSuchSecret(_) => Failure::host(404, "not_found", error.to_string()),
            RecordError::Store(crate::store::StoreError::Unavailable(_)) => {
                tracing::warn!("{error}");
                Failure::host(
                    503,
                    "store_unavailable",
                    "the database is unavailable; try again shortly",
                )
            }
            other => Failure::new(&Owner::Host, PluginError::Host(other.to_string().into()).into()),
        }
    }
}

impl From<openhost_github::GitError> for Failure {
    fn from(error: openhost_github::GitError) -> Failure {
        Failure::new(&Owner::Host, PluginError::from(error).into())
    }
}

type Outcome = Result<Response, Failure>;

fn ok_json(value: &Value) -> Outcome {
    Ok(Response::json(200, value))
}

/// A response whose body is JSON text already.
fn json_text(status: u16, body: Vec<u8>) -> Response {
    Response {
        status,
        headers: vec![Header::new("content-type", "application/json")].into(),
        body: body.into(),
    }
}

fn message(text: &str) -> Outcome {
    ok_json(&json!({"message": text}))
}

/// The parameters of the route's declared path (`{id}` of `/api/secrets/{id}`), by name.
pub type PathParams = [(String, String)];

/// Answers a host route for `identity` (who the request is for, if anyone: a route that needs a sign-in was
/// resolved by the pipeline).
pub async fn handle(
    app: &Serving<'_>,
    route: HostRoute,
    request: &RequestView<'_>,
    params: &PathParams,
    identity: Option<&Identity>,
    body: &[u8],
) -> Outcome {
    match route {
        HostRoute::Healthz => Ok(json_text(200, br#"{"status":"ok"}"#.to_vec())),
        HostRoute::Plugins => ok_json(&app.registry.describe(&app.panics)),
        HostRoute::OptionsConfig => {
            let active = &app.registry.server_config;
            let blame = |error| Failure::new(&active.blame(), error);
            let text = app
                .within_deadline(active.site(Slot::ServerConfig), active.object.config_json())
                .await
                .map_err(blame)?;
            // Checked, not rebuilt: the implementation's text is the body. Most implementations give the same text
            // each time, checked once.
            let checked = &app.checked_server_config;
            if !checked.read().is_ok_and(|last| *last == text.as_str()) {
                serde_json::from_str::<serde::de::IgnoredAny>(&text).map_err(|e| {
                    blame(PluginError::other(format!("server_config returned invalid JSON: {e}")).into())
                })?;
                if let Ok(mut last) = checked.write() {
                    text.as_str().clone_into(&mut last);
                }
            }
            Ok(json_text(200, text.into_string().into_bytes()))
        }
        HostRoute::Options(list) => {
            let options = &app.config.options;
            ok_json(&json!(match list {
                OptionList::LlmModels => &options.llm_models,
                OptionList::Agents => &options.agents,
                OptionList::SecurityAnalyzers => &options.security_analyzers,
            }))
        }
        HostRoute::GetSettings => {
            let identity = signed_in(identity)?;
            let git_service = &app.registry.git_service.object;
            let stored = app.settings.get(&identity.user_id).await?;
            if !git_service.manages_tokens() {
                return match stored {
                    Some(settings) => ok_json(&settings.public_json()),
                    None => Err(Failure::host(
                        404,
                        "settings_not_found",
                        "no settings are stored for this user",
                    )),
                };
            }
            // The git service gets its tokens from the sign-in: the user's providers are connected, and a signed-in
            // user is set up (the frontend reads a 404 as "new here" and greets a SaaS user with a billing toast).
            let mut public = stored.unwrap_or_default().public_json();
            let signed_in: Map<String, Value> = git_service
                .providers()
                .into_iter()
                .map(|provider| (provider.into_string(), Value::Null))
                .collect();
            public["provider_tokens_set"] = Value::Object(signed_in);
            ok_json(&public)
        }
        HostRoute::PostSettings => {
            let identity = signed_in(identity)?;
            let update = json_object(body, "invalid_settings")?;
            app.settings
                .update(&identity.user_id, |settings| settings.apply_update(&update))
                .await?;
            message("Settings stored")
        }
        HostRoute::AddGitProviders => providers::add_git_providers(app, identity, body).await,
        HostRoute::UnsetProviderTokens => {
            let identity = signed_in(identity)?;
            providers::refuse_managed_tokens(app)?;
            app.settings
                .update(&identity.user_id, |settings| {
                    settings.provider_tokens.clear();
                    Ok(())
                })
                .await?;
            message("Unset Git provider tokens")
        }
        HostRoute::Git(route) => {
            let identity = signed_in(identity)?;
            git::handle(app, identity, route, request).await
        }
        HostRoute::Authenticate => {
            signed_in(identity)?;
            message("User authenticated")
        }
        HostRoute::Logout => logout(app, request, identity).await,
        // This server runs no agent: no conversations to list, and starting one is refused plainly.
        HostRoute::ListConversations => {
            signed_in(identity)?;
            ok_json(&json!({"results": [], "next_page_id": null}))
        }
        HostRoute::ListSecrets => secrets::list(app, identity).await,
        HostRoute::CreateSecret => secrets::create(app, identity, body).await,
        HostRoute::UpdateSecret => secrets::update(app, params, identity, body).await,
        HostRoute::DeleteSecret => secrets::delete(app, params, identity).await,
        HostRoute::StartConversation => {
            signed_in(identity)?;
            Err(Failure::host(
                501,
                "not_implemented",
                "this server runs no agent, so it cannot start conversations; it serves settings, git data and sign-in",
            ))
        }
    }
}

/// `POST /api/logout`: the active `user_auth` ends what it recognised; its header changes (a cleared cookie)
/// go on the answer.
async fn logout(app: &Serving<'_>, request: &RequestView<'_>, identity: Option<&Identity>) -> Outcome {
    let identity = signed_in(identity)?;
    let active = &app.registry.user_auth;
    let changes = app
        .within_deadline(
            active.site(Slot::UserAuth),
            active.object.sign_out(*request, identity.as_view()),
        )
        .await
        .map_err(|error| Failure::new(&active.blame(), error))?;
    let mut response = Response::json(200, &json!({"message": "User logged out"}));
    for change in changes {
        response.apply(change);
    }
    Ok(response)
}

/// Who the request is for: the pipeline resolved it before the route ran (docs/architecture.md, "Requests");
/// nobody is a 401 `not_authenticated`.
fn signed_in(identity: Option<&Identity>) -> Result<&Identity, Failure> {
    identity.ok_or_else(|| Failure::host(401, "not_authenticated", "this request is not signed in"))
}

fn json_object(body: &[u8], code: &str) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Failure::host(400, code, "the body must be a JSON object")),
        Err(e) => Err(Failure::host(400, code, format!("the body is not valid JSON: {e}"))),
    }
}
