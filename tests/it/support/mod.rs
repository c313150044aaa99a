//! Helpers shared by the integration tests: fake peers and fixtures.

pub mod pumpportal;
