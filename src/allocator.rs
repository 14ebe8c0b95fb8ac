//! Settings of the process allocator (mimalloc, installed by the binary).
//!
//! mimalloc keeps freed pages committed for a while (1 s by default) before
//! returning them to the OS, and then only when it next allocates: after a
//! scrape's transient buffers or a burst of large pushes, an idle gateway
//! kept ~50 MB more resident at 1M series than it holds. Purging at once
//! measured no slower on the push path (wrk A/B on one core: 48-49k pushes/s
//! either way).

/// mimalloc's `mi_option_purge_delay` (same index in mimalloc v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Makes mimalloc return freed memory to the OS at once. Call once, early.
pub fn tune() {
    #[allow(unsafe_code)]
    // SAFETY: `mi_option_set` only stores an integer in mimalloc's option
    // table (atomically); any value is valid for the purge delay, and the
    // option index is that of `mi_option_purge_delay` (checked by the test).
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
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
}
