//! libcrypto and libssl functions we call directly (never ones this library also exports;
//! those go through [`super::real`]). Declared here, with OpenSSL 3's prototypes, rather
//! than taken from `openssl-sys`, so the exact signatures we rely on are in one place.
#![allow(missing_docs)] // OpenSSL's own functions, documented in its man pages.

use std::ffi::{c_char, c_int, c_long, c_uint, c_void};

use openssl_sys::{
    ASN1_TIME, BIO, CRYPTO_EX_DATA, EVP_CIPHER, EVP_CIPHER_CTX, EVP_PKEY, OPENSSL_STACK, SSL, SSL_CTX, SSL_SESSION,
    X509,
};

/// `CRYPTO_EX_free`.
pub type ExFree = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut CRYPTO_EX_DATA, c_int, c_long, *mut c_void);

/// A new ex_data index of `class` (`CRYPTO_EX_INDEX_*`) whose values `free` releases when
/// their object dies; negative if OpenSSL refuses.
pub fn new_ex_index(class: c_int, free: ExFree) -> c_int {
    // SAFETY: registers an index with a free callback of libcrypto's prototype; no new/dup.
    unsafe {
        CRYPTO_get_ex_new_index(
            class,
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            Some(free),
        )
    }
}

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
    pub fn RAND_bytes(buf: *mut u8, num: c_int) -> c_int;
    pub fn SSL_get_SSL_CTX(ssl: *const SSL) -> *mut SSL_CTX;
    pub fn SSL_version(ssl: *const SSL) -> c_int;
    pub fn SSL_get_session(ssl: *const SSL) -> *mut SSL_SESSION;
    pub fn SSL_SESSION_get_timeout(s: *const SSL_SESSION) -> c_long;
    pub fn SSL_SESSION_set_timeout(s: *mut SSL_SESSION, t: c_long) -> c_long;
    pub fn SSL_SESSION_get_time(s: *const SSL_SESSION) -> c_long;
    pub fn SSL_get_ex_data(ssl: *const SSL, idx: c_int) -> *mut c_void;
    pub fn SSL_set_ex_data(ssl: *mut SSL, idx: c_int, data: *mut c_void) -> c_int;
    pub fn SSL_client_hello_get0_ext(s: *mut SSL, typ: c_uint, out: *mut *const u8, outlen: *mut usize) -> c_int;
    pub fn SSL_use_cert_and_key(
        ssl: *mut SSL,
        x509: *mut X509,
        pkey: *mut EVP_PKEY,
        chain: *mut OPENSSL_STACK,
        override_: c_int,
    ) -> c_int;
    pub fn SSL_CTX_get0_certificate(ctx: *const SSL_CTX) -> *mut X509;
    pub fn SSL_CTX_get0_privatekey(ctx: *const SSL_CTX) -> *mut EVP_PKEY;
    pub fn BIO_new_mem_buf(buf: *const c_void, len: c_int) -> *mut BIO;
    pub fn BIO_free(b: *mut BIO) -> c_int;
    pub fn PEM_read_bio_X509(bp: *mut BIO, x: *mut *mut X509, cb: *mut c_void, u: *mut c_void) -> *mut X509;
    pub fn PEM_read_bio_PrivateKey(
        bp: *mut BIO,
        x: *mut *mut EVP_PKEY,
        cb: *mut c_void,
        u: *mut c_void,
    ) -> *mut EVP_PKEY;
    pub fn X509_free(x: *mut X509);
    pub fn X509_up_ref(x: *mut X509) -> c_int;
    pub fn EVP_PKEY_free(k: *mut EVP_PKEY);
    pub fn EVP_PKEY_up_ref(k: *mut EVP_PKEY) -> c_int;
    pub fn X509_check_private_key(x: *const X509, k: *const EVP_PKEY) -> c_int;
    pub fn X509_check_host(
        x: *mut X509,
        chk: *const c_char,
        chklen: usize,
        flags: c_uint,
        peername: *mut *mut c_char,
    ) -> c_int;
    pub fn X509_get0_notAfter(x: *const X509) -> *const ASN1_TIME;
    pub fn ASN1_TIME_diff(pday: *mut c_int, psec: *mut c_int, from: *const ASN1_TIME, to: *const ASN1_TIME) -> c_int;
    pub fn OPENSSL_sk_new_null() -> *mut OPENSSL_STACK;
    pub fn OPENSSL_sk_push(st: *mut OPENSSL_STACK, data: *const c_void) -> c_int;
    pub fn OPENSSL_sk_num(st: *const OPENSSL_STACK) -> c_int;
    pub fn OPENSSL_sk_value(st: *const OPENSSL_STACK, i: c_int) -> *mut c_void;
    pub fn OPENSSL_sk_free(st: *mut OPENSSL_STACK);
    pub fn ERR_get_error() -> std::ffi::c_ulong;
    pub fn ERR_error_string_n(e: std::ffi::c_ulong, buf: *mut c_char, len: usize);
    pub fn ERR_clear_error();
}
