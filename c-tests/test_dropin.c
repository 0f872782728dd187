/*
 * test_dropin.c - the drop-in functions: with TLSEXT_SHIM_DROPIN defined before including
 * tlsext_shim.h, SSL_CTX_set_tlsext_ticket_key_cb and SSL_CTX_set_tlsext_servername_callback
 * (macros in OpenSSL) are real functions exported by libtlsext_shim. They must return 1 and
 * install callbacks that OpenSSL really calls: the servername callback with the SNI name and
 * its arg (SSL_CTX_set_tlsext_servername_arg, still OpenSSL's macro), the legacy HMAC_CTX
 * ticket-key callback with enc=1 when issuing and enc=0 when resuming. No TLSEXT_SHIM_*
 * variable is set (passthrough), so the application's callbacks are the ones in force.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* HMAC_CTX / HMAC_Init_ex: the legacy callback's API */
#define TLSEXT_SHIM_DROPIN
#include <dlfcn.h>

#include "harness.h"

static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};

/* The legacy callback's key: name16 | HMAC32 | AES32 (AES-256-CBC, HMAC-SHA256). */
static const uint8_t cb_key[80] = {
    'd',  'r',  'o',  'p',  'i',  'n',  '-',  'l',  'e',  'g',  'a',  'c',  'y',  '-',  'k',
    '1',  0x4b, 0x1d, 0xe8, 0x25, 0x93, 0x6a, 0x0c, 0xf7, 0x31, 0xbe, 0x58, 0x84, 0x12, 0xd9,
    0x6f, 0xa0, 0x3b, 0xc4, 0x77, 0x02, 0xe9, 0x5d, 0x81, 0x36, 0xfa, 0x4e, 0x19, 0xb3, 0x60,
    0x8d, 0x2c, 0xd5, 0xe7, 0x0a, 0x94, 0x43, 0x6e, 0xbf, 0x21, 0x78, 0xcb, 0x05, 0x9f, 0x52,
    0xa6, 0x1e, 0xd0, 0x3d, 0x88, 0x47, 0xf2, 0x6b, 0x14, 0xae, 0x59, 0xc3, 0x30, 0xe5, 0x7c,
    0x0b, 0x96, 0x4f, 0xda, 0x23,
};
#define CB_NAME (cb_key)
#define CB_HMAC (cb_key + 16)
#define CB_AES (cb_key + 48)

static struct {
    int enc1;        /* issue calls */
    int enc0;        /* decrypt calls */
    int enc0_known;  /* decrypt calls that found our key name */
    int bad_args;    /* calls with a NULL argument */
} legacy;

/* A minimal legacy ticket-key callback with fixed keys, as nginx's. */
static int legacy_cb(SSL *s, unsigned char key_name[16], unsigned char *iv,
                     EVP_CIPHER_CTX *cctx, HMAC_CTX *hctx, int enc)
{
    if (s == NULL || key_name == NULL || iv == NULL || cctx == NULL || hctx == NULL) {
        legacy.bad_args++;
        return -1;
    }
    if (enc == 1) {
        legacy.enc1++;
        memcpy(key_name, CB_NAME, 16);
        if (RAND_bytes(iv, 16) != 1 ||
            EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, CB_AES, iv) != 1 ||
            HMAC_Init_ex(hctx, CB_HMAC, 32, EVP_sha256(), NULL) != 1)
            return -1;
        return 1;
    }
    legacy.enc0++;
    if (memcmp(key_name, CB_NAME, 16) != 0)
        return 0;
    legacy.enc0_known++;
    if (HMAC_Init_ex(hctx, CB_HMAC, 32, EVP_sha256(), NULL) != 1 ||
        EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, CB_AES, iv) != 1)
        return -1;
    return SSL_version(s) == TLS1_3_VERSION ? 2 : 1; /* renew in TLS 1.3, as nginx does */
}

struct sni_seen {
    int calls;
    void *arg;
    char name[256];
};

static int servername_cb(SSL *s, int *al, void *arg)
{
    (void)al;
    struct sni_seen *seen = arg;
    if (seen == NULL)
        return SSL_TLSEXT_ERR_OK;
    seen->calls++;
    seen->arg = arg;
    const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
    snprintf(seen->name, sizeof seen->name, "%s", name != NULL ? name : "");
    return SSL_TLSEXT_ERR_OK;
}

/* The file that defines the function at `fn` (as dladdr reports it), or "". */
static const char *defining_object(void (*fn)(void))
{
    void *addr;
    Dl_info info;
    memcpy(&addr, &fn, sizeof addr); /* object/function pointer conversion without -Wpedantic */
    if (dladdr(addr, &info) == 0 || info.dli_fname == NULL)
        return "";
    return info.dli_fname;
}

/* ------------------------------------------------------------------------------------------ */

/* The drop-in names resolve to libtlsext_shim, and the macros are gone. */
static void test_symbols_come_from_the_shim(void)
{
#ifdef SSL_CTX_set_tlsext_ticket_key_cb
    CHECK(!"SSL_CTX_set_tlsext_ticket_key_cb is still a macro");
#endif
#ifdef SSL_CTX_set_tlsext_servername_callback
    CHECK(!"SSL_CTX_set_tlsext_servername_callback is still a macro");
#endif
    const char *a = defining_object((void (*)(void))SSL_CTX_set_tlsext_ticket_key_cb);
    const char *b = defining_object((void (*)(void))SSL_CTX_set_tlsext_servername_callback);
    printf("  SSL_CTX_set_tlsext_ticket_key_cb from %s\n", a);
    printf("  SSL_CTX_set_tlsext_servername_callback from %s\n", b);
    CHECK(strstr(a, "libtlsext_shim") != NULL);
    CHECK(strstr(b, "libtlsext_shim") != NULL);
    CHECK(dlsym(RTLD_DEFAULT, "SSL_CTX_set_tlsext_ticket_key_cb") != NULL);
    CHECK(dlsym(RTLD_DEFAULT, "SSL_CTX_set_tlsext_servername_callback") != NULL);
}

/* The servername callback runs on every handshake with the SNI name and its own arg. */
static void test_servername_callback(void)
{
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        struct sni_seen seen;
        memset(&seen, 0, sizeof seen);
        SSL_CTX *s = harness_server_ctx(v);
        SSL_CTX *c = harness_client_ctx(v);
        CHECK_EQ_INT(SSL_CTX_set_tlsext_servername_callback(s, servername_cb), 1);
        CHECK_EQ_INT(SSL_CTX_set_tlsext_servername_arg(s, &seen), 1);
        hs_result r;
        harness_handshake(s, c, NULL, &r);
        CHECK(r.ok);
        CHECK_EQ_INT(seen.calls, 1);
        CHECK(seen.arg == &seen);
        CHECK(strcmp(seen.name, "tlsext-c-tests.test") == 0);
        /* A resumption runs it too. */
        hs_result r2;
        harness_handshake(s, c, r.session, &r2);
        CHECK(r2.ok && r2.resumed);
        CHECK_EQ_INT(seen.calls, 2);
        hs_result_clear(&r2);
        /* NULL uninstalls it. */
        CHECK_EQ_INT(SSL_CTX_set_tlsext_servername_callback(s, NULL), 1);
        harness_handshake(s, c, NULL, &r2);
        CHECK(r2.ok);
        CHECK_EQ_INT(seen.calls, 2);
        hs_result_clear(&r2);
        hs_result_clear(&r);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
    }
}

/*
 * The legacy ticket-key callback issues (enc=1) the client's ticket under its key, opens it
 * (enc=0) on resumption, on this context and on another one that installed the same callback.
 */
static void test_legacy_ticket_key_cb(void)
{
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        memset(&legacy, 0, sizeof legacy);
        SSL_CTX *a = harness_server_ctx(v);
        SSL_CTX *b = harness_server_ctx(v);
        SSL_CTX *c = harness_client_ctx(v);
        CHECK_EQ_INT(SSL_CTX_set_tlsext_ticket_key_cb(a, legacy_cb), 1);
        CHECK_EQ_INT(SSL_CTX_set_tlsext_ticket_key_cb(b, legacy_cb), 1);

        hs_result full;
        harness_handshake(a, c, NULL, &full);
        CHECK(full.ok && !full.resumed);
        CHECK(full.tickets >= 1);
        CHECK_EQ_INT(legacy.enc1, full.tickets);
        CHECK_EQ_INT(legacy.enc0, 0);

        /* The ticket is ours: our name, and it opens with our keys into a session. */
        size_t tlen;
        const uint8_t *t = harness_ticket(full.session, &tlen);
        CHECK(t != NULL && tlen > 64);
        if (t != NULL && tlen > 64) {
            CHECK_EQ_MEM(t, CB_NAME, 16);
            uint8_t *pt = malloc(tlen);
            HARNESS_REQUIRE(pt != NULL);
            size_t pt_len = 0;
            CHECK_EQ_INT(harness_decode_ticket(t, tlen, CB_AES, 32, CB_HMAC, 32, pt, &pt_len), 1);
            const unsigned char *p = pt;
            SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, (long)pt_len);
            CHECK(sess != NULL);
            SSL_SESSION_free(sess);
            free(pt);
        }

        /* Each attempt gets its own copy: a TLS 1.3 client uses a ticket once. */
        SSL_SESSION *copy = SSL_SESSION_dup(full.session);
        HARNESS_REQUIRE(copy != NULL);
        int enc1_before = legacy.enc1;
        hs_result ra;
        harness_handshake(a, c, full.session, &ra);
        CHECK(ra.ok && ra.resumed && ra.server_resumed);
        CHECK_EQ_INT(legacy.enc0, 1);
        CHECK_EQ_INT(legacy.enc0_known, 1);
        /* TLS 1.3: the callback returned 2, so a fresh ticket is issued (enc=1 again). */
        CHECK_EQ_INT(legacy.enc1 - enc1_before, v == TLS1_3_VERSION ? 1 : 0);
        CHECK_EQ_INT(ra.tickets, v == TLS1_3_VERSION ? 1 : 0);

        hs_result rb;
        harness_handshake(b, c, copy, &rb);
        CHECK(rb.ok && rb.resumed);
        CHECK_EQ_INT(legacy.enc0, 2);
        CHECK_EQ_INT(legacy.enc0_known, 2);
        CHECK_EQ_INT(legacy.bad_args, 0);
        SSL_SESSION_free(copy);

        /* NULL uninstalls it: OpenSSL's own keys again, and our callback is not called. */
        CHECK_EQ_INT(SSL_CTX_set_tlsext_ticket_key_cb(a, NULL), 1);
        int calls = legacy.enc0 + legacy.enc1;
        hs_result rn;
        harness_handshake(a, c, NULL, &rn);
        CHECK(rn.ok && rn.tickets >= 1);
        CHECK_EQ_INT(legacy.enc0 + legacy.enc1, calls);
        t = harness_ticket(rn.session, &tlen);
        CHECK(t != NULL && tlen >= 16 && memcmp(t, CB_NAME, 16) != 0);

        hs_result_clear(&full);
        hs_result_clear(&ra);
        hs_result_clear(&rb);
        hs_result_clear(&rn);
        SSL_CTX_free(a);
        SSL_CTX_free(b);
        SSL_CTX_free(c);
    }
}

int main(void)
{
    /* Passthrough: whatever the caller's environment, the shim manages nothing here. */
    static const char *const vars[] = {
        "TLSEXT_SHIM_TICKET_KEYS", "TLSEXT_SHIM_TICKET_KEY_FORMAT", "TLSEXT_SHIM_TICKET_ROTATE",
        "TLSEXT_SHIM_TICKET_LIFETIME", "TLSEXT_SHIM_RELOAD_INTERVAL", "TLSEXT_SHIM_LOG",
        "TLSEXT_SHIM_LOG_TO", "TLSEXT_SHIM_METRICS", "TLSEXT_SHIM_METRICS_INTERVAL",
        "TLSEXT_SHIM_CONFIG",
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);

    RUN(test_symbols_come_from_the_shim);
    RUN(test_servername_callback);
    RUN(test_legacy_ticket_key_cb);
    return harness_summary();
}
