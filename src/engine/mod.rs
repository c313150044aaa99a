//! The engine: PURE. No async, no I/O, no SDK or transport crates (CI greps
//! for them). It takes events and a clock and returns decisions as values.

pub mod curve;
