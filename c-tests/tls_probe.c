/*
 * tls_probe.c - a plain OpenSSL server/client program (linked with -lssl -lcrypto only, NOT
 * with libtlsext_shim) that runs one fixed scenario in memory and prints a deterministic
 * transcript: no pointers, no timing, no random bytes. The preload tests run it as is and
 * with LD_PRELOAD=libtlsext_shim.so and compare the transcripts (run_passthrough.sh) or grep
 * them (run_preload.sh).
 *
 *   tls_probe [--app-keys] [--app-cb] [--app-evp-cb]
 *
 * For TLS 1.2, then TLS 1.3: server contexts A and B (same certificate, session-id context,
 * no stateful cache, so every resumption is a ticket resumption), each with a servername
 * callback and a ClientHello callback whose arg is its tag ("A", "B");
 *   --app-keys    SSL_CTX_set_tlsext_ticket_keys(A, 80 fixed bytes)
 *   --app-cb      SSL_CTX_set_tlsext_ticket_key_cb(A and B, a legacy HMAC_CTX callback with
 *                 fixed keys that prints and counts its calls)
 *   --app-evp-cb  SSL_CTX_set_tlsext_ticket_key_evp_cb(A and B, the same as an EVP_MAC one)
 * then a full handshake on A, a resumption attempt on A and one on B, both offering the
 * session from the full handshake. Every line that belongs to a connection or context starts
 * with "[TLSv1.x label] ". Exit status 1 when a handshake failed, 2 on a setup failure.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* the legacy HMAC_CTX ticket callback is the point */
#define HARNESS_NO_SHIM
#include "harness.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

/* Fixed application ticket keys, OpenSSL layout: name16 | HMAC32 | AES32. */
static const unsigned char app_keys[80] = {
    0x70, 0x72, 0x6f, 0x62, 0x65, 0x2d, 0x61, 0x70, 0x70, 0x2d, 0x6b, 0x65, 0x79, 0x73, 0x2d,
    0x31, 0x9e, 0x37, 0x79, 0xb9, 0x7f, 0x4a, 0x7c, 0x15, 0xf3, 0x9c, 0xc0, 0x60, 0x5c, 0xed,
    0xc8, 0x34, 0x10, 0x82, 0x27, 0x6b, 0xf3, 0xa2, 0x72, 0x51, 0xf8, 0x6c, 0x6a, 0x11, 0xd0,
    0xc1, 0x8e, 0x95, 0x27, 0x94, 0xd9, 0xb4, 0x3e, 0x53, 0x5d, 0x0f, 0x56, 0x7a, 0x48, 0x91,
    0xa8, 0x3c, 0x0e, 0x6d, 0xb1, 0x2f, 0x45, 0x9a, 0x77, 0xe2, 0x08, 0xcd, 0x63, 0x1b, 0xf4,
    0x2e, 0x90, 0x5a, 0xd7, 0x39,
};

/* The application callbacks' key (name16 | HMAC32 | AES32), unlike app_keys. */
static const unsigned char cb_key[80] = {
    0x70, 0x72, 0x6f, 0x62, 0x65, 0x2d, 0x61, 0x70, 0x70, 0x2d, 0x63, 0x62, 0x2d, 0x6b, 0x65,
    0x79, 0x4b, 0x1d, 0xe8, 0x25, 0x93, 0x6a, 0x0c, 0xf7, 0x31, 0xbe, 0x58, 0x84, 0x12, 0xd9,
    0x6f, 0xa0, 0x3b, 0xc4, 0x77, 0x02, 0xe9, 0x5d, 0x81, 0x36, 0xfa, 0x4e, 0x19, 0xb3, 0x60,
    0x8d, 0x2c, 0xd5, 0xe7, 0x0a, 0x94, 0x43, 0x6e, 0xbf, 0x21, 0x78, 0xcb, 0x05, 0x9f, 0x52,
    0xa6, 0x1e, 0xd0, 0x3d, 0x88, 0x47, 0xf2, 0x6b, 0x14, 0xae, 0x59, 0xc3, 0x30, 0xe5, 0x7c,
    0x0b, 0x96, 0x4f, 0xda, 0x23,
};

static char tag_a[] = "A";
static char tag_b[] = "B";

static char label[64]; /* "TLSv1.2 resume-B": prefixes every line */

/* Calls of one application ticket callback: all of them, with enc=1 and with enc=0. */
typedef struct cb_calls {
    int calls, enc1, enc0;
} cb_calls;

static cb_calls legacy_calls, evp_calls;

static const char *vname(int v)
{
    return v == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2";
}

/* ------------------------------------------------------------------------------------------ */
/* Application callbacks                                                                      */
/* ------------------------------------------------------------------------------------------ */

static int servername_cb(SSL *s, int *al, void *arg)
{
    const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
    (void)al;
    printf("[%s] servername_cb arg=%s name=%s\n", label, arg != NULL ? (char *)arg : "(null)",
           name != NULL ? name : "(none)");
    return SSL_TLSEXT_ERR_OK;
}

static int client_hello_cb(SSL *s, int *al, void *arg)
{
    (void)s;
    (void)al;
    printf("[%s] client_hello_cb arg=%s\n", label, arg != NULL ? (char *)arg : "(null)");
    return SSL_CLIENT_HELLO_SUCCESS;
}

/*
 * What both application ticket-key callbacks do with the fixed cb_key, the MAC context being
 * keyed by mac_key(hctx): a new ticket gets cb_key's name and a random IV; a ticket under
 * another name is unknown (0); TLS 1.3 resumptions get renewed (2). Counts the call in *n and
 * prints it as `what`.
 */
static int fixed_key_ticket(const char *what, cb_calls *n, int (*mac_key)(void *hctx), SSL *s,
                            unsigned char key_name[16], unsigned char *iv,
                            EVP_CIPHER_CTX *cctx, void *hctx, int enc)
{
    int ret;
    n->calls++;
    if (enc) {
        n->enc1++;
        memcpy(key_name, cb_key, 16);
        ret = RAND_bytes(iv, 16) == 1 &&
                      EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, cb_key + 48, iv) == 1 &&
                      mac_key(hctx) == 1
                  ? 1
                  : -1;
    } else {
        n->enc0++;
        if (memcmp(key_name, cb_key, 16) != 0)
            ret = 0;
        else if (mac_key(hctx) != 1 ||
                 EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, cb_key + 48, iv) != 1)
            ret = -1;
        else
            ret = SSL_version(s) == TLS1_3_VERSION ? 2 : 1;
    }
    printf("[%s] %s enc=%d -> %d\n", label, what, enc, ret);
    return ret;
}

static int hmac_mac_key(void *hctx)
{
    return HMAC_Init_ex(hctx, cb_key + 16, 32, EVP_sha256(), NULL);
}

/* Legacy ticket-key callback (cmd 72) with fixed keys; TLS 1.3 resumptions get renewed. */
static int legacy_ticket_cb(SSL *s, unsigned char key_name[16], unsigned char *iv,
                            EVP_CIPHER_CTX *cctx, HMAC_CTX *hctx, int enc)
{
    return fixed_key_ticket("app_ticket_key_cb", &legacy_calls, hmac_mac_key, s, key_name, iv,
                            cctx, hctx, enc);
}

static int evp_mac_key(void *hctx)
{
    char digest[] = "SHA256";
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)(cb_key + 16), 32);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[2] = OSSL_PARAM_construct_end();
    return EVP_MAC_CTX_set_params(hctx, params);
}

/* The same as an EVP ticket-key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb). */
static int evp_ticket_cb(SSL *s, unsigned char key_name[16], unsigned char *iv,
                         EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
    return fixed_key_ticket("app_evp_ticket_cb", &evp_calls, evp_mac_key, s, key_name, iv, cctx,
                            hctx, enc);
}

/* ------------------------------------------------------------------------------------------ */
/* Scenario                                                                                   */
/* ------------------------------------------------------------------------------------------ */

struct options {
    bool app_keys, app_cb, app_evp_cb;
};

static SSL_CTX *server(int version, char *tag, const struct options *o)
{
    SSL_CTX *ctx = harness_server_ctx(version);
    snprintf(label, sizeof label, "%s ctx-%s", vname(version), tag);
    if (o->app_keys && tag == tag_a) {
        printf("[%s] set_tlsext_ticket_keys(NULL) -> %ld\n", label,
               SSL_CTX_set_tlsext_ticket_keys(ctx, NULL, 0));
        printf("[%s] set_tlsext_ticket_keys -> %ld\n", label,
               SSL_CTX_set_tlsext_ticket_keys(ctx, (void *)app_keys, sizeof app_keys));
        unsigned char got[80];
        memset(got, 0, sizeof got);
        long r = SSL_CTX_get_tlsext_ticket_keys(ctx, got, sizeof got);
        printf("[%s] get_tlsext_ticket_keys -> %ld same_as_set=%d\n", label, r,
               memcmp(got, app_keys, sizeof got) == 0);
    }
    if (o->app_cb)
        printf("[%s] set_tlsext_ticket_key_cb -> %ld\n", label,
               SSL_CTX_set_tlsext_ticket_key_cb(ctx, legacy_ticket_cb));
    if (o->app_evp_cb)
        printf("[%s] set_tlsext_ticket_key_evp_cb -> %d\n", label,
               SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, evp_ticket_cb));
    printf("[%s] set_tlsext_servername_callback -> %ld\n", label,
           SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb));
    printf("[%s] set_tlsext_servername_arg -> %ld\n", label,
           SSL_CTX_set_tlsext_servername_arg(ctx, tag));
    SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, tag);
    printf("[%s] set_client_hello_cb -> (void)\n", label);
    fflush(stdout);
    return ctx;
}

/* One connection; returns the result (caller clears it); counts failures in *failed. */
static void connect_once(int version, const char *what, SSL_CTX *sctx, SSL_CTX *cctx,
                         SSL_SESSION *resume, hs_result *r, int *failed)
{
    snprintf(label, sizeof label, "%s %s", vname(version), what);
    printf("[%s] begin offer_ticket=%d\n", label, resume != NULL);
    fflush(stdout);
    harness_handshake(sctx, cctx, resume, r);
    size_t tlen = 0;
    harness_ticket(r->session, &tlen);
    printf("[%s] result ok=%d version=%s reused=%d server_reused=%d tickets_received=%d "
           "empty_tickets=%d has_ticket=%d\n",
           label, r->ok, r->ok ? vname(r->version) : "none", r->resumed, r->server_resumed,
           r->tickets, r->empty_tickets, tlen > 0);
    fflush(stdout);
    if (!r->ok)
        (*failed)++;
}

static void scenario(int version, const struct options *o, int *failed)
{
    printf("== %s\n", vname(version));
    SSL_CTX *a = server(version, tag_a, o);
    SSL_CTX *b = server(version, tag_b, o);
    SSL_CTX *c = harness_client_ctx(version);

    memset(&legacy_calls, 0, sizeof legacy_calls);
    memset(&evp_calls, 0, sizeof evp_calls);

    hs_result full, ra, rb;
    connect_once(version, "full-A", a, c, NULL, &full, failed);
    /* A TLS 1.3 client treats a ticket as used once offered: give each attempt its own
     * copy of the session, as two separate clients holding the same ticket would. */
    SSL_SESSION *copy = full.session != NULL ? SSL_SESSION_dup(full.session) : NULL;
    connect_once(version, "resume-A", a, c, full.session, &ra, failed);
    connect_once(version, "resume-B", b, c, copy, &rb, failed);
    SSL_SESSION_free(copy);

    snprintf(label, sizeof label, "%s totals", vname(version));
    printf("[%s] app_ticket_key_cb calls=%d enc1=%d enc0=%d\n", label, legacy_calls.calls,
           legacy_calls.enc1, legacy_calls.enc0);
    printf("[%s] app_evp_ticket_cb calls=%d enc1=%d enc0=%d\n", label, evp_calls.calls,
           evp_calls.enc1, evp_calls.enc0);
    fflush(stdout);

    hs_result_clear(&full);
    hs_result_clear(&ra);
    hs_result_clear(&rb);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    SSL_CTX_free(c);
}

int main(int argc, char **argv)
{
    struct options o = {false, false, false};
    (void)harness_current_failures; /* the CHECK macros are not used here */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--app-keys") == 0) {
            o.app_keys = true;
        } else if (strcmp(argv[i], "--app-cb") == 0) {
            o.app_cb = true;
        } else if (strcmp(argv[i], "--app-evp-cb") == 0) {
            o.app_evp_cb = true;
        } else {
            fprintf(stderr, "usage: %s [--app-keys] [--app-cb] [--app-evp-cb]\n", argv[0]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("tls_probe app_keys=%d app_cb=%d app_evp_cb=%d\n", o.app_keys, o.app_cb,
           o.app_evp_cb);
    int failed = 0;
    scenario(TLS1_2_VERSION, &o, &failed);
    scenario(TLS1_3_VERSION, &o, &failed);
    harness_free_cert();
    printf("end failed_handshakes=%d\n", failed);
    return failed == 0 ? 0 : 1;
}
