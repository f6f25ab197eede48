//! The emulated providers.

use std::fmt;

/// One of the providers the sandbox emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// eBay Identity OAuth2 (`<base>/ebay`).
    Ebay,
    /// AliExpress IOP open platform (`<base>/aliexpress`).
    AliExpress,
    /// OrangeConnex open API (`<base>/orangeconnex`).
    OrangeConnex,
    /// Eshopbox custom apps (`<base>/eshopbox`).
    Eshopbox,
}

impl Provider {
    /// Every emulated provider, in a fixed order.
    pub const ALL: [Provider; 4] = [
        Provider::Ebay,
        Provider::AliExpress,
        Provider::OrangeConnex,
        Provider::Eshopbox,
    ];

    /// The path segment under the sandbox's base URL (`ebay`, `aliexpress`, ...), also
    /// used in the callback path `/callback/{segment}`.
    pub fn path_segment(self) -> &'static str {
        match self {
            Provider::Ebay => "ebay",
            Provider::AliExpress => "aliexpress",
            Provider::OrangeConnex => "orangeconnex",
            Provider::Eshopbox => "eshopbox",
        }
    }

    /// Parses a path segment produced by [`Provider::path_segment`].
    pub fn from_path_segment(segment: &str) -> Option<Provider> {
        Provider::ALL
            .into_iter()
            .find(|provider| provider.path_segment() == segment)
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Provider::Ebay => 0,
            Provider::AliExpress => 1,
            Provider::OrangeConnex => 2,
            Provider::Eshopbox => 3,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Ebay => "eBay",
            Provider::AliExpress => "AliExpress",
            Provider::OrangeConnex => "OrangeConnex",
            Provider::Eshopbox => "Eshopbox",
        })
    }
}
