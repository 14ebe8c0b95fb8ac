//! `ThinStr`: an immutable owned string behind one pointer (8 bytes).
//!
//! A `Box<str>` is a pointer and a length (16 bytes). Every stored series
//! holds its packed labels as one string, so at a million series the length
//! word alone is 8 MB. Here the length lives in a 4-byte header in front of
//! the bytes, in the same allocation; for a typical label set (~40 bytes)
//! the header fits in the allocator's size-class slack, so the heap block
//! does not grow.

#![allow(unsafe_code)]

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ptr::NonNull;

/// Size of the length header (a `u32`, native endian).
const HEADER: usize = std::mem::size_of::<u32>();

/// The header every empty `ThinStr` points at (empty strings never allocate).
static EMPTY: u32 = 0;

/// An immutable string whose length is stored on the heap (see module docs).
///
/// INVARIANT: `ptr` points either at [`EMPTY`] (length 0, never freed) or
/// at a live allocation of [`layout`]`(len)` whose first 4 bytes hold `len`
/// as a `u32` (non-zero) followed by `len` bytes of valid UTF-8, owned by
/// this value alone.
pub struct ThinStr {
    ptr: NonNull<u32>,
}

// SAFETY: a `ThinStr` owns its allocation exclusively and never mutates it
// after construction, like a `Box<str>`, which is `Send` and `Sync`.
unsafe impl Send for ThinStr {}
// SAFETY: as above; shared access is read-only.
unsafe impl Sync for ThinStr {}

fn layout(len: usize) -> Layout {
    Layout::from_size_align(HEADER + len, std::mem::align_of::<u32>())
        .expect("a label set is far below isize::MAX bytes")
}

impl ThinStr {
    /// Copies `s` into a new allocation (none when `s` is empty).
    ///
    /// # Panics
    /// If `s` is 4 GiB or longer (label sets are bounded far below that by
    /// the request size limit).
    pub fn new(s: &str) -> ThinStr {
        if s.is_empty() {
            return ThinStr::default();
        }
        let len = u32::try_from(s.len()).expect("label sets are shorter than 4 GiB");
        let layout = layout(s.len());
        // SAFETY: `layout` has a non-zero size (HEADER + len > 0).
        let raw = unsafe { alloc(layout) };
        let Some(ptr) = NonNull::new(raw.cast::<u32>()) else { handle_alloc_error(layout) };
        // SAFETY: the block is `HEADER + len` bytes, aligned for `u32`: the
        // header write and the copy of `len` bytes after it stay inside it,
        // and `s` cannot overlap a block allocated just now.
        unsafe {
            ptr.as_ptr().write(len);
            std::ptr::copy_nonoverlapping(s.as_ptr(), raw.add(HEADER), s.len());
        }
        ThinStr { ptr }
    }

    fn len(&self) -> usize {
        // SAFETY: by the INVARIANT `ptr` points at a live, aligned header.
        unsafe { self.ptr.as_ptr().read() as usize }
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        let len = self.len();
        if len == 0 {
            return "";
        }
        // SAFETY: by the INVARIANT, `len` bytes of valid UTF-8 follow the
        // header in an allocation that lives as long as `self`, unchanged.
        unsafe {
            let bytes = self.ptr.as_ptr().cast::<u8>().add(HEADER);
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(bytes, len))
        }
    }
}

impl Default for ThinStr {
    fn default() -> Self {
        ThinStr { ptr: NonNull::from(&EMPTY) }
    }
}

impl Drop for ThinStr {
    fn drop(&mut self) {
        let len = self.len();
        if len > 0 {
            // SAFETY: a non-zero length means `ptr` came from `alloc` with
            // `layout(len)` in `new` and is owned by `self` alone.
            unsafe { dealloc(self.ptr.as_ptr().cast::<u8>(), layout(len)) }
        }
    }
}

impl Clone for ThinStr {
    fn clone(&self) -> Self {
        ThinStr::new(self.as_str())
    }
}

impl std::ops::Deref for ThinStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for ThinStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ThinStr {}

impl Hash for ThinStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for ThinStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
        let mut h = DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn is_one_pointer() {
        assert_eq!(std::mem::size_of::<ThinStr>(), 8);
        assert_eq!(std::mem::size_of::<Option<ThinStr>>(), 8);
    }

    #[test]
    fn round_trips_clones_and_drops() {
        for s in ["", "a", "\u{1F600} ünïcode", &"x".repeat(100_000)] {
            let t = ThinStr::new(s);
            assert_eq!(t.as_str(), s);
            let c = t.clone();
            drop(t);
            assert_eq!(&*c, s);
            assert_eq!(c, ThinStr::new(s));
            assert_eq!(hash_of(&c), hash_of(s), "hashes as the str it holds");
            assert_eq!(format!("{c:?}"), format!("{s:?}"));
        }
        assert_eq!(ThinStr::default().as_str(), "");
        assert_ne!(ThinStr::new("a"), ThinStr::new("b"));
    }

    #[test]
    fn crosses_threads() {
        let t = ThinStr::new("moved");
        let back = std::thread::spawn(move || t).join().unwrap();
        assert_eq!(&*back, "moved");
    }

    proptest::proptest! {
        #[test]
        fn any_string_round_trips(s in ".{0,300}") {
            let t = ThinStr::new(&s);
            proptest::prop_assert_eq!(t.as_str(), s.as_str());
            let c = t.clone();
            proptest::prop_assert_eq!(c.as_str(), s.as_str());
        }
    }
}
