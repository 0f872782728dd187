//! The shape every export shares: a panic boundary and NULL checks.

/// Runs the body, turning a panic into `TLSEXT_RESULT_PANIC`.
macro_rules! ffi_boundary {
    ($body:block) => {{
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || -> $crate::ffi::result::tlsext_result { $body },
        )) {
            Ok(r) => r,
            Err(_) => {
                $crate::ffi::result::set_last_error("panic inside tlsext-shim (a bug; please report it)");
                $crate::ffi::result::tlsext_result::TLSEXT_RESULT_PANIC
            }
        }
    }};
}

/// A shared reference from a handle pointer, or `return TLSEXT_RESULT_NULL_PARAMETER`.
macro_rules! try_ref {
    ($ptr:expr, $name:literal) => {{
        let p = $ptr;
        if p.is_null() {
            return $crate::ffi::result::null_parameter($name);
        }
        p
    }};
}
