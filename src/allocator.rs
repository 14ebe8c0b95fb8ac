//! Settings of the process allocator (mimalloc, installed by the binary).
//!
//! mimalloc keeps freed pages committed for a while (1 s by default) before
//! returning them to the OS, and then only when it next allocates: after a
//! scrape's transient buffers or a burst of large pushes, an idle gateway
//! kept ~50 MB more resident at 1M series than it holds. Purging at once
//! measured no slower on the push path (wrk A/B on one core: 48-49k pushes/s
//! either way).
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

/// Makes mimalloc return freed memory to the OS at once, and turns
/// transparent huge pages off. Call once, early.
pub fn tune() {
    #[allow(unsafe_code)]
    // SAFETY: `mi_option_set` only stores an integer in mimalloc's option
    // table (atomically); any value is valid for the purge delay, and the
    // option index is that of `mi_option_purge_delay` (checked by the test).
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
    no_huge_pages();
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
        assert_eq!(purge_delay_ms(), 0);
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
