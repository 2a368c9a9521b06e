//! `POST /api/add-git-providers`: a personal access token, checked with the provider before it is stored.

use openhost_github::GitQuery;
use openhost_plugin_api::Identity;
use serde_json::Value;

use crate::{
    api::{Failure, Outcome, json_object, message, signed_in},
    app::Serving,
    components::git_service::fetch,
    settings::{ProviderToken, Secret},
};

/// `{"provider_tokens": {"github": {"token": "...", "host": null}}}`: the token is checked with GitHub's
/// `GET /user` before it is stored.
pub async fn add_git_providers(app: &Serving<'_>, identity: Option<&Identity>, body: &[u8]) -> Outcome {
    let identity = signed_in(identity)?;
    refuse_managed_tokens(app)?;
    let invalid = |message: &str| Failure::host(400, "invalid_request", message);
    let object = json_object(body, "invalid_request")?;
    let providers = object
        .get("provider_tokens")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("`provider_tokens` must be an object"))?;
    let served: Vec<String> = app
        .registry
        .git_service
        .object
        .providers()
        .into_iter()
        .map(String::from)
        .collect();
    let mut stored = Vec::new();
    for (provider, entry) in providers {
        let provider: String = provider.chars().take(64).collect();
        let field = |name: &str| format!("`provider_tokens.{provider}.{name}`");
        let entry = entry
            .as_object()
            .ok_or_else(|| invalid(&format!("`provider_tokens.{provider}` must be an object")))?;
        // The frontend sends every provider it knows, with an empty token for those the user left alone.
        let token = match entry.get("token") {
            None | Some(Value::Null) => continue,
            Some(Value::String(token)) if token.trim().is_empty() => continue,
            Some(Value::String(token)) => token.trim(),
            Some(_) => return Err(invalid(&format!("{} must be a string", field("token")))),
        };
        if !served.contains(&provider) {
            return Err(Failure::host(
                400,
                "unsupported_git_provider",
                format!(
                    "no git service on this server serves `{provider}` (served: {})",
                    served.join(", ")
                ),
            ));
        }
        if token.len() > 512 || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(&format!("{} is not a token", field("token"))));
        }
        let host = match entry.get("host") {
            None | Some(Value::Null) => None,
            Some(Value::String(host)) if host.is_empty() => None,
            Some(Value::String(host)) if is_hostname(host) => Some(host.to_ascii_lowercase()),
            Some(_) => return Err(invalid(&format!("{} must be a host name, \"\" or null", field("host")))),
        };
        if provider == "github" {
            let base = openhost_github::api_base(&app.config.github_api_url, host.as_deref());
            fetch(&app.http, &base, token, &GitQuery::UserInfo).await?;
        }
        stored.push((
            provider,
            ProviderToken {
                token: Secret::new(token.to_owned()),
                host,
            },
        ));
    }
    app.settings
        .update(&identity.user_id, |settings| {
            settings.provider_tokens.extend(stored.iter().cloned());
            Ok(())
        })
        .await?;
    message("Git providers stored")
}

/// A DNS name with an optional port, nothing else (it becomes part of a URL).
fn is_hostname(host: &str) -> bool {
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && (port.is_empty() || port.parse::<u16>().is_ok())
}

/// In a deployment whose git service gets tokens itself (a sign-in), personal access tokens have no place.
pub fn refuse_managed_tokens(app: &Serving<'_>) -> Result<(), Failure> {
    if app.registry.git_service.object.manages_tokens() {
        return Err(Failure::host(
            400,
            "provider_tokens_managed",
            "git provider tokens come from the sign-in on this server",
        ));
    }
    Ok(())
}
