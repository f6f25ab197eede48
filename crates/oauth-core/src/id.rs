//! Plain (non-secret) identifiers: client ids and scopes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An OAuth client id (eBay App ID, AliExpress app key, OrangeConnex 3PP id).
///
/// Not a secret: it appears in authorize URLs.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// Wraps a client id.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({:?})", self.0)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ClientId {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for ClientId {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// One OAuth scope, such as `https://api.ebay.com/oauth/api_scope`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    /// Wraps a scope.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The scope as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({:?})", self.0)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Scope {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// An ordered set of scopes: insertion order is kept (it is the order on the
/// wire) and duplicates are dropped.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// An empty set.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Parses scopes separated by whitespace (RFC 6749 `scope` syntax).
    pub fn from_space_separated(text: &str) -> Self {
        text.split_whitespace().map(Scope::new).collect()
    }

    /// Parses scopes separated by `separator` (e.g. `,`), trimming blanks.
    pub fn from_separated(text: &str, separator: char) -> Self {
        text.split(separator)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Scope::new)
            .collect()
    }

    /// Adds a scope unless it is already present.
    pub fn insert(&mut self, scope: Scope) {
        if !self.0.contains(&scope) {
            self.0.push(scope);
        }
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    /// Whether every scope of `self` is also in `other`.
    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(s))
    }

    /// The scopes of `self` that are not in `other`.
    pub fn difference(&self, other: &Scopes) -> Scopes {
        self.0
            .iter()
            .filter(|s| !other.contains(s))
            .cloned()
            .collect()
    }

    /// Joins the scopes with `separator`, in insertion order.
    pub fn join(&self, separator: &str) -> String {
        let mut out = String::new();
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(separator);
            }
            out.push_str(scope.as_str());
        }
        out
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates in insertion order.
    pub fn iter(&self) -> std::slice::Iter<'_, Scope> {
        self.0.iter()
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(Scope::as_str))
            .finish()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut scopes = Scopes::new();
        for scope in iter {
            scopes.insert(scope);
        }
        scopes
    }
}

impl<'a> IntoIterator for &'a Scopes {
    type Item = &'a Scope;
    type IntoIter = std::slice::Iter<'a, Scope>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<S: Into<String>, const N: usize> From<[S; N]> for Scopes {
    fn from(value: [S; N]) -> Self {
        value.into_iter().map(|s| Scope::new(s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_keep_order_and_drop_duplicates() {
        let scopes = Scopes::from_space_separated("b a  b c");
        assert_eq!(scopes.join(" "), "b a c");
        assert_eq!(Scopes::from_separated("x, y,,x", ',').join(","), "x,y");
    }

    #[test]
    fn subset_and_difference() {
        let all = Scopes::from(["a", "b", "c"]);
        let some = Scopes::from(["c", "a"]);
        assert!(some.is_subset_of(&all));
        assert!(!all.is_subset_of(&some));
        assert_eq!(all.difference(&some).join(" "), "b");
    }
}
