//! Helpers shared by the integration tests: fake peers and fixtures.

pub mod app;
pub mod clock;
pub mod core;
pub mod discord;
pub mod jupiter;
pub mod market;
pub mod pumpportal;
pub mod svm;
pub mod tape;
pub mod telegram;
