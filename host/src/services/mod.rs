//! The host side of each WIT interface the guest imports: one module per interface.

pub mod net;
pub mod outbound_http;
pub mod pubsub;
pub mod request;
pub mod runtime;
pub mod sql;
pub mod tasks;
pub mod websocket;

impl crate::bindings::astra::host::types::Host for crate::sandbox::store::GuestState {}
