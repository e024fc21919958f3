//! What the in-process benchmarks share: one app, warm in a sandbox, called without HTTP.
//! `benches/sandbox.rs` times it with criterion; `examples/guest_calls.rs` runs a fixed
//! number of calls for instruction counting, which a shared, noisy machine cannot skew.

pub mod warm;
