/*
 * test_compat.c - byte compatibility with OpenSSL's own tickets:
 *  - tickets our callback issues open with tlsext_ticket_open into a DER SSL_SESSION that
 *    OpenSSL parses and that matches the client's session;
 *  - tickets we seal (from a session's DER) are resumed by a server using the ring;
 *  - OpenSSL's built-in ticket keys (SSL_CTX_set_tlsext_ticket_keys, no callback) and a ring
 *    loaded from the same 80 bytes in the OpenSSL layout understand each other's tickets;
 *  - each key-file layout puts the AES and HMAC keys where the format says, checked with a
 *    reference sealer/opener written directly against libcrypto.
 */
#include "harness.h"

#define NAME_LEN 16

static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
static char *tmp;

/* A stock OpenSSL server whose ticket keys are `keys` (80 bytes: name | hmac32 | aes32). */
static SSL_CTX *stock_server(int v, const uint8_t keys[80])
{
    SSL_CTX *ctx = harness_server_ctx(v);
    CHECK_EQ_INT(SSL_CTX_set_tlsext_ticket_keys(ctx, (void *)keys, 80), 1);
    uint8_t back[80];
    CHECK_EQ_INT(SSL_CTX_get_tlsext_ticket_keys(ctx, back, 80), 1);
    CHECK_EQ_MEM(back, keys, 80);
    return ctx;
}

/* Opens the client session's ticket with ring and parses it; NULL on failure. */
static SSL_SESSION *open_session_ticket(const tlsext_keyring *ring, const SSL_SESSION *client,
                                        uint8_t **pt_out, size_t *pt_len_out)
{
    size_t tlen;
    const uint8_t *t = harness_ticket(client, &tlen);
    CHECK(t != NULL);
    if (t == NULL)
        return NULL;
    uint8_t *pt = malloc(tlen);
    HARNESS_REQUIRE(pt != NULL);
    size_t pt_len = 0;
    tlsext_result r = tlsext_ticket_open(ring, t, tlen, pt, tlen, &pt_len);
    CHECK_RES(r, TLSEXT_RESULT_OK);
    SSL_SESSION *sess = NULL;
    if (r == TLSEXT_RESULT_OK) {
        CHECK(pt_len > 0 && pt_len <= tlen - 64 - 1);
        const unsigned char *p = pt;
        sess = d2i_SSL_SESSION(NULL, &p, (long)pt_len);
        CHECK(sess != NULL);
        CHECK(p == pt + pt_len); /* all of it, nothing trailing */
    }
    if (pt_out != NULL) {
        *pt_out = pt;
        *pt_len_out = pt_len;
    } else {
        free(pt);
    }
    return sess;
}

/* The server-side session (from a ticket) agrees with the client's. */
static void check_same_session(const SSL_SESSION *server, const SSL_SESSION *client)
{
    uint8_t ms[SSL_MAX_MASTER_KEY_LENGTH], mc[SSL_MAX_MASTER_KEY_LENGTH];
    size_t ls = SSL_SESSION_get_master_key(server, ms, sizeof ms);
    size_t lc = SSL_SESSION_get_master_key(client, mc, sizeof mc);
    CHECK(ls > 0);
    CHECK_EQ_INT(ls, lc);
    CHECK(ls == lc && memcmp(ms, mc, ls) == 0);
    const SSL_CIPHER *cs = SSL_SESSION_get0_cipher(server), *cc = SSL_SESSION_get0_cipher(client);
    CHECK(cs != NULL && cc != NULL);
    if (cs != NULL && cc != NULL)
        CHECK_EQ_INT(SSL_CIPHER_get_id(cs), SSL_CIPHER_get_id(cc));
    CHECK_EQ_INT(SSL_SESSION_get_protocol_version(server),
                 SSL_SESSION_get_protocol_version(client));
    unsigned int sid_len = 0;
    const unsigned char *sid = SSL_SESSION_get0_id_context(server, &sid_len);
    CHECK_EQ_INT(sid_len, sizeof HARNESS_SID_CTX - 1);
    CHECK(sid_len == sizeof HARNESS_SID_CTX - 1 && memcmp(sid, HARNESS_SID_CTX, sid_len) == 0);
}

/* Seals der with ring, puts it into a copy of client, connects to s: did it resume? */
static bool resumes_with_sealed(SSL_CTX *s, SSL_CTX *c, const tlsext_keyring *ring,
                                const SSL_SESSION *client, const uint8_t *der, size_t der_len,
                                const uint8_t *want_name)
{
    size_t cap = tlsext_ticket_sealed_len(der_len), tlen = 0;
    uint8_t *t = malloc(cap);
    HARNESS_REQUIRE(t != NULL);
    CHECK_RES(tlsext_ticket_seal(ring, der, der_len, t, cap, &tlen), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(tlen, cap);
    CHECK_EQ_MEM(t, want_name, NAME_LEN);
    hs_result r;
    bool offered = harness_handshake_with_ticket(s, c, client, t, tlen, &r);
    free(t);
    CHECK(offered);
    if (!offered)
        return false;
    CHECK(r.ok);
    bool resumed = r.resumed && r.server_resumed;
    hs_result_clear(&r);
    return resumed;
}

/* ------------------------------------------------------------------------------------------ */

/* (1) Our callback's tickets open with tlsext_ticket_open into OpenSSL session DER. */
static void test_callback_ticket_opens_to_session(void)
{
    const size_t sizes[] = {48, 80};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < 2; i++) {
            int v = versions[i];
            printf("  %s, %zu-byte key\n", harness_version_name(v), sizes[k]);
            uint8_t key[80];
            tlsext_keyring *ring = harness_keyring_random(sizes[k], key);
            SSL_CTX *s = harness_keyring_server_ctx(v, ring), *c = harness_client_ctx(v);
            hs_result a;
            harness_handshake(s, c, NULL, &a);
            CHECK(a.ok);
            size_t tlen;
            const uint8_t *t = harness_ticket(a.session, &tlen);
            CHECK(t != NULL && tlen >= 96 && (tlen - 64) % 16 == 0);
            if (t != NULL)
                CHECK_EQ_MEM(t, key, NAME_LEN);
            SSL_SESSION *srv = open_session_ticket(ring, a.session, NULL, NULL);
            if (srv != NULL)
                check_same_session(srv, a.session);
            SSL_SESSION_free(srv);
            hs_result_clear(&a);
            SSL_CTX_free(s);
            SSL_CTX_free(c);
            tlsext_keyring_free(ring);
        }
}

/* (2) Tickets we seal from session DER are resumed by a server using the ring. */
static void test_sealed_session_resumes(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        uint8_t key[80];
        tlsext_keyring *ring = harness_keyring_random(80, key);
        SSL_CTX *s = harness_keyring_server_ctx(v, ring), *c = harness_client_ctx(v);
        hs_result a;
        harness_handshake(s, c, NULL, &a);
        CHECK(a.ok);

        /* (a) the plaintext of the server's own ticket, sealed again by us */
        uint8_t *pt = NULL;
        size_t pt_len = 0;
        SSL_SESSION *srv = open_session_ticket(ring, a.session, &pt, &pt_len);
        if (srv != NULL)
            CHECK(resumes_with_sealed(s, c, ring, a.session, pt, pt_len, key));
        SSL_SESSION_free(srv);
        free(pt);

        /* (b) the server's session object after the handshake, i2d'd and sealed by us */
        CHECK(a.server_session != NULL);
        if (a.server_session != NULL) {
            check_same_session(a.server_session, a.session);
            size_t der_len;
            uint8_t *der = harness_session_der(a.server_session, &der_len);
            CHECK(resumes_with_sealed(s, c, ring, a.session, der, der_len, key));
            free(der);
        }

        /* Control: the same DER sealed under a key the server does not have: no resumption. */
        uint8_t other[80];
        tlsext_keyring *foreign = harness_keyring_random(80, other);
        size_t der_len;
        uint8_t *der = harness_session_der(a.server_session, &der_len);
        CHECK(!resumes_with_sealed(s, c, foreign, a.session, der, der_len, other));
        free(der);
        tlsext_keyring_free(foreign);

        hs_result_clear(&a);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

/* (3) OpenSSL's built-in ticket keys and a ring from the same 80 bytes are interchangeable. */
static void test_openssl_builtin_keys(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        uint8_t keys[80]; /* name16 | hmac32 | aes32 */
        harness_random_key(keys, 80);
        SSL_CTX *stock = stock_server(v, keys), *c = harness_client_ctx(v);

        tlsext_keyring *ring = harness_keyring_new();
        CHECK_RES(tlsext_keyring_add_key(ring, keys, 80, TLSEXT_KEY_FORMAT_OPENSSL),
                  TLSEXT_RESULT_OK);
        char *path = harness_write_file(tmp, "openssl.keys", keys, 80);
        tlsext_keyring *ring_file = harness_keyring_new();
        CHECK_RES(tlsext_keyring_load_file(ring_file, path, TLSEXT_KEY_FORMAT_OPENSSL),
                  TLSEXT_RESULT_OK);
        free(path);
        SSL_CTX *ours = harness_keyring_server_ctx(v, ring);

        /* Stock tickets open with our ring, both ways of loading it. */
        hs_result a;
        harness_handshake(stock, c, NULL, &a);
        CHECK(a.ok);
        CHECK(a.tickets >= 1);
        size_t tlen;
        const uint8_t *t = harness_ticket(a.session, &tlen);
        CHECK(t != NULL && tlen > 80);
        if (t != NULL)
            CHECK_EQ_MEM(t, keys, NAME_LEN);
        uint8_t *pt = NULL;
        size_t pt_len = 0;
        SSL_SESSION *srv = open_session_ticket(ring, a.session, &pt, &pt_len);
        if (srv != NULL)
            check_same_session(srv, a.session);
        SSL_SESSION_free(srv);
        srv = open_session_ticket(ring_file, a.session, NULL, NULL);
        SSL_SESSION_free(srv);

        /* Our sealed tickets resume on the stock server. */
        if (pt != NULL && pt_len > 0)
            CHECK(resumes_with_sealed(stock, c, ring, a.session, pt, pt_len, keys));
        if (a.server_session != NULL) {
            size_t der_len;
            uint8_t *der = harness_session_der(a.server_session, &der_len);
            CHECK(resumes_with_sealed(stock, c, ring_file, a.session, der, der_len, keys));
            free(der);
        }
        free(pt);

        /* Stock tickets resume on our server, and ours on the stock server. */
        hs_result b, d, e;
        harness_handshake(ours, c, a.session, &b);
        CHECK(b.ok);
        CHECK(b.resumed);
        harness_handshake(ours, c, NULL, &d);
        CHECK(d.ok);
        CHECK(!d.resumed);
        t = harness_ticket(d.session, &tlen);
        CHECK(t != NULL);
        if (t != NULL)
            CHECK_EQ_MEM(t, keys, NAME_LEN);
        harness_handshake(stock, c, d.session, &e);
        CHECK(e.ok);
        CHECK(e.resumed);
        hs_result_clear(&a);
        hs_result_clear(&b);
        hs_result_clear(&d);
        hs_result_clear(&e);
        SSL_CTX_free(stock);
        SSL_CTX_free(ours);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
        tlsext_keyring_free(ring_file);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* (4) Key layouts, checked against the libcrypto reference                                   */
/* ------------------------------------------------------------------------------------------ */

struct layout {
    const char *what;
    size_t size;
    tlsext_key_format format;
    bool haproxy;       /* write a 3-line base64 file; the middle line is the key under test */
    size_t aes_off, aes_len, hmac_off, hmac_len;
};

static const struct layout layouts[] = {
    {"nginx 48", 48, TLSEXT_KEY_FORMAT_NGINX, false, 16, 16, 32, 16},
    {"nginx 80", 80, TLSEXT_KEY_FORMAT_NGINX, false, 48, 32, 16, 32},
    {"openssl 80", 80, TLSEXT_KEY_FORMAT_OPENSSL, false, 48, 32, 16, 32},
    {"haproxy 48", 48, TLSEXT_KEY_FORMAT_HAPROXY, true, 16, 16, 32, 16},
    {"haproxy 80", 80, TLSEXT_KEY_FORMAT_HAPROXY, true, 16, 32, 48, 32},
};

static void test_key_layouts(void)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        const struct layout *l = &layouts[i];
        printf("  %s\n", l->what);
        uint8_t k[3][80];
        for (int j = 0; j < 3; j++)
            harness_random_key(k[j], l->size);
        const uint8_t *key = l->haproxy ? k[1] : k[0];
        char *path;
        if (l->haproxy) {
            char *text = harness_haproxy_text(k, 3, l->size);
            path = harness_write_file(tmp, "layout.txt", text, strlen(text));
            free(text);
        } else {
            path = harness_write_file(tmp, "layout.key", k[0], l->size);
        }
        tlsext_keyring *ring = harness_keyring_new();
        CHECK_RES(tlsext_keyring_load_file(ring, path, l->format), TLSEXT_RESULT_OK);
        free(path);

        /* Ours -> reference. */
        uint8_t pt[77], t[256], out[256];
        harness_random(pt, sizeof pt);
        size_t tlen = 0, out_len = 0;
        CHECK_RES(tlsext_ticket_seal(ring, pt, sizeof pt, t, sizeof t, &tlen),
                  TLSEXT_RESULT_OK);
        CHECK_EQ_INT(tlen, 16 + 16 + 80 + 32);
        CHECK_EQ_MEM(t, key, NAME_LEN);
        CHECK_EQ_INT(harness_decode_ticket(t, tlen, key + l->aes_off, l->aes_len,
                                           key + l->hmac_off, l->hmac_len, out, &out_len),
                     1);
        CHECK_EQ_INT(out_len, sizeof pt);
        CHECK(memcmp(out, pt, sizeof pt) == 0);

        /* Reference -> ours. */
        tlen = harness_craft_ticket(key, key + l->aes_off, l->aes_len, key + l->hmac_off,
                                    l->hmac_len, pt, sizeof pt, false, t);
        out_len = 0;
        CHECK_RES(tlsext_ticket_open(ring, t, tlen, out, sizeof out, &out_len),
                  TLSEXT_RESULT_OK);
        CHECK_EQ_INT(out_len, sizeof pt);
        CHECK(memcmp(out, pt, sizeof pt) == 0);

        /* Swapping the AES and HMAC halves must not work (the layout really matters). */
        if (l->aes_len == l->hmac_len) {
            tlen = harness_craft_ticket(key, key + l->hmac_off, l->hmac_len, key + l->aes_off,
                                        l->aes_len, pt, sizeof pt, false, t);
            CHECK_RES(tlsext_ticket_open(ring, t, tlen, out, sizeof out, &out_len),
                      TLSEXT_RESULT_TICKET_BAD_MAC);
        }
        tlsext_keyring_free(ring);
    }
}

int main(void)
{
    tmp = harness_tmpdir();
    RUN(test_callback_ticket_opens_to_session);
    RUN(test_sealed_session_resumes);
    RUN(test_openssl_builtin_keys);
    RUN(test_key_layouts);
    harness_rm_rf(tmp);
    free(tmp);
    return harness_summary();
}
