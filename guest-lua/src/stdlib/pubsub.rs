//! The instance's end of app-wide `stores.pubsub` (decision 2; host side
//! `services/pubsub.rs`). `lua/stores.lua` keeps the subscribers and tells the host which
//! topics it listens to; what other instances publish arrives as JSON and is handed to the
//! module's delivery function when the instance can run Lua (a WebSocket `recv`, or the
//! pool's `run-tasks`). A subscriber's error there is logged: the publisher is elsewhere.

use mlua::{Function, Lua, Table, Value};

use crate::astra::host::pubsub as host;
use crate::astra::host::runtime::{self, Level};

/// Registry slot of `stores.lua`'s delivery function, set when the module loads.
const DELIVER_KEY: &str = "astra.pubsub.deliver";

/// The functions `lua/stores.lua` gets.
pub fn internal(lua: &Lua) -> mlua::Result<Table> {
    let internal = lua.create_table()?;
    internal.set(
        "subscribe",
        lua.create_function(|_, topic: String| {
            host::subscribe(&topic);
            Ok(())
        })?,
    )?;
    internal.set(
        "unsubscribe",
        lua.create_function(|_, topic: String| {
            host::unsubscribe(&topic);
            Ok(())
        })?,
    )?;
    internal.set(
        "publish",
        lua.create_function(|lua, (topic, data): (String, Value)| {
            let json = crate::stdlib::serde::json::encode(lua, data).map_err(|e| {
                mlua::Error::runtime(format!("stores.pubsub.publish: the data reaches other instances as JSON: {e}"))
            })?;
            host::publish(&topic, &String::from_utf8_lossy(&json));
            Ok(())
        })?,
    )?;
    internal.set(
        "on_delivery",
        lua.create_function(|lua, deliver: Function| lua.set_named_registry_value(DELIVER_KEY, deliver))?,
    )?;
    Ok(internal)
}

/// Hands what other instances published to this instance's subscribers.
pub fn deliver_pending(lua: &Lua) {
    let deliveries = host::take();
    if deliveries.is_empty() {
        return;
    }
    let Ok(Some(deliver)) = lua.named_registry_value::<Option<Function>>(DELIVER_KEY) else { return };
    for delivery in deliveries {
        let outcome = crate::stdlib::serde::json::decode(lua, delivery.data.as_bytes(), "a published value")
            .and_then(|data| deliver.call::<()>((delivery.topic.as_str(), data)));
        if let Err(error) = outcome {
            let message = crate::stdlib::tasks::message_of(&error);
            runtime::log(Level::Error, &format!("Error in a pubsub subscriber of {:?}: {message}", delivery.topic));
        }
    }
}
