//! libcrypto and libssl functions we call directly (never ones this library also exports;
//! those go through [`super::real`]). Declared here, with OpenSSL 3's prototypes, rather
//! than taken from `openssl-sys`, so the exact signatures we rely on are in one place.
#![allow(missing_docs)] // OpenSSL's own functions, documented in its man pages.

use std::ffi::{c_char, c_int, c_long, c_void};

use openssl_sys::{CRYPTO_EX_DATA, EVP_CIPHER, EVP_CIPHER_CTX, EVP_MAC_CTX, OSSL_PARAM, SSL, SSL_CTX, SSL_SESSION};

/// `CRYPTO_EX_free`.
pub type ExFree = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut CRYPTO_EX_DATA, c_int, c_long, *mut c_void);

unsafe extern "C" {
    pub fn CRYPTO_get_ex_new_index(
        class_index: c_int,
        argl: c_long,
        argp: *mut c_void,
        new_func: *mut c_void,
        dup_func: *mut c_void,
        free_func: Option<ExFree>,
    ) -> c_int;
    pub fn EVP_CIPHER_fetch(ctx: *mut c_void, algorithm: *const c_char, properties: *const c_char) -> *mut EVP_CIPHER;
    pub fn EVP_EncryptInit_ex(
        ctx: *mut EVP_CIPHER_CTX,
        cipher: *const EVP_CIPHER,
        engine: *mut c_void,
        key: *const u8,
        iv: *const u8,
    ) -> c_int;
    pub fn EVP_DecryptInit_ex(
        ctx: *mut EVP_CIPHER_CTX,
        cipher: *const EVP_CIPHER,
        engine: *mut c_void,
        key: *const u8,
        iv: *const u8,
    ) -> c_int;
    pub fn EVP_MAC_CTX_set_params(ctx: *mut EVP_MAC_CTX, params: *const OSSL_PARAM) -> c_int;
    pub fn RAND_bytes(buf: *mut u8, num: c_int) -> c_int;
    pub fn SSL_get_SSL_CTX(ssl: *const SSL) -> *mut SSL_CTX;
    pub fn SSL_version(ssl: *const SSL) -> c_int;
    pub fn SSL_get_session(ssl: *const SSL) -> *mut SSL_SESSION;
    pub fn SSL_SESSION_get_timeout(s: *const SSL_SESSION) -> c_long;
    pub fn SSL_SESSION_set_timeout(s: *mut SSL_SESSION, t: c_long) -> c_long;
}
