//! A one-value channel from one core to a task on another: the reply to a
//! job handed to the core that owns a group (see `Core::on_owner`).
//!
//! One allocation and one uncontended lock per reply; the waiting task is
//! woken through its waker, which monoio routes to the task's own core.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

struct State<T> {
    value: Option<T>,
    /// The sender is gone (after sending or without sending).
    closed: bool,
    waker: Option<Waker>,
}

type Slot<T> = Arc<Mutex<State<T>>>;

/// Sends the value; dropped unsent, the receiver gets `None`.
pub struct Sender<T>(Option<Slot<T>>);

/// Resolves to the value sent, or `None` if the sender was dropped unsent.
pub struct Receiver<T>(Slot<T>);

/// A connected sender and receiver.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(State { value: None, closed: false, waker: None }));
    (Sender(Some(slot.clone())), Receiver(slot))
}

impl<T> Sender<T> {
    /// Delivers `value` and wakes the receiver.
    pub fn send(mut self, value: T) {
        if let Some(slot) = self.0.take() {
            close(&slot, Some(value));
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            close(&slot, None);
        }
    }
}

fn close<T>(slot: &Mutex<State<T>>, value: Option<T>) {
    // A panic elsewhere while holding this lock cannot leave the state
    // half-written (every write is a single field), so poisoning is ignored.
    let mut st = slot.lock().unwrap_or_else(PoisonError::into_inner);
    st.value = value;
    st.closed = true;
    let waker = st.waker.take();
    drop(st);
    if let Some(w) = waker {
        w.wake();
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut st = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if st.closed {
            return Poll::Ready(st.value.take());
        }
        match &st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .enable_timer()
            .build()
            .expect("runtime");
        rt.block_on(f)
    }

    #[test]
    fn a_value_sent_from_another_thread_wakes_the_receiver() {
        let (tx, rx) = channel::<Vec<u8>>();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            tx.send(vec![1, 2, 3]);
        });
        assert_eq!(block_on(rx), Some(vec![1, 2, 3]));
        t.join().expect("sender thread");
    }

    #[test]
    fn a_value_sent_before_the_first_poll_is_there() {
        let (tx, rx) = channel();
        tx.send(7u32);
        assert_eq!(block_on(rx), Some(7));
    }

    #[test]
    fn a_sender_dropped_unsent_resolves_to_none() {
        let (tx, rx) = channel::<u32>();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            drop(tx);
        });
        assert_eq!(block_on(rx), None);
        t.join().expect("sender thread");
    }
}
