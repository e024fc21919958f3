//! `astra:host/pubsub`: `stores.pubsub` topics across an app's instances (decision 2).
//!
//! One hub per app version maps each topic to the inboxes of the instances with
//! subscribers for it. Publishing copies the message (JSON text) into each other inbox and
//! wakes its instance: a WebSocket handler waiting in `recv` returns `published` and runs
//! its subscribers; an idle instance is taken out by the pool's runner, as for a due task.
//! An inbox holds at most `MAX_QUEUED` messages and `MAX_QUEUED_BYTES`; beyond, the oldest
//! go (an instance that never runs must not make the host hold its messages for ever).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use tokio::sync::Notify;

use crate::bindings::astra::host::pubsub::{Delivery, Host};

/// Messages one instance's inbox holds before the oldest are dropped.
pub const MAX_QUEUED: usize = 1024;
/// Bytes one instance's inbox holds before the oldest are dropped.
pub const MAX_QUEUED_BYTES: usize = 4 << 20;
/// Topics one instance may subscribe to across instances; more stay instance-local.
pub const MAX_TOPICS: usize = 1024;

/// One app version's topics.
#[derive(Default)]
pub struct PubsubApp {
    topics: Mutex<HashMap<String, Vec<Weak<Inbox>>>>,
    /// The pool's runner, woken when an idle instance has messages.
    wake: OnceLock<Arc<Notify>>,
}

impl PubsubApp {
    /// Called once by the app's pool.
    pub fn set_wake(&self, wake: Arc<Notify>) {
        let _ = self.wake.set(wake);
    }

    fn publish(&self, from: &Arc<Inbox>, topic: &str, data: &str) {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(inboxes) = topics.get_mut(topic) else { return };
        inboxes.retain(|inbox| inbox.strong_count() > 0);
        for inbox in inboxes.iter().filter_map(Weak::upgrade) {
            if !Arc::ptr_eq(&inbox, from) {
                inbox.push(Delivery { topic: topic.to_string(), data: data.to_string() });
            }
        }
        drop(topics);
        if let Some(wake) = self.wake.get() {
            wake.notify_one();
        }
    }
}

/// Messages waiting for one instance.
#[derive(Default)]
pub struct Inbox {
    queue: Mutex<(VecDeque<Delivery>, usize)>,
    /// Told when a message arrives, for a WebSocket `recv` waiting on its client.
    pub arrived: Notify,
}

impl Inbox {
    fn push(&self, delivery: Delivery) {
        let size = delivery.topic.len() + delivery.data.len();
        if size > MAX_QUEUED_BYTES {
            return;
        }
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let (items, bytes) = &mut *queue;
        while items.len() >= MAX_QUEUED || *bytes + size > MAX_QUEUED_BYTES {
            let Some(oldest) = items.pop_front() else { break };
            *bytes -= oldest.topic.len() + oldest.data.len();
        }
        *bytes += size;
        items.push_back(delivery);
        drop(queue);
        self.arrived.notify_one();
    }

    pub fn is_empty(&self) -> bool {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).0.is_empty()
    }

    fn take(&self) -> Vec<Delivery> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.1 = 0;
        queue.0.drain(..).collect()
    }
}

/// One instance's side: its inbox and the topics it listens to.
pub struct PubsubState {
    app: Arc<PubsubApp>,
    pub inbox: Arc<Inbox>,
    topics: HashSet<String>,
}

impl PubsubState {
    pub fn new(app: Arc<PubsubApp>) -> PubsubState {
        PubsubState { app, inbox: Arc::default(), topics: HashSet::new() }
    }

    pub fn has_deliveries(&self) -> bool {
        !self.topics.is_empty() && !self.inbox.is_empty()
    }
}

impl Drop for PubsubState {
    fn drop(&mut self) {
        let mut topics = self.app.topics.lock().unwrap_or_else(PoisonError::into_inner);
        for topic in &self.topics {
            if let Some(inboxes) = topics.get_mut(topic) {
                inboxes.retain(|inbox| {
                    inbox.strong_count() > 0 && !std::ptr::eq(inbox.as_ptr(), Arc::as_ptr(&self.inbox))
                });
                if inboxes.is_empty() {
                    topics.remove(topic);
                }
            }
        }
    }
}

impl Host for PubsubState {
    fn subscribe(&mut self, topic: String) -> wasmtime::Result<()> {
        if self.topics.len() < MAX_TOPICS && self.topics.insert(topic.clone()) {
            let mut topics = self.app.topics.lock().unwrap_or_else(PoisonError::into_inner);
            topics.entry(topic).or_default().push(Arc::downgrade(&self.inbox));
        }
        Ok(())
    }

    fn unsubscribe(&mut self, topic: String) -> wasmtime::Result<()> {
        if self.topics.remove(&topic) {
            let mut topics = self.app.topics.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(inboxes) = topics.get_mut(&topic) {
                inboxes.retain(|inbox| !std::ptr::eq(inbox.as_ptr(), Arc::as_ptr(&self.inbox)));
                if inboxes.is_empty() {
                    topics.remove(&topic);
                }
            }
        }
        Ok(())
    }

    fn publish(&mut self, topic: String, data: String) -> wasmtime::Result<()> {
        self.app.publish(&self.inbox, &topic, &data);
        Ok(())
    }

    fn take(&mut self) -> wasmtime::Result<Vec<Delivery>> {
        Ok(self.inbox.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reaches_the_other_instances_subscribed_and_not_its_sender() {
        let app = Arc::new(PubsubApp::default());
        let (mut a, mut b, mut c) =
            (PubsubState::new(app.clone()), PubsubState::new(app.clone()), PubsubState::new(app.clone()));
        for state in [&mut a, &mut b] {
            state.subscribe("chat".into()).unwrap();
        }
        c.subscribe("other".into()).unwrap();
        a.publish("chat".into(), "\"hi\"".into()).unwrap();
        assert!(a.take().unwrap().is_empty(), "the sender's own subscribers were called in its instance");
        let got = b.take().unwrap();
        assert_eq!((got.len(), got[0].topic.as_str(), got[0].data.as_str()), (1, "chat", "\"hi\""));
        assert!(c.take().unwrap().is_empty());
        b.unsubscribe("chat".into()).unwrap();
        a.publish("chat".into(), "1".into()).unwrap();
        assert!(b.take().unwrap().is_empty());
        drop(a);
        assert!(!app.topics.lock().unwrap().contains_key("chat"), "a dropped instance leaves no topic behind");
    }

    #[test]
    fn a_full_inbox_drops_its_oldest_messages() {
        let app = Arc::new(PubsubApp::default());
        let (mut sender, mut receiver) = (PubsubState::new(app.clone()), PubsubState::new(app.clone()));
        receiver.subscribe("t".into()).unwrap();
        for n in 0..MAX_QUEUED + 10 {
            sender.publish("t".into(), n.to_string()).unwrap();
        }
        let got = receiver.take().unwrap();
        assert_eq!(got.len(), MAX_QUEUED);
        assert_eq!(got[0].data, "10");
    }
}
