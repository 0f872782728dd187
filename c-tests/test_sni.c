/*
 * test_sni.c - SNI routing with tlsext_sni_router + tlsext_ssl_ctx_use_sni: real TLS 1.2 and
 * 1.3 handshakes in memory (one process, a BIO pair). The server context serves
 * CN=default.test itself and has two vhosts: A {www.example.com, example.com} loaded from PEM
 * files and B {*.apps.example.com} taken from another SSL_CTX. Checked: which certificate the
 * client sees, the acknowledged name, tickets bound to their vhost (also without a key ring
 * and across two contexts sharing a ring), strict mode, the application's own servername and
 * ClientHello callbacks, the error results, and certificate reload from the files.
 */
#include <time.h>

#include <openssl/pem.h>

#include "harness.h"

static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
static char *tmp;

/* ------------------------------------------------------------------------------------------ */
/* Certificates and files                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef struct cert_pair {
    X509 *cert;
    EVP_PKEY *key;
} cert_pair;

/* A fresh P-256 key and a self-signed certificate with CN `cn` and, if `san` is not NULL, a
 * subjectAltName in OpenSSL's config syntax ("DNS:a,DNS:b"). */
static cert_pair make_cert(const char *cn, const char *san)
{
    static long serial = 100;
    cert_pair p;
    p.cert = harness_self_signed(cn, san, serial++, &p.key);
    return p;
}

static void cert_pair_free(cert_pair *p)
{
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
    p->cert = NULL;
    p->key = NULL;
}

/* Writes `cert` and/or `key` as PEM to `path` atomically: a temporary file, then rename(). */
static void write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    size_t n = strlen(path) + 5;
    char *t = malloc(n);
    HARNESS_REQUIRE(t != NULL);
    snprintf(t, n, "%s.tmp", path);
    FILE *f = fopen(t, "w");
    HARNESS_REQUIRE(f != NULL);
    if (cert != NULL)
        HARNESS_REQUIRE(PEM_write_X509(f, cert) == 1);
    if (key != NULL)
        HARNESS_REQUIRE(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
    HARNESS_REQUIRE(fclose(f) == 0);
    HARNESS_REQUIRE(rename(t, path) == 0);
    free(t);
}

/* Replaces `path` atomically with `text`. */
static void write_text_atomic(const char *path, const char *text)
{
    size_t n = strlen(path) + 5;
    char *t = malloc(n);
    HARNESS_REQUIRE(t != NULL);
    snprintf(t, n, "%s.tmp", path);
    FILE *f = fopen(t, "w");
    HARNESS_REQUIRE(f != NULL);
    HARNESS_REQUIRE(fputs(text, f) >= 0);
    HARNESS_REQUIRE(fclose(f) == 0);
    HARNESS_REQUIRE(rename(t, path) == 0);
    free(t);
}

static cert_pair def_cert;  /* CN=default.test: the context's own certificate */
static cert_pair a_cert;    /* CN=www.example.com, SAN www.example.com, example.com */
static cert_pair b_cert;    /* CN=apps.example.com, SAN *.apps.example.com */
static EVP_PKEY *other_key; /* matches no certificate */
static char *a_crt, *a_key, *other_key_path;

static const char *const a_names[] = {"www.example.com", "example.com"};
static const char *const b_names[] = {"*.apps.example.com"};

/* ------------------------------------------------------------------------------------------ */
/* Contexts                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* A server context serving `p`, tickets only (no stateful cache), `version` (0 = any). */
static SSL_CTX *plain_server(int version, const cert_pair *p)
{
    return harness_server_ctx_with(version, p->cert, p->key);
}

/* A router with vhost A (from the PEM files) and vhost B (from another SSL_CTX, freed at
 * once: the router does not keep it). */
static tlsext_sni_router *new_router(void)
{
    tlsext_sni_router *r = NULL;
    HARNESS_REQUIRE(tlsext_sni_router_new(&r) == TLSEXT_RESULT_OK && r != NULL);
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, a_names, 2, a_crt, a_key), TLSEXT_RESULT_OK);
    SSL_CTX *bctx = plain_server(0, &b_cert);
    CHECK_RES(tlsext_sni_router_add_vhost_ctx(r, b_names, 1, bctx), TLSEXT_RESULT_OK);
    SSL_CTX_free(bctx);
    CHECK_EQ_INT(tlsext_sni_router_len(r), 2);
    return r;
}

/*
 * The server under test: CN=default.test, `ring` (if not NULL) for tickets, and a router
 * with vhosts A and B. The router handle goes to *router_out if asked for, else it is freed
 * right away (the context keeps its own reference).
 */
static SSL_CTX *sni_server(int version, tlsext_keyring *ring, tlsext_sni_router **router_out)
{
    SSL_CTX *ctx = plain_server(version, &def_cert);
    if (ring != NULL)
        CHECK_RES(tlsext_ssl_ctx_use_keyring(ctx, ring), TLSEXT_RESULT_OK);
    tlsext_sni_router *r = new_router();
    CHECK_RES(tlsext_ssl_ctx_use_sni(ctx, r), TLSEXT_RESULT_OK);
    if (router_out != NULL)
        *router_out = r;
    else
        tlsext_sni_router_free(r);
    return ctx;
}

/* ------------------------------------------------------------------------------------------ */
/* Handshake                                                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef struct side_errors {
    int ssl_error;          /* SSL_get_error of the failed step, 0 if none failed */
    bool unrecognized_name; /* SSL_R_TLSV1_UNRECOGNIZED_NAME was queued */
    char first[256];        /* the first queued error, for diagnostics */
} side_errors;

typedef struct sni_hs {
    harness_client_state st; /* first: harness_new_session_cb reads the app data as this */
    bool ok;                 /* both handshakes done, data both ways */
    bool resumed;            /* SSL_session_reused(client) */
    bool server_resumed;     /* SSL_session_reused(server) */
    int version;             /* SSL_version(client) */
    int hellos;              /* ClientHellos the client wrote that tlsext_client_hello_parse took */
    bool offered_ticket;     /* one of them carried a ticket */
    int client_alert;        /* last fatal alert the client read, -1 for none */
    side_errors cerr, serr;
    char cn[128];             /* CN of the certificate the client saw ("" for none) */
    char server_name[256];    /* SSL_get_servername on the server ("" for NULL) */
    char acked_name[256];     /* the server session's host name: set iff acknowledged */
    SSL_SESSION *session;     /* SSL_get1_session(client); sni_hs_clear frees it */
} sni_hs;

static void sni_hs_clear(sni_hs *r)
{
    SSL_SESSION_free(r->session);
    memset(r, 0, sizeof *r);
}

static void hs_msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                      SSL *ssl, void *arg)
{
    sni_hs *r = arg;
    if (r == NULL)
        return;
    harness_msg_cb(write_p, version, content_type, buf, len, ssl, &r->st);
    const uint8_t *p = buf;
    if (write_p && content_type == SSL3_RT_HANDSHAKE && len >= 4 &&
        p[0] == SSL3_MT_CLIENT_HELLO) {
        tlsext_client_hello *h = NULL;
        if (tlsext_client_hello_parse(p, len, &h) == TLSEXT_RESULT_OK) {
            r->hellos++;
            if (tlsext_client_hello_has_session_ticket(h))
                r->offered_ticket = true;
        }
        tlsext_client_hello_free(h);
    }
}

static void hs_info_cb(const SSL *ssl, int where, int ret)
{
    sni_hs *r = SSL_get_app_data(ssl);
    if (r != NULL && (where & SSL_CB_READ_ALERT) && (ret >> 8) == SSL3_AL_FATAL)
        r->client_alert = ret & 0xff;
}

/* Drains this thread's error queue into *e. */
static void drain_errors(side_errors *e)
{
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        if (ERR_GET_REASON(code) == SSL_R_TLSV1_UNRECOGNIZED_NAME)
            e->unrecognized_name = true;
        if (e->first[0] == '\0')
            ERR_error_string_n(code, e->first, sizeof e->first);
    }
}

/* One handshake step; 1 done, 0 wants more, -1 failed. Each side's errors are drained right
 * away so SSL_get_error on the other side is not confused by them. */
static int step(SSL *ssl, side_errors *e)
{
    int ret = SSL_do_handshake(ssl);
    int err = ret == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, ret);
    drain_errors(e);
    if (ret == 1)
        return 1;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return 0;
    e->ssl_error = err;
    return -1;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/*
 * A handshake between a new SSL of sctx and one of cctx; the client sends `sni` (NULL: no
 * server_name) and offers a copy of `resume` (NULL: none; a copy, because a TLS 1.3 client
 * uses a ticket once). Data goes both ways and both sides shut down cleanly. Failures are
 * expected in some tests, so nothing is printed here.
 */
static void sni_handshake(SSL_CTX *sctx, SSL_CTX *cctx, const char *sni,
                          const SSL_SESSION *resume, sni_hs *r)
{
    memset(r, 0, sizeof *r);
    r->client_alert = -1;
    ERR_clear_error();
    SSL *s = NULL, *c = NULL;
    harness_pair(sctx, cctx, &s, &c);
    SSL_set_app_data(c, r);
    SSL_set_msg_callback(c, hs_msg_cb);
    SSL_set_msg_callback_arg(c, r);
    SSL_set_info_callback(c, hs_info_cb);
    if (sni != NULL)
        HARNESS_REQUIRE(SSL_set_tlsext_host_name(c, sni) == 1);
    SSL_SESSION *copy = NULL;
    if (resume != NULL) {
        copy = SSL_SESSION_dup(resume);
        HARNESS_REQUIRE(copy != NULL && SSL_set_session(c, copy) == 1);
    }

    int cdone = 0, sdone = 0;
    for (int i = 0; i < 64 && !(cdone != 0 && sdone != 0); i++) {
        if (cdone == 0)
            cdone = step(c, &r->cerr);
        if (sdone == 0)
            sdone = step(s, &r->serr);
    }
    bool ok = cdone == 1 && sdone == 1;
    if (ok) {
        ok = harness_ping_pong(c, s);
        drain_errors(&r->cerr);
    }
    r->ok = ok;
    r->resumed = SSL_session_reused(c) == 1;
    r->server_resumed = SSL_session_reused(s) == 1;
    r->version = SSL_version(c);
    X509 *peer = SSL_get0_peer_certificate(c);
    if (peer == NULL ||
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, r->cn,
                                  (int)sizeof r->cn) < 0)
        r->cn[0] = '\0';
    copy_str(r->server_name, sizeof r->server_name,
             SSL_get_servername(s, TLSEXT_NAMETYPE_host_name));
    SSL_SESSION *ss = SSL_get_session(s);
    copy_str(r->acked_name, sizeof r->acked_name,
             ss != NULL ? SSL_SESSION_get0_hostname(ss) : NULL);
    if (ok) {
        SSL_shutdown(c);
        SSL_shutdown(s);
    }
    SSL_set_info_callback(c, NULL);
    SSL_set_msg_callback_arg(c, NULL);
    SSL_set_app_data(c, NULL);
    r->session = SSL_get1_session(c);
    SSL_free(c);
    SSL_free(s);
    SSL_SESSION_free(copy);
    ERR_clear_error();
}

/* Prints the errors of a handshake that should have worked. */
#define CHECK_HS_OK(r)                                                                      \
    do {                                                                                    \
        CHECK((r).ok);                                                                      \
        if (!(r).ok)                                                                        \
            printf("    client: \"%s\", server: \"%s\"\n", (r).cerr.first, (r).serr.first); \
    } while (0)

#define CHECK_STR(a, b)                                                                     \
    do {                                                                                    \
        const char *cs_a_ = (a), *cs_b_ = (b);                                              \
        if (strcmp(cs_a_, cs_b_) != 0) {                                                    \
            printf("  %s:%d: CHECK_STR failed: %s == %s (\"%s\" != \"%s\")\n", __FILE__,    \
                   __LINE__, #a, #b, cs_a_, cs_b_);                                         \
            fflush(stdout);                                                                 \
            harness_current_failures++;                                                     \
        }                                                                                   \
    } while (0)

/* A full handshake with `sni` that must work and show certificate CN `cn`. */
static void expect_cert(SSL_CTX *s, SSL_CTX *c, const char *sni, const char *cn, int version)
{
    sni_hs r;
    printf("    SNI %s -> %s\n", sni != NULL ? sni : "(none)", cn);
    sni_handshake(s, c, sni, NULL, &r);
    CHECK_HS_OK(r);
    CHECK(!r.resumed);
    CHECK_EQ_INT(r.version, version);
    CHECK_STR(r.cn, cn);
    sni_hs_clear(&r);
}

/* Offers a copy of `sess` with `sni`: the ticket must be sent, and resume iff `want`. The
 * certificate the client sees must be `cn` in any case. */
static void expect_resume(SSL_CTX *s, SSL_CTX *c, const SSL_SESSION *sess, const char *sni,
                          bool want, const char *cn)
{
    sni_hs r;
    printf("    ticket under SNI %s: %s\n", sni != NULL ? sni : "(none)",
           want ? "resumes" : "full handshake");
    sni_handshake(s, c, sni, sess, &r);
    CHECK_HS_OK(r);
    CHECK_EQ_INT(r.hellos, 1);
    CHECK(r.offered_ticket); /* the client did offer it: a refusal is the server's */
    CHECK_EQ_INT(r.resumed, want);
    CHECK_EQ_INT(r.server_resumed, want);
    CHECK_STR(r.cn, cn);
    sni_hs_clear(&r);
}

/* A full handshake with `sni` whose session (with a ticket) lands in *out. */
static SSL_SESSION *ticket_for(SSL_CTX *s, SSL_CTX *c, const char *sni, const char *cn)
{
    sni_hs r;
    sni_handshake(s, c, sni, NULL, &r);
    CHECK_HS_OK(r);
    CHECK(!r.resumed);
    CHECK_STR(r.cn, cn);
    CHECK(r.st.tickets >= 1);
    CHECK(r.session != NULL && SSL_SESSION_has_ticket(r.session));
    SSL_SESSION *out = r.session;
    r.session = NULL;
    sni_hs_clear(&r);
    return out;
}

/* ------------------------------------------------------------------------------------------ */
/* Tests                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Each name gets the certificate of its vhost; anything else the context's own. */
static void test_routing(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        tlsext_keyring *ring = harness_keyring_random(80, NULL);
        SSL_CTX *s = sni_server(v, ring, NULL), *c = harness_client_ctx(v);
        expect_cert(s, c, "www.example.com", "www.example.com", v);
        expect_cert(s, c, "example.com", "www.example.com", v);
        expect_cert(s, c, "EXAMPLE.com.", "www.example.com", v);
        expect_cert(s, c, "x.apps.example.com", "apps.example.com", v);
        expect_cert(s, c, "X.Apps.Example.Com", "apps.example.com", v);
        expect_cert(s, c, "a.b.apps.example.com", "default.test", v);
        expect_cert(s, c, "apps.example.com", "default.test", v);
        expect_cert(s, c, "unknown.test", "default.test", v);
        expect_cert(s, c, NULL, "default.test", v);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

/* After a vhost handshake the server reports the name and has acknowledged it (stored in the
 * session); a name no vhost serves is not acknowledged (no application callback). */
static void test_servername_acknowledged(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        tlsext_keyring *ring = harness_keyring_random(80, NULL);
        SSL_CTX *s = sni_server(v, ring, NULL), *c = harness_client_ctx(v);
        sni_hs r;

        sni_handshake(s, c, "www.example.com", NULL, &r);
        CHECK_HS_OK(r);
        CHECK_STR(r.server_name, "www.example.com");
        CHECK_STR(r.acked_name, "www.example.com");
        sni_hs_clear(&r);

        sni_handshake(s, c, "x.apps.example.com", NULL, &r);
        CHECK_HS_OK(r);
        CHECK_STR(r.server_name, "x.apps.example.com");
        CHECK_STR(r.acked_name, "x.apps.example.com");
        sni_hs_clear(&r);

        sni_handshake(s, c, "unknown.test", NULL, &r);
        CHECK_HS_OK(r);
        CHECK_STR(r.cn, "default.test");
        CHECK_STR(r.acked_name, "");
        sni_hs_clear(&r);

        SSL_CTX_free(s);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

/* Tickets are bound to the vhost that issued them. */
static void test_tickets_bound_to_vhost(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        tlsext_keyring *ring = harness_keyring_random(80, NULL);
        SSL_CTX *s = sni_server(v, ring, NULL), *c = harness_client_ctx(v);

        SSL_SESSION *www = ticket_for(s, c, "www.example.com", "www.example.com");
        expect_resume(s, c, www, "www.example.com", true, "www.example.com");
        expect_resume(s, c, www, "example.com", true, "www.example.com");
        expect_resume(s, c, www, "WWW.EXAMPLE.COM.", true, "www.example.com");
        expect_resume(s, c, www, "x.apps.example.com", false, "apps.example.com");
        expect_resume(s, c, www, "unknown.test", false, "default.test");
        expect_resume(s, c, www, NULL, false, "default.test");

        SSL_SESSION *apps = ticket_for(s, c, "x.apps.example.com", "apps.example.com");
        expect_resume(s, c, apps, "y.apps.example.com", true, "apps.example.com");
        expect_resume(s, c, apps, "www.example.com", false, "www.example.com");
        expect_resume(s, c, apps, "unknown.test", false, "default.test");

        SSL_SESSION *def = ticket_for(s, c, "unknown.test", "default.test");
        expect_resume(s, c, def, "unknown.test", true, "default.test");   /* control */
        expect_resume(s, c, def, "www.example.com", false, "www.example.com");
        expect_resume(s, c, def, "x.apps.example.com", false, "apps.example.com");

        SSL_SESSION_free(www);
        SSL_SESSION_free(apps);
        SSL_SESSION_free(def);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

/* Two contexts with one ring and their own routers from the same files derive the same vhost
 * keys; a context with another ring does not. */
static void test_shared_ring_two_contexts(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        tlsext_keyring *ring = harness_keyring_random(80, NULL);
        tlsext_keyring *other = harness_keyring_random(80, NULL);
        SSL_CTX *s1 = sni_server(v, ring, NULL), *s2 = sni_server(v, ring, NULL);
        SSL_CTX *s3 = sni_server(v, other, NULL), *c = harness_client_ctx(v);

        SSL_SESSION *www = ticket_for(s1, c, "www.example.com", "www.example.com");
        expect_resume(s2, c, www, "www.example.com", true, "www.example.com");
        expect_resume(s2, c, www, "example.com", true, "www.example.com");
        expect_resume(s2, c, www, "x.apps.example.com", false, "apps.example.com");
        expect_resume(s3, c, www, "www.example.com", false, "www.example.com");

        SSL_SESSION *apps = ticket_for(s1, c, "x.apps.example.com", "apps.example.com");
        expect_resume(s2, c, apps, "z.apps.example.com", true, "apps.example.com");

        SSL_SESSION_free(www);
        SSL_SESSION_free(apps);
        SSL_CTX_free(s1);
        SSL_CTX_free(s2);
        SSL_CTX_free(s3);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
        tlsext_keyring_free(other);
    }
}

/* A handshake that strict mode must refuse with unrecognized_name. */
static void expect_refused(SSL_CTX *s, SSL_CTX *c, const char *sni)
{
    sni_hs r;
    printf("    SNI %s refused\n", sni != NULL ? sni : "(none)");
    sni_handshake(s, c, sni, NULL, &r);
    CHECK(!r.ok);
    CHECK_EQ_INT(r.serr.ssl_error, SSL_ERROR_SSL);
    CHECK_EQ_INT(r.cerr.ssl_error, SSL_ERROR_SSL);
    CHECK_EQ_INT(r.client_alert, SSL_AD_UNRECOGNIZED_NAME);
    CHECK(r.cerr.unrecognized_name);
    CHECK_STR(r.cn, "");
    sni_hs_clear(&r);
}

static void test_strict(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        tlsext_keyring *ring = harness_keyring_random(80, NULL);
        tlsext_sni_router *router = NULL;
        SSL_CTX *s = sni_server(v, ring, &router), *c = harness_client_ctx(v);
        /* Set after attaching: the context sees the router's changes at once. */
        CHECK_RES(tlsext_sni_router_set_strict(router, true), TLSEXT_RESULT_OK);
        expect_refused(s, c, "unknown.test");
        expect_refused(s, c, NULL);
        expect_refused(s, c, "a.b.apps.example.com");
        expect_cert(s, c, "www.example.com", "www.example.com", v);
        expect_cert(s, c, "example.com", "www.example.com", v);
        expect_cert(s, c, "x.apps.example.com", "apps.example.com", v);

        CHECK_RES(tlsext_sni_router_set_strict(router, false), TLSEXT_RESULT_OK);
        expect_cert(s, c, "unknown.test", "default.test", v);
        expect_cert(s, c, NULL, "default.test", v);
        tlsext_sni_router_free(router);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

/* The application's own callbacks, installed after tlsext_ssl_ctx_use_sni. */
typedef struct app_cbs {
    int servername_calls;
    int servername_bad_arg;
    char servername_seen[256];
    int hello_calls;
    int hello_bad_arg;
} app_cbs;

static app_cbs app_sn_state, app_ch_state;

static int app_servername_cb(SSL *s, int *al, void *arg)
{
    (void)al;
    app_sn_state.servername_calls++;
    if (arg != &app_sn_state)
        app_sn_state.servername_bad_arg++;
    copy_str(app_sn_state.servername_seen, sizeof app_sn_state.servername_seen,
             SSL_get_servername(s, TLSEXT_NAMETYPE_host_name));
    return SSL_TLSEXT_ERR_OK; /* acknowledge whatever the client asked for */
}

static int app_client_hello_cb(SSL *s, int *al, void *arg)
{
    app_ch_state.hello_calls++;
    if (arg != &app_ch_state)
        app_ch_state.hello_bad_arg++;
    const unsigned char *ext = NULL;
    size_t len = 0;
    /* "denied.test" (an 11-byte host name, ext = list len 2 | type 1 | len 2 | name) */
    if (SSL_client_hello_get0_ext(s, TLSEXT_TYPE_server_name, &ext, &len) == 1 && len == 16 &&
        memcmp(ext + 5, "denied.test", 11) == 0) {
        *al = SSL_AD_ACCESS_DENIED;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

static void test_app_callbacks(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        tlsext_keyring *ring = harness_keyring_random(80, NULL);
        SSL_CTX *s = sni_server(v, ring, NULL), *c = harness_client_ctx(v);
        SSL_CTX_set_tlsext_servername_callback(s, app_servername_cb);
        SSL_CTX_set_tlsext_servername_arg(s, &app_sn_state);
        SSL_CTX_set_client_hello_cb(s, app_client_hello_cb, &app_ch_state);
        memset(&app_sn_state, 0, sizeof app_sn_state);
        memset(&app_ch_state, 0, sizeof app_ch_state);
        sni_hs r;

        /* Vhost names: the shim serves them; the application's callbacks are not called. */
        sni_handshake(s, c, "www.example.com", NULL, &r);
        CHECK_HS_OK(r);
        CHECK_STR(r.cn, "www.example.com");
        CHECK_STR(r.acked_name, "www.example.com");
        sni_hs_clear(&r);
        expect_cert(s, c, "x.apps.example.com", "apps.example.com", v);
        CHECK_EQ_INT(app_sn_state.servername_calls, 0);
        CHECK_EQ_INT(app_ch_state.hello_calls, 0);

        /* A name no vhost serves: both callbacks, with their arguments; the application's
         * servername callback acknowledged the name. */
        sni_handshake(s, c, "unknown.test", NULL, &r);
        CHECK_HS_OK(r);
        CHECK_STR(r.cn, "default.test");
        CHECK_STR(r.acked_name, "unknown.test");
        sni_hs_clear(&r);
        CHECK_EQ_INT(app_sn_state.servername_calls, 1);
        CHECK_EQ_INT(app_ch_state.hello_calls, 1);
        CHECK_STR(app_sn_state.servername_seen, "unknown.test");

        /* No SNI at all: no vhost either. */
        expect_cert(s, c, NULL, "default.test", v);
        CHECK_EQ_INT(app_sn_state.servername_calls, 2);
        CHECK_EQ_INT(app_ch_state.hello_calls, 2);

        /* The application's ClientHello callback still decides for its names. */
        sni_handshake(s, c, "denied.test", NULL, &r);
        CHECK(!r.ok);
        CHECK_EQ_INT(r.client_alert, SSL_AD_ACCESS_DENIED);
        sni_hs_clear(&r);
        CHECK_EQ_INT(app_ch_state.hello_calls, 3);

        CHECK_EQ_INT(app_sn_state.servername_bad_arg, 0);
        CHECK_EQ_INT(app_ch_state.hello_bad_arg, 0);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

/* A malloc'd "dir/name" path in the test directory. */
static char *tpath(const char *name)
{
    return harness_path(tmp, name);
}

static bool message_mentions(const char *needle)
{
    const char *m = tlsext_last_error_message();
    bool ok = m != NULL && strstr(m, needle) != NULL;
    if (!ok)
        printf("    last error \"%s\" does not mention \"%s\"\n", m != NULL ? m : "(null)",
               needle);
    return ok;
}

static void test_errors(void)
{
    tlsext_sni_router *r = NULL;
    CHECK_RES(tlsext_sni_router_new(&r), TLSEXT_RESULT_OK);
    HARNESS_REQUIRE(r != NULL);
    CHECK_EQ_INT(tlsext_sni_router_len(r), 0);
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, a_names, 2, a_crt, a_key), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(tlsext_sni_router_len(r), 1);

    /* Names already taken, also by case or trailing dot, also within one call. */
    const char *const dup1[] = {"example.com"};
    const char *const dup2[] = {"new.test", "WWW.Example.COM."};
    const char *const dup3[] = {"twice.test", "twice.test"};
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, dup1, 1, a_crt, a_key),
              TLSEXT_RESULT_BAD_NAME);
    CHECK(tlsext_last_error_message()[0] != '\0');
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, dup2, 2, a_crt, a_key),
              TLSEXT_RESULT_BAD_NAME);
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, dup3, 2, a_crt, a_key),
              TLSEXT_RESULT_BAD_NAME);
    SSL_CTX *bctx = plain_server(0, &b_cert);
    CHECK_RES(tlsext_sni_router_add_vhost_ctx(r, b_names, 1, bctx), TLSEXT_RESULT_OK);
    CHECK_RES(tlsext_sni_router_add_vhost_ctx(r, b_names, 1, bctx), TLSEXT_RESULT_BAD_NAME);
    CHECK_EQ_INT(tlsext_sni_router_len(r), 2);

    /* Invalid names, through both entry points. */
    const char *const invalid[] = {"", "1.2.3.4", "*.com", "a..b", "bad_name.test"};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        const char *const one[] = {invalid[i]};
        printf("    invalid name \"%s\"\n", invalid[i]);
        CHECK_RES(tlsext_sni_router_add_vhost_files(r, one, 1, a_crt, a_key),
                  TLSEXT_RESULT_BAD_NAME);
        CHECK(tlsext_last_error_message()[0] != '\0');
        const char *const two[] = {"fine.test", invalid[i]};
        CHECK_RES(tlsext_sni_router_add_vhost_ctx(r, two, 2, bctx), TLSEXT_RESULT_BAD_NAME);
    }
    CHECK_EQ_INT(tlsext_sni_router_len(r), 2);
    /* Nothing of a refused call was kept: "fine.test" and "new.test" are still free. */
    const char *const fine[] = {"fine.test", "new.test"};
    CHECK_RES(tlsext_sni_router_add_vhost_ctx(r, fine, 2, bctx), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(tlsext_sni_router_len(r), 3);
    const char *const names_ok[] = {"ok.test"};
    CHECK(tlsext_sni_router_add_vhost_files(r, names_ok, 0, a_crt, a_key) != TLSEXT_RESULT_OK);

    /* Certificate problems name the file. */
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, names_ok, 1, a_crt, other_key_path),
              TLSEXT_RESULT_CERTIFICATE);
    CHECK(message_mentions(other_key_path));
    char *missing = tpath("missing.crt");
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, names_ok, 1, missing, a_key),
              TLSEXT_RESULT_CERTIFICATE);
    CHECK(message_mentions(missing));
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, names_ok, 1, a_crt, missing),
              TLSEXT_RESULT_CERTIFICATE);
    CHECK(message_mentions(missing));
    char *junk = harness_write_file(tmp, "junk.pem", "not a PEM file\n", 15);
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, names_ok, 1, junk, a_key),
              TLSEXT_RESULT_CERTIFICATE);
    CHECK(message_mentions(junk));
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, names_ok, 1, a_crt, junk),
              TLSEXT_RESULT_CERTIFICATE);
    CHECK(message_mentions(junk));
    SSL_CTX *bare = SSL_CTX_new(TLS_server_method());
    HARNESS_REQUIRE(bare != NULL);
    CHECK_RES(tlsext_sni_router_add_vhost_ctx(r, names_ok, 1, bare), TLSEXT_RESULT_CERTIFICATE);
    CHECK(tlsext_last_error_message()[0] != '\0');
    CHECK_EQ_INT(tlsext_sni_router_len(r), 3);

    /* NULL arguments. */
    const char *const with_null[] = {"n.test", NULL};
    CHECK_RES(tlsext_sni_router_new(NULL), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_sni_router_add_vhost_files(NULL, names_ok, 1, a_crt, a_key),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, NULL, 1, a_crt, a_key),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, names_ok, 1, NULL, a_key),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, names_ok, 1, a_crt, NULL),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, with_null, 2, a_crt, a_key),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_sni_router_add_vhost_ctx(NULL, names_ok, 1, bctx),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_sni_router_add_vhost_ctx(r, NULL, 1, bctx), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_sni_router_add_vhost_ctx(r, names_ok, 1, NULL),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_sni_router_add_vhost_ctx(r, with_null, 2, bctx),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_sni_router_set_strict(NULL, true), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ssl_ctx_use_sni(NULL, r), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ssl_ctx_use_sni(bctx, NULL), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_EQ_INT(tlsext_sni_router_len(NULL), 0);
    CHECK_EQ_INT(tlsext_sni_router_len(r), 3);
    tlsext_sni_router_free(NULL);

    free(missing);
    free(junk);
    SSL_CTX_free(bare);
    SSL_CTX_free(bctx);
    tlsext_sni_router_free(r);
}

/* The caller frees its router handle right after attaching; the contexts keep theirs. */
static void test_router_freed_after_use(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        tlsext_keyring *ring = harness_keyring_random(80, NULL);
        tlsext_sni_router *r = new_router();
        SSL_CTX *s1 = plain_server(v, &def_cert), *s2 = plain_server(v, &def_cert);
        SSL_CTX *c = harness_client_ctx(v);
        CHECK_RES(tlsext_ssl_ctx_use_keyring(s1, ring), TLSEXT_RESULT_OK);
        CHECK_RES(tlsext_ssl_ctx_use_keyring(s2, ring), TLSEXT_RESULT_OK);
        tlsext_keyring_free(ring);
        CHECK_RES(tlsext_ssl_ctx_use_sni(s1, r), TLSEXT_RESULT_OK);
        CHECK_RES(tlsext_ssl_ctx_use_sni(s2, r), TLSEXT_RESULT_OK);
        tlsext_sni_router_free(r);
        expect_cert(s1, c, "www.example.com", "www.example.com", v);
        SSL_SESSION *www = ticket_for(s1, c, "example.com", "www.example.com");
        SSL_CTX_free(s1);
        /* s2 shares the router that s1 held too. */
        expect_cert(s2, c, "x.apps.example.com", "apps.example.com", v);
        expect_cert(s2, c, "unknown.test", "default.test", v);
        expect_resume(s2, c, www, "www.example.com", true, "www.example.com");
        SSL_SESSION_free(www);
        SSL_CTX_free(s2);
        SSL_CTX_free(c);
    }
}

/* A router on a context without a key ring: handshakes work, tickets stay bound. */
static void test_no_keyring(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        SSL_CTX *s = sni_server(v, NULL, NULL), *c = harness_client_ctx(v);
        expect_cert(s, c, "www.example.com", "www.example.com", v);
        expect_cert(s, c, "x.apps.example.com", "apps.example.com", v);
        expect_cert(s, c, "unknown.test", "default.test", v);

        SSL_SESSION *www = ticket_for(s, c, "www.example.com", "www.example.com");
        expect_resume(s, c, www, "www.example.com", true, "www.example.com");
        expect_resume(s, c, www, "example.com", true, "www.example.com");
        expect_resume(s, c, www, "x.apps.example.com", false, "apps.example.com");
        expect_resume(s, c, www, "unknown.test", false, "default.test");
        expect_resume(s, c, www, NULL, false, "default.test");
        SSL_SESSION *def = ticket_for(s, c, "unknown.test", "default.test");
        expect_resume(s, c, def, "www.example.com", false, "www.example.com");
        SSL_SESSION_free(www);
        SSL_SESSION_free(def);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Both versions against one server context (any version) must show `cn`. */
static void expect_cert_both(SSL_CTX *s, SSL_CTX *c12, SSL_CTX *c13, const char *cn)
{
    expect_cert(s, c12, "reload.test", cn, TLS1_2_VERSION);
    expect_cert(s, c13, "reload.test", cn, TLS1_3_VERSION);
}

/* The vhost's files are replaced: the new certificate is served after the next check (at
 * most once a second); unusable files keep the last good certificate. */
static void test_certificate_reload(void)
{
    char *crt = tpath("reload.crt"), *key = tpath("reload.key");
    cert_pair v1 = make_cert("reload-v1.test", "DNS:reload.test");
    cert_pair v2 = make_cert("reload-v2.test", "DNS:reload.test");
    cert_pair v3 = make_cert("reload-v3.test", "DNS:reload.test");
    write_pem(crt, v1.cert, NULL);
    write_pem(key, NULL, v1.key);

    tlsext_keyring *ring = harness_keyring_random(80, NULL);
    tlsext_sni_router *r = NULL;
    CHECK_RES(tlsext_sni_router_new(&r), TLSEXT_RESULT_OK);
    const char *const names[] = {"reload.test"};
    CHECK_RES(tlsext_sni_router_add_vhost_files(r, names, 1, crt, key), TLSEXT_RESULT_OK);
    SSL_CTX *s = plain_server(0, &def_cert);
    CHECK_RES(tlsext_ssl_ctx_use_keyring(s, ring), TLSEXT_RESULT_OK);
    CHECK_RES(tlsext_ssl_ctx_use_sni(s, r), TLSEXT_RESULT_OK);
    SSL_CTX *c12 = harness_client_ctx(TLS1_2_VERSION), *c13 = harness_client_ctx(TLS1_3_VERSION);

    double t0 = now_s();
    expect_cert_both(s, c12, c13, "reload-v1.test");

    /* New certificate and key, each file replaced atomically. */
    write_pem(crt, v2.cert, NULL);
    write_pem(key, NULL, v2.key);
    {
        /* Within a second of the last check the old certificate is still served (only
         * asserted when this handshake certainly ended within that second). */
        sni_hs h;
        sni_handshake(s, c13, "reload.test", NULL, &h);
        double t1 = now_s();
        CHECK_HS_OK(h);
        if (t1 - t0 < 0.9)
            CHECK_STR(h.cn, "reload-v1.test");
        else
            printf("    (too slow to check the once-a-second limit: %.2f s)\n", t1 - t0);
        sni_hs_clear(&h);
    }
    sleep_ms(1100);
    expect_cert_both(s, c12, c13, "reload-v2.test");

    /* Garbage: the last good certificate stays. */
    write_text_atomic(crt, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
    write_text_atomic(key, "garbage\n");
    sleep_ms(1100);
    expect_cert_both(s, c12, c13, "reload-v2.test");

    /* A key that does not match the certificate: still the last good one. */
    write_pem(crt, v3.cert, NULL);
    write_pem(key, NULL, v1.key);
    sleep_ms(1100);
    expect_cert_both(s, c12, c13, "reload-v2.test");

    /* Fixed: the new certificate is picked up. */
    write_pem(key, NULL, v3.key);
    sleep_ms(1100);
    expect_cert_both(s, c12, c13, "reload-v3.test");

    tlsext_sni_router_free(r);
    tlsext_keyring_free(ring);
    SSL_CTX_free(s);
    SSL_CTX_free(c12);
    SSL_CTX_free(c13);
    cert_pair_free(&v1);
    cert_pair_free(&v2);
    cert_pair_free(&v3);
    free(crt);
    free(key);
}

int main(void)
{
    tmp = harness_tmpdir();
    def_cert = make_cert("default.test", "DNS:default.test");
    a_cert = make_cert("www.example.com", "DNS:www.example.com,DNS:example.com");
    b_cert = make_cert("apps.example.com", "DNS:*.apps.example.com");
    other_key = EVP_EC_gen("P-256");
    HARNESS_REQUIRE(other_key != NULL);
    a_crt = tpath("a.crt");
    a_key = tpath("a.key");
    other_key_path = tpath("other.key");
    write_pem(a_crt, a_cert.cert, NULL);
    write_pem(a_key, NULL, a_cert.key);
    write_pem(other_key_path, NULL, other_key);

    RUN(test_routing);
    RUN(test_servername_acknowledged);
    RUN(test_tickets_bound_to_vhost);
    RUN(test_shared_ring_two_contexts);
    RUN(test_strict);
    RUN(test_app_callbacks);
    RUN(test_errors);
    RUN(test_router_freed_after_use);
    RUN(test_no_keyring);
    RUN(test_certificate_reload);

    cert_pair_free(&def_cert);
    cert_pair_free(&a_cert);
    cert_pair_free(&b_cert);
    EVP_PKEY_free(other_key);
    free(a_crt);
    free(a_key);
    free(other_key_path);
    harness_rm_rf(tmp);
    free(tmp);
    return harness_summary();
}
