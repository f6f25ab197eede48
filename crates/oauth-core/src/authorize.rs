//! Building authorize URLs.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

/// Everything but RFC 3986 unreserved characters is percent-encoded: a space
/// becomes `%20` (not `+`), `:` and `/` in scope URLs are encoded too.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one query component (RFC 3986, space as `%20`).
pub fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// `endpoint` with `params` as its query, each name and value encoded once
/// with [`encode_component`], in the given order. Parameters with an empty
/// value are kept (a provider may require them present).
pub fn authorize_url(endpoint: &Url, params: &[(&str, &str)]) -> Url {
    let mut url = endpoint.clone();
    let query: Vec<String> = params
        .iter()
        .map(|(name, value)| format!("{}={}", encode_component(name), encode_component(value)))
        .collect();
    url.set_query(Some(&query.join("&")));
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_are_percent_20_and_urls_are_encoded() {
        let endpoint = Url::parse("https://auth.ebay.com/oauth2/authorize").unwrap();
        let url = authorize_url(
            &endpoint,
            &[
                ("client_id", "id-1"),
                ("scope", "https://api.ebay.com/oauth/api_scope https://x/y"),
                ("state", "a+b"),
            ],
        );
        assert_eq!(
            url.as_str(),
            "https://auth.ebay.com/oauth2/authorize?client_id=id-1&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%20https%3A%2F%2Fx%2Fy&state=a%2Bb"
        );
    }
}
