//! The one integration-test binary: conformance suites against real
//! backends and the end-to-end tests against real peers.

mod backtest;
mod copy;
mod discord;
mod discord_fake;
mod e2e;
mod feed;
mod live;
mod notify;
mod service;
mod session;
mod store;
mod support;
mod wallets;
