//! Local emulator of the providers' OAuth endpoints (skeleton).
#![warn(missing_docs)]
