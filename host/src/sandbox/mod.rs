//! The WebAssembly sandbox: the engine and the compiled guest, what each instance's store
//! holds, the calls into an instance under its limits, the pool of warm instances, CPU
//! fairness between apps, and the data-folder limit.

pub mod data_quota;
pub mod engine;
pub mod instance;
pub mod pool;
pub mod scheduler;
pub mod store;
