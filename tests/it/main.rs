//! The one integration-test binary: conformance suites against real
//! backends and the end-to-end tests against real peers.

mod feed;
mod session;
mod store;
mod support;
