//! Where and how the kernel runs each core's thread: under the batch
//! scheduling policy unless `--runtime.sched-policy=normal`, and pinned to
//! one CPU only with `--runtime.pin-threads`.
//!
//! Under the normal policy (`SCHED_OTHER`) a thread woken by a completion
//! preempts whatever runs on its CPU at once. When the CPU is shared with
//! another busy process (a sidecar, a node agent, or the load generator on a
//! test box), every arriving request then costs two context switches and the
//! thread wakes for one request at a time. `SCHED_BATCH` is the same fair
//! share without that wake-up preemption: the woken thread waits for the
//! running task's slice to end (or for it to block), then finds a batch of
//! completions. On an otherwise idle CPU nothing changes: a woken thread
//! runs at once under either policy.
//!
//! Unpinned, the kernel can move a core's thread to a CPU another process
//! has left idle; pinned, it waits for its own CPU. Each core's shard, inbox
//! and listener stay with its thread wherever it runs.
//!
//! Measured on the 2-core box shared with `wrk` (README, Performance):
//! pushes/s on both cores rose by 15-20% with `SCHED_BATCH` and by another
//! ~6% unpinned, with about half as many sleeps per request; one core and
//! p99 latency at a quarter of the peak rate did not move.

use std::io;

/// The scheduling policy of the core threads (`--runtime.sched-policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SchedPolicy {
    /// `SCHED_BATCH`: a fair share without wake-up preemption.
    #[default]
    Batch,
    /// `SCHED_OTHER`: what the thread inherited (no change is made).
    Normal,
}

impl SchedPolicy {
    /// The flag value naming this policy.
    pub fn as_flag(self) -> &'static str {
        match self {
            SchedPolicy::Batch => "batch",
            SchedPolicy::Normal => "normal",
        }
    }

    /// The policy a flag value names.
    pub fn from_flag(value: &str) -> Option<SchedPolicy> {
        match value {
            "batch" => Some(SchedPolicy::Batch),
            "normal" => Some(SchedPolicy::Normal),
            _ => None,
        }
    }
}

/// Pins the calling thread to CPU `pin` (modulo the CPUs there are), if
/// given, and applies `policy` to it. Failures are returned, for the caller
/// to log: the thread runs on, unpinned or under the normal policy.
pub fn place_thread(pin: Option<usize>, policy: SchedPolicy) -> io::Result<()> {
    if let Some(cpu) = pin {
        let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        monoio::utils::bind_to_cpu_set([cpu % n])?;
    }
    match policy {
        SchedPolicy::Batch => set_batch(),
        SchedPolicy::Normal => Ok(()),
    }
}

/// Puts the calling thread under `SCHED_BATCH` (Linux); elsewhere a no-op.
fn set_batch() -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        #[allow(unsafe_code)]
        // SAFETY: `sched_setscheduler` reads the `sched_param` passed by
        // reference, which lives for the call; pid 0 is the calling thread,
        // and priority 0 is the only one `SCHED_BATCH` accepts (no privilege
        // is needed for it). Exercised by `batch_policy_is_applied`.
        let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    fn current_policy() -> libc::c_int {
        #[allow(unsafe_code)]
        // SAFETY: takes a pid only (0: the calling thread).
        unsafe {
            libc::sched_getscheduler(0)
        }
    }

    #[test]
    fn flag_values_round_trip() {
        for p in [SchedPolicy::Batch, SchedPolicy::Normal] {
            assert_eq!(SchedPolicy::from_flag(p.as_flag()), Some(p));
        }
        assert_eq!(SchedPolicy::from_flag("fifo"), None);
        assert_eq!(SchedPolicy::default(), SchedPolicy::Batch);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn batch_policy_is_applied() {
        // A thread of its own: the policy stays with the thread.
        let policy = std::thread::spawn(|| {
            place_thread(None, SchedPolicy::Batch).expect("SCHED_BATCH needs no privilege");
            current_policy()
        })
        .join()
        .expect("thread");
        assert_eq!(policy, libc::SCHED_BATCH);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn normal_policy_leaves_the_thread_as_it_was() {
        let (before, after) = std::thread::spawn(|| {
            let before = current_policy();
            place_thread(Some(1), SchedPolicy::Normal).expect("pinning");
            (before, current_policy())
        })
        .join()
        .expect("thread");
        assert_eq!(before, after);
    }
}
