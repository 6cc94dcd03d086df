//! How SQLite gets its memory: from mimalloc, without statistics.
//!
//! Both settings must be made before SQLite initialises, so `configure` runs
//! once, before the first connection opens; later calls change nothing.

use std::ffi::{c_int, c_void};

use libmimalloc_sys::{mi_free, mi_malloc, mi_realloc, mi_usable_size};
use libsqlite3_sys as ffi;

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    // SAFETY: SQLite never asks for a negative size; mi_malloc takes any size.
    unsafe { mi_malloc(n.max(0) as usize) }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    // SAFETY: SQLite frees only what x_malloc or x_realloc returned.
    unsafe { mi_free(p) }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    // SAFETY: as for x_malloc and x_free.
    unsafe { mi_realloc(p, n.max(0) as usize) }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    // SAFETY: p came from x_malloc or x_realloc (or is null, which mimalloc allows).
    unsafe { mi_usable_size(p) }.min(c_int::MAX as usize) as c_int
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    (n + 7) & !7
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// SQLite allocates through the C library's malloc by default: glibc's
/// arena locks and consolidation were about a tenth of a busy page's time,
/// on top of the mimalloc the rest of the server uses. And SQLite counts
/// every allocation in global statistics behind one mutex, which every
/// connection's thread takes for every value it copies out; nothing here
/// reads those statistics.
pub fn configure() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: called once, before this process opens any connection;
        // SQLite copies the methods before sqlite3_config returns. Each
        // option takes the argument given (a pointer, an int).
        let rc = unsafe {
            ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_MALLOC,
                &methods as *const ffi::sqlite3_mem_methods,
            )
        };
        // SAFETY: as above.
        let rc2 = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) };
        if rc != ffi::SQLITE_OK || rc2 != ffi::SQLITE_OK {
            tracing::debug!(
                rc,
                rc2,
                "SQLite's memory settings unchanged (SQLite already initialised)"
            );
        }
    });
}
