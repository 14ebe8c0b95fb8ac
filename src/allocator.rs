//! Settings of the process allocator (mimalloc, installed by the binary).
//!
//! mimalloc keeps a freed page committed for a while before it returns it
//! to the OS (1 s by default), and then only when it next allocates or is
//! asked to collect. Pushgate sets that delay to [`PURGE_DELAY_MS`] and:
//! - each core asks for the pages free longer than that to be given back a
//!   few times a second ([`collect`], from its expiry loop), so an idle
//!   gateway gives back what a burst of pushes used;
//! - a core that has sent a large response (a scrape) gives back at once all
//!   it has free ([`release`]): those buffers are not what the next push needs.
//!
//! With no delay at all (before), every page a push freed went back to the
//! OS and the next push of the same size faulted it in again: a push of
//! 1,000 series (60 KB of text) cost ~220 µs of CPU on one core, ~185 µs
//! with the delay (wrk, 100 groups re-pushed), and protobuf likewise
//! (~180 → ~165 µs). Pushes of 1 KB and the RSS at 1M series, read right
//! after the scrapes, did not move.
//!
//! Transparent huge pages are turned off for the process. mimalloc asks for
//! them on its arenas, so memory is faulted in and zeroed 2 MiB at a time and
//! a partly used huge page is resident whole. With 1M series stored
//! (`populate.py` 10000 × 100, 2 cores, two runs each), turning them off took
//! the first scrape (which renders every family) from 0.29 s to 0.155 s, the
//! cached scrape from 0.063 s to 0.057 s and RSS from 201 MB to 188 MB; push
//! rate and gzip scrapes did not move.

/// mimalloc's `mi_option_purge_delay` (same index in mimalloc v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long a freed page stays committed before mimalloc may return it to
/// the OS: long enough for the next push to reuse what the last one freed.
pub const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Sets mimalloc's purge delay to [`PURGE_DELAY_MS`] and turns transparent
/// huge pages off. Call once, early.
pub fn tune() {
    #[allow(unsafe_code)]
    // SAFETY: `mi_option_set` only stores an integer in mimalloc's option
    // table (atomically); any value is valid for the purge delay, and the
    // option index is that of `mi_option_purge_delay` (checked by the test).
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
    }
    no_huge_pages();
}

/// Returns to the OS the memory the calling thread's heap has had free for
/// longer than the purge delay.
pub fn collect() {
    #[allow(unsafe_code)]
    // SAFETY: `mi_collect` takes a flag and works on the calling thread's
    // own heap and mimalloc's internally synchronised arenas.
    unsafe {
        libmimalloc_sys::mi_collect(false);
    }
}

/// Returns to the OS all the memory the calling thread's heap has free
/// now, whatever the delay (after a large response).
pub fn release() {
    #[allow(unsafe_code)]
    // SAFETY: as in `collect`.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// Turns transparent huge pages off for this process (Linux; the kernel
/// then ignores mimalloc's requests for them). Failure leaves them on.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // SAFETY: `PR_SET_THP_DISABLE` takes integers only and sets a flag of
    // this process; no memory is passed or changed.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// The purge delay in effect, in milliseconds.
pub fn purge_delay_ms() -> std::ffi::c_long {
    #[allow(unsafe_code)]
    // SAFETY: reads an option by its index; no memory is passed.
    unsafe {
        libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_delay_is_the_option_set() {
        // mimalloc's documented default is 1000 ms (10 ms in older v2 releases):
        // a non-zero default shows the index names the purge delay.
        assert!(purge_delay_ms() > 0, "index {MI_OPTION_PURGE_DELAY} is not the purge delay");
        tune();
        assert_eq!(purge_delay_ms(), PURGE_DELAY_MS);
    }

    #[test]
    fn collect_and_release_run_on_any_thread() {
        // Memory from mimalloc itself (the tests' global allocator is the
        // system's): freed, then given back, from this thread and another.
        #[allow(unsafe_code)]
        // SAFETY: a block from `mi_malloc` is written within its size and
        // freed once with `mi_free`.
        let churn = || unsafe {
            let p = libmimalloc_sys::mi_malloc(1 << 20).cast::<u8>();
            assert!(!p.is_null());
            std::ptr::write_bytes(p, 1, 1 << 20);
            libmimalloc_sys::mi_free(p.cast());
        };
        churn();
        collect();
        release();
        std::thread::spawn(move || {
            churn();
            release();
            collect();
        })
        .join()
        .expect("thread");
    }

    /// Whether transparent huge pages are off for this process.
    #[cfg(target_os = "linux")]
    fn huge_pages_off() -> bool {
        #[allow(unsafe_code)]
        // SAFETY: `PR_GET_THP_DISABLE` takes integers only and reads a flag.
        unsafe {
            libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn huge_pages_are_turned_off() {
        // Not `tune()`: the test above reads the purge delay before it.
        no_huge_pages();
        assert!(huge_pages_off());
        let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
        assert!(status.lines().any(|l| l.split_whitespace().eq(["THP_enabled:", "0"])), "{status}");
    }
}
