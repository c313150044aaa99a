//! alfabot: chat-first Solana memecoin copy trading and smart-money tracking.
//!
//! Layout (see `README.md` and the design notes): `domain` and `engine` are
//! pure; `chat` is the platform-neutral interaction layer; `telegram`,
//! `discord` and `console` are transports; `feed`, `store`, `session`, `notify` and `exec` are
//! adapters; `app` wires them together.
#![forbid(unsafe_code)]

pub mod app;
pub mod backtest;
pub mod chat;
pub mod config;
pub mod console;
pub mod discord;
pub mod domain;
pub mod engine;
pub mod exec;
pub mod feed;
pub mod notify;
pub mod service;
pub mod session;
pub mod store;
pub mod telegram;
pub mod telemetry;
pub mod vault;
pub mod web;
