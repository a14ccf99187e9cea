//! The WebAssembly module's allocator: during one ABI call, memory comes from a bump
//! region that is reset when the call ends, so that building and dropping a syntax tree
//! costs no malloc/free per node. Everything allocated during a call must be dropped
//! before the call returns (the result is copied out first); allocations outside calls
//! (the host's input buffers, the kept result) and those that do not fit the region go
//! to the system allocator as usual.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;

/// The smallest region; it grows for long queries (see `during`).
const MIN_REGION_BYTES: usize = 256 * 1024;
/// The largest region; beyond it, calls spill over to the system allocator.
const MAX_REGION_BYTES: usize = 64 * 1024 * 1024;
/// Bytes of region per byte of query: enough for the tree and the printed text of
/// typical queries.
const REGION_PER_INPUT_BYTE: usize = 12;

struct Region {
    base: *mut u8,
    size: usize,
    used: usize,
    active: bool,
}

pub struct CallArena {
    region: UnsafeCell<Region>,
}

// SAFETY: the WebAssembly module runs on one thread.
unsafe impl Sync for CallArena {}

impl CallArena {
    pub const fn new() -> CallArena {
        CallArena {
            region: UnsafeCell::new(Region {
                base: std::ptr::null_mut(),
                size: 0,
                used: 0,
                active: false,
            }),
        }
    }

    fn owns(r: &Region, ptr: *mut u8) -> bool {
        let p = ptr as usize;
        let base = r.base as usize;
        !r.base.is_null() && p >= base && p < base + r.size
    }

    /// Whether `ptr` points into the region (its contents stay valid until the next call).
    pub fn holds(&self, ptr: *const u8) -> bool {
        // SAFETY: single-threaded read.
        unsafe { Self::owns(&*self.region.get(), ptr as *mut u8) }
    }

    /// Runs `f` with allocations served from the region, then resets it; `input_len`
    /// sizes the region. `f` must not return anything allocated inside it.
    pub fn during<T: Copy>(&self, input_len: usize, f: impl FnOnce() -> T) -> T {
        let want = input_len
            .saturating_mul(REGION_PER_INPUT_BYTE)
            .clamp(MIN_REGION_BYTES, MAX_REGION_BYTES);
        // SAFETY: single-threaded; the region is only touched here and in the allocator,
        // and nothing allocated in it outlives a call, so it may be replaced between calls.
        unsafe {
            let r = &mut *self.region.get();
            if r.size < want {
                if !r.base.is_null() {
                    System.dealloc(r.base, Layout::from_size_align_unchecked(r.size, 16));
                }
                r.base = System.alloc(Layout::from_size_align_unchecked(want, 16));
                r.size = if r.base.is_null() { 0 } else { want };
            }
            r.used = 0;
            r.active = !r.base.is_null();
        }
        let out = f();
        unsafe {
            let r = &mut *self.region.get();
            r.active = false;
            r.used = 0;
        }
        out
    }
}

unsafe impl GlobalAlloc for CallArena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let r = &mut *self.region.get();
        if r.active {
            let start = (r.base as usize + r.used + layout.align() - 1) & !(layout.align() - 1);
            let end = start + layout.size();
            if end <= r.base as usize + r.size {
                r.used = end - r.base as usize;
                return start as *mut u8;
            }
        }
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let r = &*self.region.get();
        if !Self::owns(r, ptr) {
            System.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let r = &mut *self.region.get();
        if Self::owns(r, ptr) {
            // The last allocation grows in place when the region has room.
            let end = ptr as usize + layout.size();
            if r.active
                && end == r.base as usize + r.used
                && ptr as usize + new_size <= r.base as usize + r.size
            {
                r.used = ptr as usize + new_size - r.base as usize;
                return ptr;
            }
            let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            }
            return new;
        }
        System.realloc(ptr, layout, new_size)
    }
}
