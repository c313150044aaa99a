//! Live execution building blocks: the Solana RPC wrapper (`chain`), the
//! Jupiter swap API client (`jupiter`), the mint screen (`screen`) and the
//! swap flow that ties them together (`swap`).
//!
//! This is the adapter side: it may use solana and HTTP crates, and it does
//! not import the engine. `src/engine` and `src/domain` must never import
//! anything from here or from a solana crate (CI greps for it).

pub mod chain;
pub mod jupiter;
pub mod screen;
pub mod swap;
