//! The emulated providers: the list of [`Emulator`]s, and [`Provider`], a handle into it.
//!
//! [`emulators!`] below is the only place that names every provider: it makes the
//! [`Provider`] enum (one variant per entry, in the list's order), [`EMULATORS`] and
//! [`Provider::ALL`]. Everything a provider decides lives in its module, behind
//! [`Emulator`]; adding one is its module plus one entry here (see "Adding an emulated
//! provider" in the crate documentation).

use std::fmt;

use crate::emulator::Emulator;
use crate::{aliexpress, ebay, eshopbox, orangeconnex};

/// Makes the list: `Variant => module::Emulator,` entries, each with its variant's doc.
macro_rules! emulators {
    ($($(#[$doc:meta])* $variant:ident => $emulator:path,)+) => {
        /// One of the providers the sandbox emulates.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Provider {
            $($(#[$doc])* $variant,)+
        }

        /// Every emulated provider's emulator, in [`Provider::ALL`]'s order.
        pub(crate) const EMULATORS: &[&dyn Emulator] = &[$(&$emulator),+];

        impl Provider {
            /// Every emulated provider, in a fixed order.
            pub const ALL: [Provider; COUNT] = [$(Provider::$variant),+];

            /// The provider's emulator.
            pub(crate) fn emulator(self) -> &'static dyn Emulator {
                match self {
                    $(Provider::$variant => &$emulator,)+
                }
            }
        }
    };
}

emulators! {
    /// eBay Identity OAuth2 (`<base>/ebay`).
    Ebay => ebay::Ebay,
    /// AliExpress IOP open platform (`<base>/aliexpress`).
    AliExpress => aliexpress::AliExpress,
    /// OrangeConnex open API (`<base>/orangeconnex`).
    OrangeConnex => orangeconnex::OrangeConnex,
    /// Eshopbox custom apps (`<base>/eshopbox`).
    Eshopbox => eshopbox::Eshopbox,
}

/// How many providers the sandbox emulates: the length of the per-provider arrays.
pub(crate) const COUNT: usize = EMULATORS.len();

impl Provider {
    /// The path segment under the sandbox's base URL (`ebay`, `aliexpress`, ...), also
    /// used in the callback path `/callback/{segment}`.
    pub fn path_segment(self) -> &'static str {
        self.emulator().path_segment()
    }

    /// Parses a path segment produced by [`Provider::path_segment`].
    pub fn from_path_segment(segment: &str) -> Option<Provider> {
        Provider::ALL
            .into_iter()
            .find(|provider| provider.path_segment() == segment)
    }

    /// The position in [`Provider::ALL`] (and [`EMULATORS`]): the index of the
    /// per-provider arrays.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.emulator().title())
    }
}

#[cfg(test)]
mod tests {
    use super::{EMULATORS, Provider};

    #[test]
    fn the_list_and_the_handles_agree() {
        assert_eq!(Provider::ALL.len(), EMULATORS.len());
        for (index, provider) in Provider::ALL.into_iter().enumerate() {
            assert_eq!(provider.index(), index);
            let emulator = EMULATORS[index];
            assert_eq!(provider.path_segment(), emulator.path_segment());
            assert_eq!(provider.to_string(), emulator.title());
            assert_eq!(
                Provider::from_path_segment(emulator.path_segment()),
                Some(provider)
            );
        }
    }

    #[test]
    fn path_segments_are_unique_and_url_safe() {
        for (index, emulator) in EMULATORS.iter().enumerate() {
            let segment = emulator.path_segment();
            assert!(!segment.is_empty());
            assert!(
                segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{segment}"
            );
            assert!(
                EMULATORS[..index]
                    .iter()
                    .all(|other| other.path_segment() != segment),
                "{segment} twice"
            );
            assert_ne!(segment, "admin");
            assert_ne!(segment, "callback");
        }
    }
}
