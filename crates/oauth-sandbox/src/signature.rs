//! The AliExpress (IOP) request signature, as the sandbox verifies it.
//!
//! This is the sandbox's own implementation, written from the platform's documentation
//! and checked against its published vectors; it is public so that tests building raw
//! requests can sign them. Provider crates must not use it: the point of the sandbox
//! is to check their implementation against an independent one.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The string that is signed: the API path (system interfaces only, e.g.
/// `/auth/token/create`; `None` for business interfaces), then `name` + `value` of every
/// parameter except `sign`, sorted by name byte-wise, with no separators.
pub fn aliexpress_string_to_sign<'a, I>(api_path: Option<&str>, params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut pairs: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(name, _)| *name != "sign")
        .collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(b.1)));
    let mut text = String::from(api_path.unwrap_or_default());
    for (name, value) in pairs {
        text.push_str(name);
        text.push_str(value);
    }
    text
}

/// HMAC-SHA256 of [`aliexpress_string_to_sign`] keyed with `app_secret`, as uppercase hex.
///
/// ```
/// use oauth_sandbox::signature::aliexpress_sign;
///
/// // The platform's published vector.
/// let sign = aliexpress_sign(
///     "helloworld",
///     Some("/auth/token/create"),
///     [
///         ("app_key", "12345678"),
///         ("code", "3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26"),
///         ("sign_method", "sha256"),
///         ("timestamp", "1517820392000"),
///     ],
/// );
/// assert_eq!(sign, "35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81");
/// ```
pub fn aliexpress_sign<'a, I>(app_secret: &str, api_path: Option<&str>, params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let text = aliexpress_string_to_sign(api_path, params);
    hex::encode_upper(hmac_sha256(app_secret.as_bytes(), text.as_bytes()))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Constant-time comparison of two signatures.
pub(crate) fn signatures_match(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vectors() {
        let create = [
            ("app_key", "12345678"),
            ("code", "3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26"),
            ("sign_method", "sha256"),
            ("timestamp", "1517820392000"),
        ];
        assert_eq!(
            aliexpress_string_to_sign(Some("/auth/token/create"), create),
            "/auth/token/createapp_key12345678code3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26sign_methodsha256timestamp1517820392000"
        );
        assert_eq!(
            aliexpress_sign("helloworld", Some("/auth/token/create"), create),
            "35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81"
        );
        let business = [
            ("timestamp", "1517820392000"),
            (
                "method",
                "aliexpress.logistics.redefining.getonlinelogisticsinfo",
            ),
            ("access_token", "test"),
            ("app_key", "123456"),
            ("aliexpress_category_id", "200135143"),
            ("sign_method", "sha256"),
            ("sign", "ignored"),
        ];
        assert_eq!(
            aliexpress_sign("helloworld", None, business),
            "F7F7926B67316C9D1E8E15F7E66940ED3059B1638C497D77973F30046EFB5BBB"
        );
        let order = [
            ("access_token", "test"),
            ("app_key", "123456"),
            ("order_id", "1234"),
            ("sign_method", "sha256"),
            ("timestamp", "1517820392000"),
        ];
        assert_eq!(
            aliexpress_sign("helloworld", Some("/order/get"), order),
            "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
        );
    }

    #[test]
    fn comparison() {
        assert!(signatures_match("ABC", "ABC"));
        assert!(!signatures_match("ABC", "abc"));
        assert!(!signatures_match("ABC", "ABCD"));
    }
}
