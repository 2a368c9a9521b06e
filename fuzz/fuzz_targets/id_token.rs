//! ID token verification (OpenID Connect sign-in) never panics on arbitrary input: as a whole token, and as the
//! header and claims of a token whose parts are well-formed base64url, against RSA and EC keys.
#![no_main]

use std::sync::OnceLock;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use libfuzzer_sys::fuzz_target;
use openhost_enterprise::provider::oidc::id_token::{Expected, KeySet, verify};

fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"},
            {"kty": "EC", "kid": "ec-1", "alg": "ES256", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        ]}))
        .expect("a key set")
    })
}

const EXPECTED: Expected<'static> = Expected {
    issuer: "https://idp.example",
    client_id: "openhost",
    nonce: "n-0S6_WzA2Mj",
    now: 1_800_000_000,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = verify(text, keys(), &EXPECTED);
    }
    // Well-formed parts: the input split in three, each encoded, so the checks past decoding run too.
    let third = data.len() / 3;
    let (header, rest) = data.split_at(third);
    let (claims, signature) = rest.split_at(third);
    for header in [header, br#"{"alg":"RS256","kid":"rsa-1"}"#, br#"{"alg":"ES256"}"#] {
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims),
            URL_SAFE_NO_PAD.encode(signature)
        );
        let _ = verify(&token, keys(), &EXPECTED);
    }
});
