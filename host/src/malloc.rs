//! Process-wide tuning of the C allocator, applied once at start-up before any thread exists.
//!
//! glibc serves an allocation of 128 KiB or more with its own `mmap` and returns it to the kernel on free, but
//! freeing such a block raises that threshold to the block's size (up to 32 MiB), so later blocks of that size come
//! from the heap arenas instead. sled allocates and frees a 512 KiB write-log buffer every time a log segment
//! fills, so under steady write load those buffers and the small allocations between them fragment the arenas and
//! the resident set keeps creeping up although the live heap is flat (docs/reliability.md, "Soak"). Pinning the
//! threshold at its default keeps large buffers on `mmap`, and the resident set levels off.

/// glibc's default `M_MMAP_THRESHOLD`; setting it explicitly turns off the dynamic adjustment.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD_BYTES: libc::c_int = 128 * 1024;

/// Pins glibc's mmap threshold unless the operator chose one with `MALLOC_MMAP_THRESHOLD_`. Call before the
/// runtime starts; on other C libraries this does nothing.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only changes allocator parameters; it is called before other threads exist.
        let accepted = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) };
        if accepted != 1 {
            tracing::warn!("glibc refused the mmap threshold; memory use may creep up under write load");
        }
    }
}
