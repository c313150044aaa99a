//! Helpers shared by the integration tests: fake peers and fixtures.

pub mod app;
pub mod market;
pub mod pumpportal;
pub mod telegram;
