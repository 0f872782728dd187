/*
 * harness.h - a tiny test harness for the tlsext-shim C tests.
 *
 * Checks:     CHECK(expr), CHECK_EQ_INT(a, b), CHECK_EQ_MEM(a, b, n), CHECK_RES(call, want),
 *             RUN(test_fn), and `return harness_summary();` at the end of main.
 *             A failed check prints file:line and the expression, counts, and goes on.
 *             The last line printed is exactly "N passed, M failed" (N, M count tests);
 *             the exit status is non-zero when anything failed. Setup steps use
 *             HARNESS_REQUIRE(expr) / HARNESS_REQUIRE_OK(call), which abort the program.
 * TLS:        an in-memory ECDSA P-256 self-signed certificate (and harness_self_signed()
 *             for more), server/client SSL_CTX factories, and harness_handshake(): a full
 *             client+server handshake over a BIO pair in one thread, data both ways (so
 *             TLS 1.3 NewSessionTickets reach the client), clean shutdown, and a report
 *             (resumed? tickets? version?).
 * Key rings:  a new ring, a ring holding one given or random key, a server context that
 *             takes its tickets from a ring (not with HARNESS_NO_SHIM).
 * Sessions:   DER helpers to replace or corrupt the ticket inside a client SSL_SESSION
 *             (OpenSSL 3.0 has no public ticket setter), and handshakes offering such a
 *             session.
 * Tickets:    harness_craft_ticket() / harness_decode_ticket(): the OpenSSL ticket format
 *             (name16 | IV16 | AES-CBC | HMAC-SHA256) done directly with libcrypto, as an
 *             independent reference.
 * Files:      a mkdtemp() directory under /tmp, file writing, recursive removal.
 *
 * Define HARNESS_NO_SHIM before including to use the harness without tlsext_shim.h.
 * Needs _GNU_SOURCE (the Makefile passes -D_GNU_SOURCE).
 */
#ifndef TLSEXT_C_TESTS_HARNESS_H
#define TLSEXT_C_TESTS_HARNESS_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#ifndef HARNESS_NO_SHIM
#include "tlsext_shim.h"
#endif

/* ------------------------------------------------------------------------------------------ */
/* Checks                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static int harness_tests_passed;
static int harness_tests_failed;
static int harness_current_failures;

#define CHECK(expr)                                                                         \
    do {                                                                                    \
        if (!(expr)) {                                                                      \
            printf("  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);               \
            fflush(stdout);                                                                 \
            harness_current_failures++;                                                     \
        }                                                                                   \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                  \
    do {                                                                                    \
        long long harness_a_ = (long long)(a);                                              \
        long long harness_b_ = (long long)(b);                                              \
        if (harness_a_ != harness_b_) {                                                     \
            printf("  %s:%d: CHECK_EQ_INT failed: %s == %s (%lld != %lld)\n", __FILE__,     \
                   __LINE__, #a, #b, harness_a_, harness_b_);                               \
            fflush(stdout);                                                                 \
            harness_current_failures++;                                                     \
        }                                                                                   \
    } while (0)

#define CHECK_EQ_MEM(a, b, n)                                                               \
    do {                                                                                    \
        size_t harness_n_ = (size_t)(n);                                                    \
        if (memcmp((a), (b), harness_n_) != 0) {                                            \
            printf("  %s:%d: CHECK_EQ_MEM failed: %s == %s\n    ", __FILE__, __LINE__, #a,  \
                   #b);                                                                     \
            harness_print_hex((const uint8_t *)(a), harness_n_);                            \
            printf(" !=\n    ");                                                            \
            harness_print_hex((const uint8_t *)(b), harness_n_);                            \
            printf("\n");                                                                   \
            fflush(stdout);                                                                 \
            harness_current_failures++;                                                     \
        }                                                                                   \
    } while (0)

#ifndef HARNESS_NO_SHIM
/* CHECK_RES(call, want): call returns a tlsext_result; print names and the detail on mismatch. */
#define CHECK_RES(call, want)                                                               \
    do {                                                                                    \
        tlsext_result harness_got_ = (call);                                                \
        tlsext_result harness_want_ = (want);                                               \
        if (harness_got_ != harness_want_) {                                                \
            printf("  %s:%d: CHECK_RES failed: %s\n    got %d (%s), want %d (%s); "         \
                   "last error: \"%s\"\n",                                                  \
                   __FILE__, __LINE__, #call, (int)harness_got_,                            \
                   tlsext_result_str(harness_got_), (int)harness_want_,                     \
                   tlsext_result_str(harness_want_), tlsext_last_error_message());          \
            fflush(stdout);                                                                 \
            harness_current_failures++;                                                     \
        }                                                                                   \
    } while (0)
#endif

#define RUN(fn)                                                                             \
    do {                                                                                    \
        harness_current_failures = 0;                                                       \
        printf("-- %s\n", #fn);                                                             \
        fflush(stdout);                                                                     \
        fn();                                                                               \
        ERR_clear_error();                                                                  \
        if (harness_current_failures == 0) {                                                \
            harness_tests_passed++;                                                         \
            printf("ok   %s\n", #fn);                                                       \
        } else {                                                                            \
            harness_tests_failed++;                                                         \
            printf("FAIL %s (%d failed checks)\n", #fn, harness_current_failures);          \
        }                                                                                   \
        fflush(stdout);                                                                     \
    } while (0)

static inline void harness_print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

/* Aborts the program: for setup steps without which the test cannot go on. */
#define HARNESS_REQUIRE(expr)                                                               \
    do {                                                                                    \
        if (!(expr)) {                                                                      \
            printf("  %s:%d: setup failed: %s\n", __FILE__, __LINE__, #expr);               \
            ERR_print_errors_fp(stdout);                                                    \
            fflush(stdout);                                                                 \
            exit(2);                                                                        \
        }                                                                                   \
    } while (0)

#ifndef HARNESS_NO_SHIM
/* HARNESS_REQUIRE for a call returning a tlsext_result: aborts unless it is TLSEXT_RESULT_OK,
 * printing the result's name and the last error message as CHECK_RES does. */
#define HARNESS_REQUIRE_OK(call)                                                            \
    do {                                                                                    \
        tlsext_result harness_res_ = (call);                                                \
        if (harness_res_ != TLSEXT_RESULT_OK) {                                             \
            printf("  %s:%d: setup failed: %s\n    got %d (%s); last error: \"%s\"\n",     \
                   __FILE__, __LINE__, #call, (int)harness_res_,                            \
                   tlsext_result_str(harness_res_), tlsext_last_error_message());           \
            fflush(stdout);                                                                 \
            exit(2);                                                                        \
        }                                                                                   \
    } while (0)
#endif

static void harness_free_cert(void);

static inline int harness_summary(void)
{
    harness_free_cert();
    printf("%d passed, %d failed\n", harness_tests_passed, harness_tests_failed);
    fflush(stdout);
    return harness_tests_failed == 0 ? 0 : 1;
}

/* "TLS 1.2" or "TLS 1.3", for test output. */
static inline const char *harness_version_name(int version)
{
    return version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2";
}

/* ------------------------------------------------------------------------------------------ */
/* Random bytes, base64                                                                       */
/* ------------------------------------------------------------------------------------------ */

static inline void harness_random(uint8_t *buf, size_t n)
{
    HARNESS_REQUIRE(n <= INT32_MAX && RAND_bytes(buf, (int)n) == 1);
}

/* Random key material whose name, and each secret half, are never a single repeated byte. */
static inline void harness_random_key(uint8_t *buf, size_t n)
{
    harness_random(buf, n);
    /* Make every 16-byte block hold two different bytes (never "weak"). */
    for (size_t i = 0; i + 1 < n; i += 16)
        if (buf[i] == buf[i + 1])
            buf[i + 1] ^= 0x5a;
}

/* Standard base64 with padding, no newline; caller frees. */
static inline char *harness_base64(const uint8_t *data, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    HARNESS_REQUIRE(out != NULL);
    EVP_EncodeBlock((unsigned char *)out, data, (int)n);
    return out;
}

/* A HAProxy ticket-key file's text: keys[0..n), `size` bytes each, one base64 line apiece
 * (keys is not modified). Caller frees. */
static inline char *harness_haproxy_text(uint8_t keys[][80], size_t n, size_t size)
{
    char *text = calloc(n + 1, 4 * ((size + 2) / 3) + 1);
    HARNESS_REQUIRE(text != NULL);
    for (size_t i = 0; i < n; i++) {
        char *line = harness_base64(keys[i], size);
        strcat(text, line);
        strcat(text, "\n");
        free(line);
    }
    return text;
}

/* ------------------------------------------------------------------------------------------ */
/* Temporary files                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* A fresh directory under /tmp; caller frees the string and removes it with harness_rm_rf. */
static inline char *harness_tmpdir(void)
{
    char tmpl[] = "/tmp/tlsext-c-tests-XXXXXX";
    HARNESS_REQUIRE(mkdtemp(tmpl) != NULL);
    char *dir = strdup(tmpl);
    HARNESS_REQUIRE(dir != NULL);
    return dir;
}

/* dir/name, malloc'd. */
static inline char *harness_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    HARNESS_REQUIRE(p != NULL);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Writes data to dir/name and returns the path (malloc'd). */
static inline char *harness_write_file(const char *dir, const char *name, const void *data,
                                       size_t len)
{
    char *p = harness_path(dir, name);
    FILE *f = fopen(p, "wb");
    HARNESS_REQUIRE(f != NULL);
    HARNESS_REQUIRE(len == 0 || fwrite(data, 1, len, f) == len);
    HARNESS_REQUIRE(fclose(f) == 0);
    return p;
}

/* Removes path and, if it is a directory, everything below it. */
static inline void harness_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char *child = harness_path(path, e->d_name);
                harness_rm_rf(child);
                free(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Certificate and contexts                                                                   */
/* ------------------------------------------------------------------------------------------ */

static EVP_PKEY *harness_key;
static X509 *harness_cert;

/*
 * A fresh ECDSA P-256 key (to *key_out) and a self-signed certificate for it, valid from an
 * hour ago for a year, with CN `cn`, serial number `serial` and, if `san` is not NULL, a
 * subjectAltName in OpenSSL's config syntax ("DNS:a,DNS:b"). Caller frees both.
 */
static inline X509 *harness_self_signed(const char *cn, const char *san, long serial,
                                        EVP_PKEY **key_out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    HARNESS_REQUIRE(key != NULL);
    X509 *x = X509_new();
    HARNESS_REQUIRE(x != NULL);
    HARNESS_REQUIRE(X509_set_version(x, X509_VERSION_3) == 1);
    HARNESS_REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(x), serial) == 1);
    HARNESS_REQUIRE(X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL);
    HARNESS_REQUIRE(X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) != NULL);
    X509_NAME *name = X509_get_subject_name(x);
    HARNESS_REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                               (const unsigned char *)cn, -1, -1, 0) == 1);
    HARNESS_REQUIRE(X509_set_issuer_name(x, name) == 1);
    HARNESS_REQUIRE(X509_set_pubkey(x, key) == 1);
    if (san != NULL) {
        X509V3_CTX v3;
        X509V3_set_ctx_nodb(&v3);
        X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
        HARNESS_REQUIRE(ext != NULL);
        HARNESS_REQUIRE(X509_add_ext(x, ext, -1) == 1);
        X509_EXTENSION_free(ext);
    }
    HARNESS_REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
    *key_out = key;
    return x;
}

/* The test certificate (CN=tlsext-c-tests.test) and its key, made once, in memory. */
static inline void harness_make_cert(void)
{
    if (harness_cert != NULL)
        return;
    harness_cert = harness_self_signed("tlsext-c-tests.test", NULL, 1, &harness_key);
}

static void harness_free_cert(void)
{
    X509_free(harness_cert);
    EVP_PKEY_free(harness_key);
    harness_cert = NULL;
    harness_key = NULL;
}

#define HARNESS_SID_CTX "tlsext-c-tests"

/* Pins ctx to exactly `version` (0: leaves OpenSSL's default range alone). */
static inline void harness_set_version(SSL_CTX *ctx, int version)
{
    if (version != 0) {
        HARNESS_REQUIRE(SSL_CTX_set_min_proto_version(ctx, version) == 1);
        HARNESS_REQUIRE(SSL_CTX_set_max_proto_version(ctx, version) == 1);
    }
}

/*
 * A server context serving `cert` with `key`: a session-id context, no stateful session
 * cache (so any resumption must come from a ticket), and version bounds (0 = OpenSSL's
 * default). Ticket keys are OpenSSL's own random defaults until the test installs something
 * else.
 */
static inline SSL_CTX *harness_server_ctx_with(int version, X509 *cert, EVP_PKEY *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    HARNESS_REQUIRE(ctx != NULL);
    HARNESS_REQUIRE(SSL_CTX_use_certificate(ctx, cert) == 1);
    HARNESS_REQUIRE(SSL_CTX_use_PrivateKey(ctx, key) == 1);
    HARNESS_REQUIRE(SSL_CTX_check_private_key(ctx) == 1);
    HARNESS_REQUIRE(SSL_CTX_set_session_id_context(ctx, (const unsigned char *)HARNESS_SID_CTX,
                                                   sizeof HARNESS_SID_CTX - 1) == 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    harness_set_version(ctx, version);
    return ctx;
}

/* harness_server_ctx_with the test certificate. */
static inline SSL_CTX *harness_server_ctx(int version)
{
    harness_make_cert();
    return harness_server_ctx_with(version, harness_cert, harness_key);
}

/* Per-connection client state, reached from the client's callbacks. */
typedef struct harness_client_state {
    int tickets;       /* non-empty NewSessionTicket messages received */
    int empty_tickets; /* NewSessionTicket messages with an empty ticket (TLS 1.2) */
    int new_sessions;  /* new-session callback calls */
} harness_client_state;

static inline int harness_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    harness_client_state *st = SSL_get_app_data(ssl);
    (void)sess;
    if (st != NULL)
        st->new_sessions++;
    return 0; /* we did not keep a reference */
}

/* Counts NewSessionTicket messages as the client reads them (after decryption). */
static inline void harness_msg_cb(int write_p, int version, int content_type, const void *buf,
                                  size_t len, SSL *ssl, void *arg)
{
    harness_client_state *st = arg;
    const uint8_t *p = buf;
    (void)ssl;
    if (st == NULL || write_p || content_type != SSL3_RT_HANDSHAKE || len < 4 ||
        p[0] != SSL3_MT_NEWSESSION_TICKET)
        return;
    /* type(1) length(3) lifetime(4) [TLS 1.3: age_add(4) nonce<1>] ticket<2> */
    size_t off = 4 + 4;
    if (version == TLS1_3_VERSION) {
        if (len < off + 5)
            return;
        off += 4;
        off += 1 + (size_t)p[off];
    }
    if (len < off + 2)
        return;
    size_t tlen = ((size_t)p[off] << 8) | p[off + 1];
    if (tlen > 0)
        st->tickets++;
    else
        st->empty_tickets++;
}

/* A client context: no verification (self-signed), a client-side session cache callback. */
static inline SSL_CTX *harness_client_ctx(int version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    HARNESS_REQUIRE(ctx != NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, harness_new_session_cb);
    SSL_CTX_set_msg_callback(ctx, harness_msg_cb);
    harness_set_version(ctx, version);
    return ctx;
}

#ifndef HARNESS_NO_SHIM
/* ------------------------------------------------------------------------------------------ */
/* Key rings                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* A new, empty key ring (setup: aborts if it cannot be made). Caller frees. */
static inline tlsext_keyring *harness_keyring_new(void)
{
    tlsext_keyring *ring = NULL;
    HARNESS_REQUIRE_OK(tlsext_keyring_new(&ring));
    HARNESS_REQUIRE(ring != NULL);
    return ring;
}

/* A ring holding `key` (`len` bytes in `format`); setup, so a refusal aborts. Caller frees. */
static inline tlsext_keyring *harness_keyring_with_key(const uint8_t *key, size_t len,
                                                       tlsext_key_format format)
{
    tlsext_keyring *ring = harness_keyring_new();
    HARNESS_REQUIRE_OK(tlsext_keyring_add_key(ring, key, len, format));
    return ring;
}

/* A ring holding one fresh random key of `size` (48 or 80) bytes in nginx layout; the key's
 * bytes go to key_out unless it is NULL. Caller frees. */
static inline tlsext_keyring *harness_keyring_random(size_t size, uint8_t *key_out)
{
    uint8_t key[80];
    HARNESS_REQUIRE(size <= sizeof key);
    harness_random_key(key, size);
    tlsext_keyring *ring = harness_keyring_with_key(key, size, TLSEXT_KEY_FORMAT_NGINX);
    if (key_out != NULL)
        memcpy(key_out, key, size);
    return ring;
}

/* harness_server_ctx(version) taking its tickets from `ring` (the context keeps its own
 * reference). */
static inline SSL_CTX *harness_keyring_server_ctx(int version, tlsext_keyring *ring)
{
    SSL_CTX *ctx = harness_server_ctx(version);
    HARNESS_REQUIRE_OK(tlsext_ssl_ctx_use_keyring(ctx, ring));
    return ctx;
}
#endif

/* ------------------------------------------------------------------------------------------ */
/* Handshake                                                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef struct hs_result {
    bool ok;             /* both handshakes done, data exchanged both ways */
    bool resumed;        /* SSL_session_reused(client) */
    bool server_resumed; /* SSL_session_reused(server) */
    int version;         /* SSL_version(client) */
    int tickets;         /* non-empty NewSessionTickets the client received */
    int empty_tickets;   /* empty NewSessionTickets (TLS 1.2 "no ticket this time") */
    int new_sessions;    /* client new-session callback calls */
    SSL_SESSION *session;        /* SSL_get1_session(client): reuse it; hs_result_clear frees */
    SSL_SESSION *server_session; /* SSL_get1_session(server) */
} hs_result;

static inline void hs_result_clear(hs_result *r)
{
    SSL_SESSION_free(r->session);
    SSL_SESSION_free(r->server_session);
    memset(r, 0, sizeof *r);
}

/* What SSL_do_handshake(ssl) returning `ret` means: 1 done, 0 wants more, -1 failed. */
static inline int harness_step_status(SSL *ssl, int ret)
{
    if (ret == 1)
        return 1;
    int err = SSL_get_error(ssl, ret);
    return (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) ? 0 : -1;
}

/* One SSL_do_handshake step; 1 done, 0 wants more, -1 failed. */
static inline int harness_step(SSL *ssl)
{
    return harness_step_status(ssl, SSL_do_handshake(ssl));
}

/* Reads exactly n bytes from `to`, letting `from` run while `to` waits. */
static inline bool harness_read(SSL *to, void *buf, size_t n)
{
    size_t got = 0;
    for (int i = 0; i < 100 && got < n; i++) {
        size_t r = 0;
        if (SSL_read_ex(to, (char *)buf + got, n - got, &r) == 1) {
            got += r;
            continue;
        }
        int err = SSL_get_error(to, 0);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
            return false;
    }
    return got == n;
}

/* After a handshake: "ping" from client to server and "pong" back; true if both arrive. */
static inline bool harness_ping_pong(SSL *c, SSL *s)
{
    char buf[4];
    size_t w = 0;
    return SSL_write_ex(c, "ping", 4, &w) == 1 && w == 4 && harness_read(s, buf, 4) &&
           memcmp(buf, "ping", 4) == 0 && SSL_write_ex(s, "pong", 4, &w) == 1 && w == 4 &&
           harness_read(c, buf, 4) && memcmp(buf, "pong", 4) == 0;
}

/*
 * A server and a client connection joined by an in-memory BIO pair, in accept and connect
 * state, ready to be pumped.
 */
static inline void harness_pair(SSL_CTX *sctx, SSL_CTX *cctx, SSL **s, SSL **c)
{
    *s = SSL_new(sctx);
    *c = SSL_new(cctx);
    HARNESS_REQUIRE(*s != NULL && *c != NULL);
    BIO *cb = NULL, *sb = NULL;
    HARNESS_REQUIRE(BIO_new_bio_pair(&cb, 0, &sb, 0) == 1);
    SSL_set_bio(*c, cb, cb);
    SSL_set_bio(*s, sb, sb);
    SSL_set_connect_state(*c);
    SSL_set_accept_state(*s);
}

/*
 * Runs a full in-memory handshake between a new SSL from sctx and one from cctx, offering
 * `resume` (may be NULL) from the client, then sends "ping"/"pong" both ways and shuts both
 * sides down cleanly (an unclean close would make OpenSSL mark the client session
 * non-resumable). Fills *r; r->ok says whether it all worked. Call hs_result_clear(r) after.
 */
static inline void harness_handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *resume,
                                     hs_result *r)
{
    memset(r, 0, sizeof *r);
    harness_client_state st = {0, 0, 0};
    ERR_clear_error();
    SSL *s = NULL, *c = NULL;
    harness_pair(sctx, cctx, &s, &c);
    SSL_set_app_data(c, &st);
    SSL_set_msg_callback_arg(c, &st);
    HARNESS_REQUIRE(SSL_set_tlsext_host_name(c, "tlsext-c-tests.test") == 1);
    if (resume != NULL)
        HARNESS_REQUIRE(SSL_set_session(c, resume) == 1);

    int cdone = 0, sdone = 0;
    for (int i = 0; i < 64 && !(cdone == 1 && sdone == 1); i++) {
        if (cdone == 0)
            cdone = harness_step(c);
        if (sdone == 0)
            sdone = harness_step(s);
        if (cdone < 0 || sdone < 0)
            break;
    }
    bool ok = cdone == 1 && sdone == 1 && harness_ping_pong(c, s);
    if (!ok) {
        printf("  handshake failed (client %d, server %d):\n", cdone, sdone);
        ERR_print_errors_fp(stdout);
    }
    r->ok = ok;
    r->resumed = SSL_session_reused(c) == 1;
    r->server_resumed = SSL_session_reused(s) == 1;
    r->version = SSL_version(c);
    if (ok) {
        SSL_shutdown(c);
        SSL_shutdown(s);
    }
    SSL_set_msg_callback_arg(c, NULL);
    SSL_set_app_data(c, NULL);
    r->tickets = st.tickets;
    r->empty_tickets = st.empty_tickets;
    r->new_sessions = st.new_sessions;
    r->session = SSL_get1_session(c);
    r->server_session = SSL_get1_session(s);
    SSL_free(c);
    SSL_free(s);
    ERR_clear_error();
}

/* ------------------------------------------------------------------------------------------ */
/* Sessions and tickets                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* The session's ticket (NULL, 0 when it has none). */
static inline const uint8_t *harness_ticket(const SSL_SESSION *sess, size_t *len)
{
    const unsigned char *t = NULL;
    *len = 0;
    if (sess != NULL)
        SSL_SESSION_get0_ticket(sess, &t, len);
    return t;
}

/* i2d_SSL_SESSION into a malloc'd buffer. */
static inline uint8_t *harness_session_der(const SSL_SESSION *sess, size_t *len)
{
    int n = i2d_SSL_SESSION((SSL_SESSION *)sess, NULL);
    HARNESS_REQUIRE(n > 0);
    uint8_t *der = malloc((size_t)n);
    HARNESS_REQUIRE(der != NULL);
    unsigned char *p = der;
    HARNESS_REQUIRE(i2d_SSL_SESSION((SSL_SESSION *)sess, &p) == n);
    *len = (size_t)n;
    return der;
}

/* Reads a DER tag+length at *p (at most `avail` bytes); returns header size or 0. */
static inline size_t harness_der_header(const uint8_t *p, size_t avail, size_t *content_len)
{
    if (avail < 2)
        return 0;
    if (p[1] < 0x80) {
        *content_len = p[1];
        return 2;
    }
    size_t nbytes = p[1] & 0x7f;
    if (nbytes == 0 || nbytes > 4 || avail < 2 + nbytes)
        return 0;
    size_t len = 0;
    for (size_t i = 0; i < nbytes; i++)
        len = (len << 8) | p[2 + i];
    *content_len = len;
    return 2 + nbytes;
}

/* Writes a DER length; returns its size. out may be NULL to only measure. */
static inline size_t harness_der_len(uint8_t *out, size_t len)
{
    uint8_t tmp[5];
    size_t n = 0;
    if (len < 0x80) {
        tmp[n++] = (uint8_t)len;
    } else {
        size_t bytes = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
        tmp[n++] = (uint8_t)(0x80 | bytes);
        for (size_t i = bytes; i > 0; i--)
            tmp[n++] = (uint8_t)(len >> (8 * (i - 1)));
    }
    if (out != NULL)
        memcpy(out, tmp, n);
    return n;
}

/*
 * A copy of `sess` whose ticket is `ticket` (any length): the session's DER is rebuilt with
 * its [10] EXPLICIT OCTET STRING (tlsext_tick) element replaced. NULL if the session has no
 * ticket or does not parse. Caller frees.
 */
static inline SSL_SESSION *harness_session_with_ticket(const SSL_SESSION *sess,
                                                       const uint8_t *ticket, size_t ticket_len)
{
    size_t der_len;
    uint8_t *der = harness_session_der(sess, &der_len);
    SSL_SESSION *out = NULL;
    uint8_t *buf = NULL;
    size_t seq_len;
    size_t hdr = harness_der_header(der, der_len, &seq_len);
    if (hdr == 0 || der[0] != 0x30 || hdr + seq_len != der_len)
        goto done;
    /* Replacement element: AA len { 04 len ticket } */
    size_t inner = 1 + harness_der_len(NULL, ticket_len) + ticket_len;
    size_t elem = 1 + harness_der_len(NULL, inner) + inner;
    buf = malloc(der_len + elem + 16);
    HARNESS_REQUIRE(buf != NULL);
    uint8_t *body = buf + 8; /* leave room for the outer header */
    size_t body_len = 0;
    bool found = false;
    for (size_t off = hdr; off < der_len;) {
        size_t clen;
        size_t h = harness_der_header(der + off, der_len - off, &clen);
        if (h == 0 || off + h + clen > der_len)
            goto done;
        if (der[off] == 0xAA) {
            found = true;
            uint8_t *q = body + body_len;
            *q++ = 0xAA;
            q += harness_der_len(q, inner);
            *q++ = 0x04;
            q += harness_der_len(q, ticket_len);
            memcpy(q, ticket, ticket_len);
            body_len += elem;
        } else {
            memcpy(body + body_len, der + off, h + clen);
            body_len += h + clen;
        }
        off += h + clen;
    }
    if (!found)
        goto done;
    size_t outer_hdr = 1 + harness_der_len(NULL, body_len);
    uint8_t *start = body - outer_hdr;
    start[0] = 0x30;
    harness_der_len(start + 1, body_len);
    const unsigned char *cp = start;
    out = d2i_SSL_SESSION(NULL, &cp, (long)(outer_hdr + body_len));
done:
    free(buf);
    free(der);
    return out;
}

/* A copy of `sess` with one bit of its ticket flipped at byte `offset`. Caller frees. */
static inline SSL_SESSION *harness_session_flip_ticket(const SSL_SESSION *sess, size_t offset)
{
    size_t tlen;
    const uint8_t *t = harness_ticket(sess, &tlen);
    if (t == NULL || offset >= tlen)
        return NULL;
    uint8_t *copy = malloc(tlen);
    HARNESS_REQUIRE(copy != NULL);
    memcpy(copy, t, tlen);
    copy[offset] ^= 0x01;
    SSL_SESSION *out = harness_session_with_ticket(sess, copy, tlen);
    free(copy);
    return out;
}

/*
 * harness_handshake offering a copy of `sess` whose ticket is `ticket` (see
 * harness_session_with_ticket). Returns false, with no handshake and *r cleared, when that
 * copy cannot be made. Call hs_result_clear(r) after.
 */
static inline bool harness_handshake_with_ticket(SSL_CTX *sctx, SSL_CTX *cctx,
                                                 const SSL_SESSION *sess, const uint8_t *ticket,
                                                 size_t ticket_len, hs_result *r)
{
    memset(r, 0, sizeof *r);
    SSL_SESSION *copy = harness_session_with_ticket(sess, ticket, ticket_len);
    if (copy == NULL)
        return false;
    harness_handshake(sctx, cctx, copy, r);
    SSL_SESSION_free(copy);
    return true;
}

/* The same with one bit of the session's own ticket flipped at byte `offset` (see
 * harness_session_flip_ticket). */
static inline bool harness_handshake_flipped(SSL_CTX *sctx, SSL_CTX *cctx,
                                             const SSL_SESSION *sess, size_t offset,
                                             hs_result *r)
{
    memset(r, 0, sizeof *r);
    SSL_SESSION *bad = harness_session_flip_ticket(sess, offset);
    if (bad == NULL)
        return false;
    harness_handshake(sctx, cctx, bad, r);
    SSL_SESSION_free(bad);
    return true;
}

/*
 * Reference ticket sealing with libcrypto: name16 | iv16 | AES-CBC(pt) | HMAC-SHA256(all
 * before). aes_len 16 -> AES-128-CBC, 32 -> AES-256-CBC. With bad_padding, the plaintext
 * (which must then be a non-empty multiple of 16 bytes) is encrypted without padding, so the
 * last byte is whatever the plaintext ends with. Returns the ticket length; out must hold
 * 16 + 16 + pt_len + 16 + 32 bytes.
 */
static inline size_t harness_craft_ticket(const uint8_t name[16], const uint8_t *aes,
                                          size_t aes_len, const uint8_t *hmac, size_t hmac_len,
                                          const uint8_t *pt, size_t pt_len, bool bad_padding,
                                          uint8_t *out)
{
    const EVP_CIPHER *cipher = aes_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
    memcpy(out, name, 16);
    harness_random(out + 16, 16);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    HARNESS_REQUIRE(ctx != NULL);
    HARNESS_REQUIRE(EVP_EncryptInit_ex(ctx, cipher, NULL, aes, out + 16) == 1);
    if (bad_padding)
        EVP_CIPHER_CTX_set_padding(ctx, 0);
    int n1 = 0, n2 = 0;
    HARNESS_REQUIRE(EVP_EncryptUpdate(ctx, out + 32, &n1, pt, (int)pt_len) == 1);
    HARNESS_REQUIRE(EVP_EncryptFinal_ex(ctx, out + 32 + n1, &n2) == 1);
    EVP_CIPHER_CTX_free(ctx);
    size_t body = 32 + (size_t)n1 + (size_t)n2;
    unsigned int mlen = 0;
    HARNESS_REQUIRE(HMAC(EVP_sha256(), hmac, (int)hmac_len, out, body, out + body, &mlen) !=
                    NULL);
    HARNESS_REQUIRE(mlen == 32);
    return body + 32;
}

/*
 * Reference ticket opening with libcrypto. Returns 1 and the plaintext on success, 0 when the
 * HMAC does not match, -1 when the ticket is malformed or does not decrypt.
 * out must hold ticket_len bytes.
 */
static inline int harness_decode_ticket(const uint8_t *t, size_t tlen, const uint8_t *aes,
                                        size_t aes_len, const uint8_t *hmac, size_t hmac_len,
                                        uint8_t *out, size_t *out_len)
{
    if (tlen < 16 + 16 + 16 + 32 || (tlen - 64) % 16 != 0)
        return -1;
    uint8_t mac[32];
    unsigned int mlen = 0;
    HARNESS_REQUIRE(HMAC(EVP_sha256(), hmac, (int)hmac_len, t, tlen - 32, mac, &mlen) != NULL);
    if (CRYPTO_memcmp(mac, t + tlen - 32, 32) != 0)
        return 0;
    const EVP_CIPHER *cipher = aes_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    HARNESS_REQUIRE(ctx != NULL);
    int n1 = 0, n2 = 0;
    int ok = EVP_DecryptInit_ex(ctx, cipher, NULL, aes, t + 16) == 1 &&
             EVP_DecryptUpdate(ctx, out, &n1, t + 32, (int)(tlen - 64)) == 1 &&
             EVP_DecryptFinal_ex(ctx, out + n1, &n2) == 1;
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    if (!ok)
        return -1;
    *out_len = (size_t)n1 + (size_t)n2;
    return 1;
}

#endif /* TLSEXT_C_TESTS_HARNESS_H */
