//! Each core's view of shutdown: a flag, and the wakers of the tasks on this
//! core waiting for it (every open connection, between requests, and the
//! core's accept loops).
//!
//! A keep-alive connection waits for shutdown beside each read, so its wait
//! is set up and dropped once per request. Waiting on the process-wide
//! [`Shutdown`](crate::runtime::Shutdown) channel directly put every waiter
//! of every core in one list behind one lock, and dropping a wait scanned
//! that list: with thousands of idle connections open, each request paid for
//! all of them (8,000 idle connections took 2-core pushes/s from ~107k to
//! ~35k). Here a wait takes a slot of the core's own table and gives it back
//! in O(1), without a lock; one task per core waits on the process-wide
//! trigger and then wakes the core's waiters ([`Closing::trigger`]).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Whether this core is shutting down, and who is waiting for it.
#[derive(Default)]
pub struct Closing {
    triggered: Cell<bool>,
    /// One slot per pending [`Wait`]; `None` in a free slot, or once woken.
    slots: RefCell<Vec<Option<Waker>>>,
    /// Indexes of free slots.
    free: RefCell<Vec<usize>>,
}

impl Closing {
    /// A core not shutting down, with no waiters.
    pub fn new() -> Closing {
        Closing::default()
    }

    /// Whether [`Closing::trigger`] has been called.
    pub fn is_triggered(&self) -> bool {
        self.triggered.get()
    }

    /// Marks the core as shutting down and wakes every pending [`Wait`].
    pub fn trigger(&self) {
        self.triggered.set(true);
        let wakers: Vec<Waker> =
            self.slots.borrow_mut().iter_mut().filter_map(Option::take).collect();
        for w in wakers {
            w.wake();
        }
    }

    /// Resolves once the core is shutting down.
    pub fn wait(&self) -> Wait<'_> {
        Wait { closing: self, slot: None }
    }

    /// Slots in the table, free or not (for tests: it grows only with the
    /// number of waits pending at once).
    #[cfg(test)]
    fn slots_len(&self) -> usize {
        self.slots.borrow().len()
    }
}

/// The future of [`Closing::wait`]; dropping it gives its slot back.
pub struct Wait<'a> {
    closing: &'a Closing,
    slot: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.closing.triggered.get() {
            return Poll::Ready(());
        }
        let mut slots = this.closing.slots.borrow_mut();
        match this.slot {
            Some(i) => match &mut slots[i] {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            },
            None => {
                let i = match this.closing.free.borrow_mut().pop() {
                    Some(i) => i,
                    None => {
                        slots.push(None);
                        slots.len() - 1
                    }
                };
                slots[i] = Some(cx.waker().clone());
                this.slot = Some(i);
            }
        }
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.slot.take() {
            self.closing.slots.borrow_mut()[i] = None;
            self.closing.free.borrow_mut().push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(w: &mut Wait<'_>, count: &Arc<Count>) -> Poll<()> {
        let waker = Waker::from(count.clone());
        Pin::new(w).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn pending_waits_are_woken_and_then_ready() {
        let closing = Closing::new();
        let counts: Vec<Arc<Count>> = (0..3).map(|_| Arc::default()).collect();
        let mut waits: Vec<Wait<'_>> = (0..3).map(|_| closing.wait()).collect();
        for (w, c) in waits.iter_mut().zip(&counts) {
            assert_eq!(poll(w, c), Poll::Pending);
        }
        assert!(!closing.is_triggered());
        closing.trigger();
        assert!(closing.is_triggered());
        for (w, c) in waits.iter_mut().zip(&counts) {
            assert_eq!(c.0.load(Ordering::SeqCst), 1, "each waiter woken once");
            assert_eq!(poll(w, c), Poll::Ready(()));
        }
    }

    #[test]
    fn a_wait_after_the_trigger_is_ready_at_once() {
        let closing = Closing::new();
        closing.trigger();
        let count = Arc::default();
        assert_eq!(poll(&mut closing.wait(), &count), Poll::Ready(()));
        assert_eq!(closing.slots_len(), 0);
    }

    #[test]
    fn dropped_waits_give_their_slots_back() {
        let closing = Closing::new();
        let count = Arc::default();
        let mut idle = closing.wait();
        assert_eq!(poll(&mut idle, &count), Poll::Pending);
        // A connection's wait per request: set up, polled, dropped.
        for _ in 0..1000 {
            let mut w = closing.wait();
            assert_eq!(poll(&mut w, &count), Poll::Pending);
            assert_eq!(poll(&mut w, &count), Poll::Pending, "polled again: same slot");
        }
        assert_eq!(closing.slots_len(), 2, "one for the idle wait, one reused");
        // A dropped wait is not woken; the one still pending is.
        closing.trigger();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll(&mut idle, &count), Poll::Ready(()));
    }

    #[test]
    fn a_new_waker_replaces_the_old_one() {
        let closing = Closing::new();
        let (first, second): (Arc<Count>, Arc<Count>) = (Arc::default(), Arc::default());
        let mut w = closing.wait();
        assert_eq!(poll(&mut w, &first), Poll::Pending);
        assert_eq!(poll(&mut w, &second), Poll::Pending);
        closing.trigger();
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }
}
