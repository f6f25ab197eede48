//! The key layout.
//!
//! For a prefix `P` (default `oauth`), provider `prov` (of `n` bytes) and
//! account `acct`:
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `P:{n:prov:acct}:tok` | hash | `v`: the version, `t`: the token set (JSON) |
//! | `P:{n:prov:acct}:lease` | string, with `PX` expiry | `FENCE OWNER` of the current lease |
//! | `P:{n:prov:acct}:fence` | string (integer) | the highest fencing number granted; never expires, never goes down |
//! | `P:idx:n:prov` | sorted set, all scores 0 | the account ids of `prov` with an entry |
//! | `P:probe` | string, 10 s expiry | written and deleted again by `check_writable` |
//!
//! The byte length `n` makes the layout unambiguous whatever the provider
//! and account contain (a provider `a:b` with account `c` and a provider
//! `a` with account `b:c` get different keys). The three keys of an account
//! share a hash tag (the text between the first `{` and the next `}`, the
//! same for all three), so they live in one Redis Cluster slot. A prefix is
//! restricted to `[A-Za-z0-9_.-]` (no `:`, no braces), so two stores with
//! different prefixes never share a key.

use oauth_core::AccountKey;

/// The default key prefix.
pub(crate) const DEFAULT_PREFIX: &str = "oauth";

/// The longest prefix, in bytes.
pub(crate) const MAX_PREFIX_LEN: usize = 64;

/// Whether `prefix` is a valid key prefix.
pub(crate) fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= MAX_PREFIX_LEN
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The keys of one account.
#[derive(Debug)]
pub(crate) struct AccountKeys {
    /// The entry (hash: `v`, `t`).
    pub(crate) tokens: Vec<u8>,
    /// The lease (`FENCE OWNER`, with expiry).
    pub(crate) lease: Vec<u8>,
    /// The fencing counter.
    pub(crate) fence: Vec<u8>,
    /// The provider's listing (sorted set).
    pub(crate) index: Vec<u8>,
}

/// The key of `provider`'s listing.
pub(crate) fn index_key(prefix: &str, provider: &str) -> Vec<u8> {
    format!("{prefix}:idx:{}:{provider}", provider.len()).into_bytes()
}

/// The write-probe key.
pub(crate) fn probe_key(prefix: &str) -> Vec<u8> {
    format!("{prefix}:probe").into_bytes()
}

/// The keys of `key`.
pub(crate) fn account_keys(prefix: &str, key: &AccountKey) -> AccountKeys {
    let provider = key.provider();
    let base = format!(
        "{prefix}:{{{}:{provider}:{}}}",
        provider.len(),
        key.account()
    );
    AccountKeys {
        tokens: format!("{base}:tok").into_bytes(),
        lease: format!("{base}:lease").into_bytes(),
        fence: format!("{base}:fence").into_bytes(),
        index: index_key(prefix, provider),
    }
}

/// The hash tag of `key` as Redis Cluster computes it (the text between
/// the first `{` and the next `}`, if not empty), for the tests.
#[cfg(test)]
fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let rest = key.get(open + 1..).unwrap_or_default();
    match rest.iter().position(|&b| b == b'}') {
        Some(0) | None => key,
        Some(close) => rest.get(..close).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_checked() {
        assert!(valid_prefix("oauth"));
        assert!(valid_prefix("my-app_2.prod"));
        assert!(!valid_prefix(""));
        assert!(!valid_prefix("a:b"), "a colon would let prefixes overlap");
        assert!(!valid_prefix("{oauth}"));
        assert!(!valid_prefix("has space"));
        assert!(!valid_prefix(&"x".repeat(MAX_PREFIX_LEN + 1)));
    }

    #[test]
    fn layout_is_unambiguous() {
        let a = account_keys("oauth", &AccountKey::new("a:b", "c"));
        let b = account_keys("oauth", &AccountKey::new("a", "b:c"));
        assert_ne!(a.tokens, b.tokens);
        assert_ne!(a.fence, b.fence);
        let k = account_keys("oauth", &AccountKey::new("ebay", "seller-1"));
        assert_eq!(k.tokens, b"oauth:{4:ebay:seller-1}:tok");
        assert_eq!(k.lease, b"oauth:{4:ebay:seller-1}:lease");
        assert_eq!(k.fence, b"oauth:{4:ebay:seller-1}:fence");
        assert_eq!(k.index, b"oauth:idx:4:ebay");
    }

    #[test]
    fn the_keys_of_an_account_share_a_hash_tag() {
        for (provider, account) in [
            ("ebay", "seller-1"),
            ("e}bay", "x"),
            ("ebay", "a}b{c"),
            ("", ""),
        ] {
            let k = account_keys("oauth", &AccountKey::new(provider.to_owned(), account));
            let tag = hash_tag(&k.tokens);
            assert_eq!(hash_tag(&k.lease), tag, "{provider}/{account}");
            assert_eq!(hash_tag(&k.fence), tag, "{provider}/{account}");
        }
    }
}
