//! A redis token store for the commerce OAuth toolkit (work in progress).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
