//! Memory helpers for the big per-core arrays: huge-page backing, pre-faulting and
//! cache prefetch. The two `unsafe` blocks here are paid for by the `table` bench
//! (`burst_hit` against `burst_hit_smallpages` and serial `hit`).
//!
//! Why: at 10 M connections the tables span about a gigabyte. With 4 KiB pages
//! every lookup also misses the TLB (a page walk per access); 2 MiB pages let the
//! TLB cover the whole table. Touching every page at start-up keeps the kernel's
//! page-fault work (zeroing a 2 MiB page is ~100 µs) off the per-packet path.

/// Where a table's arrays live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backing {
    /// Ask the kernel for transparent huge pages (`MADV_HUGEPAGE`) and touch
    /// every page up front. Falls back silently to small pages if the kernel
    /// has none to give (the advice is only advice).
    #[default]
    HugePages,
    /// Plain allocation, pages faulted in on first use (small test tables, and
    /// the bench's baseline).
    Lazy,
}

/// A vector of `len` copies of `fill`, backed as `backing` asks. Filling it
/// touches every page, so with `HugePages` nothing is faulted in later.
pub fn filled_vec<T: Clone>(len: usize, fill: T, backing: Backing) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    if backing == Backing::HugePages {
        advise_huge(&v);
    }
    v.resize(len, fill);
    v
}

/// An empty vector with room for `cap` elements whose pages are already touched
/// (filled with `fill`, then cleared), for stacks that grow on the data path.
pub(crate) fn empty_vec<T: Clone>(cap: usize, fill: T, backing: Backing) -> Vec<T> {
    let mut v = filled_vec(cap, fill, backing);
    v.clear();
    v
}

/// Smallest allocation worth advising: below one huge page there is nothing to gain.
const HUGE_PAGE: usize = 2 << 20;

fn advise_huge<T>(v: &Vec<T>) {
    let bytes = v.capacity().saturating_mul(std::mem::size_of::<T>());
    if bytes < HUGE_PAGE {
        return;
    }
    let start = v.as_ptr() as usize;
    // madvise wants a page-aligned start; round inwards to whole 4 KiB pages.
    let page = 4096usize;
    let aligned = (start + page - 1) & !(page - 1);
    let len = (start + bytes).saturating_sub(aligned) & !(page - 1);
    if len == 0 {
        return;
    }
    // madvise(MADV_HUGEPAGE) only changes which page size backs the range, never
    // the contents or validity of the memory; a failure (THP disabled) leaves the
    // range as it was, which is the fallback we want.
    // SAFETY: [aligned, aligned+len) lies inside `v`'s live allocation.
    unsafe {
        libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
    }
}

/// Starts loading the cache line holding `r`, so a lookup that needs it a few
/// hundred cycles later finds it in L1. Used across a burst: hash every key,
/// prefetch every bucket, then compare.
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 is a hint: it never faults and never reads into a
    // register, whatever the address; `r` is moreover a valid reference. SSE is
    // part of the x86_64 baseline, so the instruction always exists.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (r as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}
