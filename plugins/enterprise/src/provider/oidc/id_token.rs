//! Verifying an ID token (OpenID Connect Core 1.0, 3.1.3.7): a JWS signed RS256 or ES256 by a key of the
//! provider's JWKS, issued by the configured issuer for this client, unexpired, and carrying this sign-in's
//! nonce. Pure (the keys and the clock are parameters), so that it can be tested and fuzzed without a provider.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

/// Clock skew tolerated between this server and the provider.
pub const LEEWAY_SECS: u64 = 60;

/// Why an ID token was refused. Each is a 401 with its own code ([`IdTokenError::code`]).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdTokenError {
    #[error("the ID token is not a signed JWT")]
    Malformed,
    #[error("the ID token is signed with `{0}`; this server accepts RS256 and ES256")]
    Algorithm(String),
    #[error("the ID token's signing key is not one the provider publishes")]
    UnknownKey,
    #[error("the ID token's signature does not verify")]
    Signature,
    #[error("the ID token was issued by another issuer")]
    Issuer,
    #[error("the ID token was issued for another client")]
    Audience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token was issued in the future")]
    IssuedInFuture,
    #[error("the ID token does not carry this sign-in's nonce")]
    Nonce,
}

impl IdTokenError {
    pub fn code(&self) -> &'static str {
        match self {
            IdTokenError::Malformed
            | IdTokenError::Algorithm(_)
            | IdTokenError::UnknownKey
            | IdTokenError::Signature => "id_token_invalid",
            IdTokenError::Issuer => "id_token_wrong_issuer",
            IdTokenError::Audience => "id_token_wrong_audience",
            IdTokenError::Expired | IdTokenError::IssuedInFuture => "id_token_expired",
            IdTokenError::Nonce => "id_token_nonce_mismatch",
        }
    }
}

/// One key of a JWKS (RFC 7517): RSA (`n`, `e`) or EC P-256 (`x`, `y`).
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default, rename = "use")]
    pub usage: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

/// A provider's published keys.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeySet {
    pub keys: Vec<Jwk>,
}

/// The signing algorithms accepted, by the key type they need.
fn key_type(alg: &str) -> Option<&'static str> {
    match alg {
        "RS256" => Some("RSA"),
        "ES256" => Some("EC"),
        _ => None,
    }
}

impl KeySet {
    /// The keys that may have signed a token with `alg` and `kid` (all of its type when the token names none).
    fn candidates<'a>(&'a self, alg: &'a str, kid: Option<&'a str>) -> impl Iterator<Item = &'a Jwk> + 'a {
        self.keys.iter().filter(move |key| {
            Some(key.kty.as_str()) == key_type(alg)
                && key.usage.as_deref().is_none_or(|usage| usage == "sig")
                && key.alg.as_deref().is_none_or(|key_alg| key_alg == alg)
                && (kid.is_none() || key.kid.as_deref() == kid)
        })
    }

    /// Whether a key for `alg` and `kid` is here (else the set is fetched again: the provider may have rotated).
    pub fn has(&self, alg: &str, kid: Option<&str>) -> bool {
        self.candidates(alg, kid).next().is_some()
    }
}

/// A token's header: its algorithm and key id. Refuses what is not a three-part JWS.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

fn parts(token: &str) -> Result<[&str; 3], IdTokenError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => Ok([header, payload, signature]),
        _ => Err(IdTokenError::Malformed),
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, IdTokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| IdTokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| IdTokenError::Malformed)
}

/// The header of `token`, with an accepted algorithm.
pub fn header(token: &str) -> Result<Header, IdTokenError> {
    let header: Header = decode_json(parts(token)?[0])?;
    if key_type(&header.alg).is_none() {
        return Err(IdTokenError::Algorithm(header.alg));
    }
    Ok(header)
}

/// What this sign-in expects of its ID token.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: u64,
}

/// Who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub subject: String,
    /// `preferred_username`, else `email`, else the subject.
    pub login: String,
}

fn verify_with(key: &Jwk, alg: &str, message: &[u8], signature_bytes: &[u8]) -> bool {
    let decode = |field: &Option<String>| field.as_deref().and_then(|value| URL_SAFE_NO_PAD.decode(value).ok());
    match alg {
        "RS256" => match (decode(&key.n), decode(&key.e)) {
            (Some(n), Some(e)) => RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature_bytes)
                .is_ok(),
            _ => false,
        },
        "ES256" => match (key.crv.as_deref(), decode(&key.x), decode(&key.y)) {
            (Some("P-256"), Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature_bytes)
                    .is_ok()
            }
            _ => false,
        },
        _ => false,
    }
}

/// Verifies `token` against `keys` and `expected`.
pub fn verify(token: &str, keys: &KeySet, expected: &Expected<'_>) -> Result<Person, IdTokenError> {
    let header = header(token)?;
    let [encoded_header, encoded_claims, encoded_signature] = parts(token)?;
    let signature_bytes = URL_SAFE_NO_PAD
        .decode(encoded_signature)
        .map_err(|_| IdTokenError::Malformed)?;
    let message = format!("{encoded_header}.{encoded_claims}");
    let mut candidates = keys.candidates(&header.alg, header.kid.as_deref()).peekable();
    if candidates.peek().is_none() {
        return Err(IdTokenError::UnknownKey);
    }
    if !candidates.any(|key| verify_with(key, &header.alg, message.as_bytes(), &signature_bytes)) {
        return Err(IdTokenError::Signature);
    }
    // Only signed claims are read.
    let claims: Value = decode_json(encoded_claims)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    if text("iss") != Some(expected.issuer) {
        return Err(IdTokenError::Issuer);
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(audience)) => audience == expected.client_id,
        Some(Value::Array(audiences)) => {
            audiences.iter().any(|a| a.as_str() == Some(expected.client_id))
                && (audiences.len() == 1 || text("azp") == Some(expected.client_id))
        }
        _ => false,
    };
    if !audience_ok {
        return Err(IdTokenError::Audience);
    }
    match number("exp") {
        Some(exp) if exp + LEEWAY_SECS > expected.now => {}
        _ => return Err(IdTokenError::Expired),
    }
    if number("iat").is_some_and(|iat| iat > expected.now + LEEWAY_SECS) {
        return Err(IdTokenError::IssuedInFuture);
    }
    let nonce_ok = text("nonce").is_some_and(|nonce| bool::from(nonce.as_bytes().ct_eq(expected.nonce.as_bytes())));
    if !nonce_ok {
        return Err(IdTokenError::Nonce);
    }
    let subject = text("sub")
        .filter(|sub| !sub.is_empty())
        .ok_or(IdTokenError::Malformed)?;
    let login = text("preferred_username")
        .or_else(|| text("email"))
        .filter(|login| !login.is_empty())
        .unwrap_or(subject);
    Ok(Person {
        subject: subject.to_owned(),
        login: login.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token of `header` with empty claims and a made-up signature.
    fn token(header: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode("{}")
        )
    }

    #[test]
    fn refuses_what_is_not_a_signed_token() {
        let keys = KeySet::default();
        let expected = Expected {
            issuer: "https://idp.example",
            client_id: "c",
            nonce: "n",
            now: 1000,
        };
        assert_eq!(verify("a.b", &keys, &expected), Err(IdTokenError::Malformed));
        for alg in ["none", "HS256"] {
            assert_eq!(
                verify(&token(&format!(r#"{{"alg":"{alg}"}}"#)), &keys, &expected),
                Err(IdTokenError::Algorithm(alg.into()))
            );
        }
        assert_eq!(
            verify(&token(r#"{"alg":"RS256","kid":"k"}"#), &keys, &expected),
            Err(IdTokenError::UnknownKey)
        );
    }
}
