//! Who may use the admin API: the tokens of `[[host.admin_tokens]]`, kept as SHA-256 digests only (a token in
//! `${VAR}` is hashed when the listener starts, and the value dropped), and the check of a request's bearer.

use ring::digest::{SHA256, digest};
use subtle::ConstantTimeEq;

use crate::config::{self, AdminSecret, AdminTokenSpec, ConfigError};

/// One token: its name (what the audit trail says) and its digest.
struct Token {
    name: String,
    digest: [u8; 32],
}

/// The admin tokens of the config.
pub struct AdminTokens {
    tokens: Vec<Token>,
}

impl AdminTokens {
    /// Resolves `specs`, `${VAR}` from `lookup`: an unset or empty variable stops the start.
    pub fn resolve(
        specs: &[AdminTokenSpec],
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AdminTokens, ConfigError> {
        let mut tokens = Vec::with_capacity(specs.len());
        for spec in specs {
            let digest = match &spec.secret {
                AdminSecret::Sha256(digest) => *digest,
                AdminSecret::Variable(text) => {
                    let owner = format!("host.admin_tokens `{}`", spec.name);
                    let token = config::interpolate(&owner, text, lookup)?;
                    if token.len() < 16 {
                        return Err(ConfigError::WeakAdminToken {
                            name: spec.name.clone(),
                        });
                    }
                    sha256(&token)
                }
            };
            tokens.push(Token {
                name: spec.name.clone(),
                digest,
            });
        }
        Ok(AdminTokens { tokens })
    }

    /// The name of the token `presented` is, if it is one. Every token is compared, in constant time.
    pub fn who(&self, presented: &str) -> Option<&str> {
        let presented = sha256(presented);
        let mut found = None;
        for token in &self.tokens {
            if bool::from(token.digest.ct_eq(&presented)) {
                found = Some(token.name.as_str());
            }
        }
        found
    }
}

fn sha256(text: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, text.as_bytes()).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_known_by_its_variable_or_its_digest() {
        let specs = [
            AdminTokenSpec {
                name: "ops".into(),
                secret: AdminSecret::Variable("${ADMIN_TOKEN}".into()),
            },
            AdminTokenSpec {
                name: "ci".into(),
                secret: AdminSecret::Sha256(sha256("a-token-for-the-ci-jobs")),
            },
        ];
        let lookup = |var: &str| (var == "ADMIN_TOKEN").then(|| "an-operators-long-token".to_owned());
        let tokens = AdminTokens::resolve(&specs, &lookup).unwrap();
        assert_eq!(tokens.who("an-operators-long-token"), Some("ops"));
        assert_eq!(tokens.who("a-token-for-the-ci-jobs"), Some("ci"));
        assert_eq!(tokens.who("an-operators-long-tokeN"), None);
        assert_eq!(tokens.who(""), None);

        let short = |_: &str| Some("tiny-value".to_owned());
        let refused = AdminTokens::resolve(&specs[..1], &short).err().unwrap().to_string();
        assert!(
            refused.contains("`ops`") && !refused.contains("tiny-value"),
            "{refused}"
        );
        let unset = |_: &str| None;
        assert!(AdminTokens::resolve(&specs[..1], &unset).is_err());
    }
}
