//! GitHub's `Link` header: where the next page is.

/// The `page` of the `rel="next"` link of a `Link` header.
pub fn next_page_from_link(link: &str) -> Option<u32> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        if !is_next {
            return None;
        }
        let url = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let query = url.split_once('?')?.1;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_next_page_from_a_link_header() {
        let link = r#"<https://api.github.com/user/repos?page=1&per_page=30>; rel="prev", <https://api.github.com/user/repos?per_page=30&page=3>; rel="next", <https://api.github.com/user/repos?page=5&per_page=30>; rel="last""#;
        assert_eq!(next_page_from_link(link), Some(3));
        assert_eq!(next_page_from_link(r#"<https://x/?page=1>; rel="first""#), None);
    }
}
