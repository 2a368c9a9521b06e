//! Where a sign-in sends the browser afterwards, and the sign-in routes' query parameters: only a path of this
//! site (no open redirect).

use openhost_plugin_api::Request;

/// The post-login redirect: a relative path starting with one `/` followed by neither `/` nor `\`, without
/// control characters. Anything else becomes `/` (no open redirect).
pub fn safe_redirect(target: Option<&str>) -> String {
    let Some(target) = target else { return "/".to_owned() };
    let mut chars = target.chars();
    let safe =
        chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\')) && !target.chars().any(char::is_control);
    if safe { target.to_owned() } else { "/".to_owned() }
}

/// The first value of a query parameter, percent-decoded.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    form_urlencoded::parse(request.query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_redirects_survive() {
        assert_eq!(safe_redirect(Some("/app?x=1")), "/app?x=1");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "app",
            "/a\r\nb",
            "",
        ] {
            assert_eq!(safe_redirect(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_redirect(None), "/");
    }
}
