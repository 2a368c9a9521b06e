//! The `http_handler` imports, as the http-wasm ABI declares them. On `wasm32` they are the host's functions; on
//! any other target there is no host, and each one panics. Private: every caller in this crate passes pointers
//! into buffers it owns, of the lengths it passes, which is what makes the wrappers safe to call.

#[cfg(target_arch = "wasm32")]
mod host {
    #[link(wasm_import_module = "http_handler")]
    unsafe extern "C" {
        pub fn get_config(buf: *mut u8, limit: u32) -> u32;
        pub fn log(level: i32, message: *const u8, len: u32);
        pub fn get_method(buf: *mut u8, limit: u32) -> u32;
        pub fn set_method(method: *const u8, len: u32);
        pub fn get_uri(buf: *mut u8, limit: u32) -> u32;
        pub fn set_uri(uri: *const u8, len: u32);
        pub fn get_source_addr(buf: *mut u8, limit: u32) -> u32;
        pub fn get_header_values(kind: u32, name: *const u8, name_len: u32, buf: *mut u8, limit: u32) -> i64;
        pub fn set_header_value(kind: u32, name: *const u8, name_len: u32, value: *const u8, value_len: u32);
        pub fn add_header_value(kind: u32, name: *const u8, name_len: u32, value: *const u8, value_len: u32);
        pub fn remove_header(kind: u32, name: *const u8, name_len: u32);
        pub fn read_body(kind: u32, buf: *mut u8, limit: u32) -> i64;
        pub fn write_body(kind: u32, body: *const u8, len: u32);
        pub fn get_status_code() -> u32;
        pub fn set_status_code(status: u32);
    }
}

/// Declares a safe wrapper per import: on `wasm32` a call of the host (the pointers come from live Rust slices
/// and buffers of the length passed), elsewhere a panic.
macro_rules! imports {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;)*) => {
        $(
            pub fn $name($($arg: $ty),*) $(-> $ret)? {
                #[cfg(target_arch = "wasm32")]
                // SAFETY: the host reads or writes only the ranges passed, which the callers own.
                return unsafe { host::$name($($arg),*) };
                #[cfg(not(target_arch = "wasm32"))]
                {
                    let _ = ($($arg,)*);
                    panic!(concat!("http_handler.", stringify!($name), " is only there in a wasm guest"));
                }
            }
        )*
    };
}

imports! {
    fn get_config(buf: *mut u8, limit: u32) -> u32;
    fn log(level: i32, message: *const u8, len: u32);
    fn get_method(buf: *mut u8, limit: u32) -> u32;
    fn set_method(method: *const u8, len: u32);
    fn get_uri(buf: *mut u8, limit: u32) -> u32;
    fn set_uri(uri: *const u8, len: u32);
    fn get_source_addr(buf: *mut u8, limit: u32) -> u32;
    fn get_header_values(kind: u32, name: *const u8, name_len: u32, buf: *mut u8, limit: u32) -> i64;
    fn set_header_value(kind: u32, name: *const u8, name_len: u32, value: *const u8, value_len: u32);
    fn add_header_value(kind: u32, name: *const u8, name_len: u32, value: *const u8, value_len: u32);
    fn remove_header(kind: u32, name: *const u8, name_len: u32);
    fn read_body(kind: u32, buf: *mut u8, limit: u32) -> i64;
    fn write_body(kind: u32, body: *const u8, len: u32);
    fn get_status_code() -> u32;
    fn set_status_code(status: u32);
}
