/*
 * test_harness.c - the harness itself, against stock OpenSSL ticket handling (no tlsext_*
 * calls). It is the control for the other tests: with OpenSSL's own ticket keys the helpers
 * must see full handshakes, resumptions and NewSessionTickets exactly as OpenSSL produces
 * them, and must also see a resumption *fail* when it should.
 */
#define HARNESS_NO_SHIM
#include "harness.h"

static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};

static void test_full_handshake_and_resumption(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        SSL_CTX *s = harness_server_ctx(v), *c = harness_client_ctx(v);
        hs_result a, b;
        harness_handshake(s, c, NULL, &a);
        CHECK(a.ok);
        CHECK(!a.resumed);
        CHECK(!a.server_resumed);
        CHECK_EQ_INT(a.version, v);
        /* OpenSSL sends one ticket in TLS 1.2 and two (num_tickets) in TLS 1.3. */
        CHECK_EQ_INT(a.tickets, v == TLS1_3_VERSION ? 2 : 1);
        CHECK(a.new_sessions >= 1);
        CHECK(a.session != NULL && SSL_SESSION_has_ticket(a.session));
        CHECK(SSL_SESSION_is_resumable(a.session));

        harness_handshake(s, c, a.session, &b);
        CHECK(b.ok);
        CHECK(b.resumed);
        CHECK(b.server_resumed);
        CHECK_EQ_INT(b.version, v);
        hs_result_clear(&a);
        hs_result_clear(&b);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
    }
}

/* With tickets off and the server cache off, nothing resumes: the harness must say so. */
static void test_no_ticket_no_resumption(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        SSL_CTX *s = harness_server_ctx(v), *c = harness_client_ctx(v);
        /* TLS 1.3 with SSL_OP_NO_TICKET sends stateful tickets; num_tickets 0 stops them. */
        SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
        CHECK_EQ_INT(SSL_CTX_set_num_tickets(s, 0), 1);
        hs_result a, b;
        harness_handshake(s, c, NULL, &a);
        CHECK(a.ok);
        CHECK_EQ_INT(a.tickets, 0);
        CHECK(a.session != NULL && !SSL_SESSION_has_ticket(a.session));
        harness_handshake(s, c, a.session, &b);
        CHECK(b.ok);
        CHECK(!b.resumed);
        CHECK(!b.server_resumed);
        hs_result_clear(&a);
        hs_result_clear(&b);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
    }
}

/* A ticket from one server does not resume on a server with other (random) keys. */
static void test_other_server_keys_full_handshake(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        SSL_CTX *s1 = harness_server_ctx(v), *s2 = harness_server_ctx(v);
        SSL_CTX *c = harness_client_ctx(v);
        hs_result a, b;
        harness_handshake(s1, c, NULL, &a);
        CHECK(a.ok);
        harness_handshake(s2, c, a.session, &b);
        CHECK(b.ok);
        CHECK(!b.resumed);
        CHECK(b.tickets >= 1);
        hs_result_clear(&a);
        hs_result_clear(&b);
        SSL_CTX_free(s1);
        SSL_CTX_free(s2);
        SSL_CTX_free(c);
    }
}

/* Replacing a ticket by itself gives an identical session; flipping a bit defeats it. */
static void test_session_ticket_surgery(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        SSL_CTX *s = harness_server_ctx(v), *c = harness_client_ctx(v);
        hs_result a, b;
        harness_handshake(s, c, NULL, &a);
        CHECK(a.ok);
        size_t tlen, der1_len, der2_len;
        const uint8_t *t = harness_ticket(a.session, &tlen);
        CHECK(t != NULL && tlen > 80);

        SSL_SESSION *same = harness_session_with_ticket(a.session, t, tlen);
        CHECK(same != NULL);
        if (same != NULL) {
            uint8_t *der1 = harness_session_der(a.session, &der1_len);
            uint8_t *der2 = harness_session_der(same, &der2_len);
            CHECK_EQ_INT(der1_len, der2_len);
            CHECK(der1_len == der2_len && memcmp(der1, der2, der1_len) == 0);
            free(der1);
            free(der2);
            harness_handshake(s, c, same, &b);
            CHECK(b.ok);
            CHECK(b.resumed);
            hs_result_clear(&b);
        }
        SSL_SESSION_free(same);

        /* A longer and a shorter ticket: the DER rebuild copes with length changes. */
        uint8_t big[600];
        harness_random(big, sizeof big);
        SSL_SESSION *longer = harness_session_with_ticket(a.session, big, sizeof big);
        SSL_SESSION *shorter = harness_session_with_ticket(a.session, big, 40);
        CHECK(longer != NULL && shorter != NULL);
        size_t l1 = 0, l2 = 0;
        const uint8_t *t1 = harness_ticket(longer, &l1), *t2 = harness_ticket(shorter, &l2);
        CHECK_EQ_INT(l1, sizeof big);
        CHECK_EQ_INT(l2, 40);
        CHECK(t1 != NULL && memcmp(t1, big, sizeof big) == 0);
        CHECK(t2 != NULL && memcmp(t2, big, 40) == 0);
        SSL_SESSION_free(longer);
        SSL_SESSION_free(shorter);

        size_t offsets[] = {0, 20, 40, tlen - 1};
        for (size_t k = 0; k < 4; k++) {
            bool offered = harness_handshake_flipped(s, c, a.session, offsets[k], &b);
            CHECK(offered);
            if (!offered)
                continue;
            CHECK(b.ok);
            CHECK(!b.resumed);
            CHECK(b.tickets >= 1);
            hs_result_clear(&b);
        }
        hs_result_clear(&a);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
    }
}

/* Stock OpenSSL tickets decode with the reference decoder and the keys set via ctrl 59. */
static void test_reference_codec_matches_openssl(void)
{
    uint8_t keys[80]; /* name16 | hmac32 | aes32 */
    harness_random_key(keys, sizeof keys);
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        SSL_CTX *s = harness_server_ctx(v), *c = harness_client_ctx(v);
        CHECK_EQ_INT(SSL_CTX_set_tlsext_ticket_keys(s, keys, sizeof keys), 1);
        hs_result a, b;
        harness_handshake(s, c, NULL, &a);
        CHECK(a.ok);
        size_t tlen;
        const uint8_t *t = harness_ticket(a.session, &tlen);
        CHECK(t != NULL && tlen > 80);
        if (t == NULL)
            goto next;
        CHECK_EQ_MEM(t, keys, 16);
        uint8_t *pt = malloc(tlen);
        size_t pt_len = 0;
        CHECK_EQ_INT(harness_decode_ticket(t, tlen, keys + 48, 32, keys + 16, 32, pt, &pt_len),
                     1);
        const unsigned char *p = pt;
        SSL_SESSION *dec = d2i_SSL_SESSION(NULL, &p, (long)pt_len);
        CHECK(dec != NULL);
        CHECK(p == pt + pt_len);
        SSL_SESSION_free(dec);

        /* Re-seal the same plaintext with the reference sealer: the server resumes. */
        uint8_t *t2 = malloc(pt_len + 96);
        size_t t2_len = harness_craft_ticket(keys, keys + 48, 32, keys + 16, 32, pt, pt_len,
                                             false, t2);
        CHECK_EQ_INT(t2_len, tlen);
        SSL_SESSION *resealed = harness_session_with_ticket(a.session, t2, t2_len);
        CHECK(resealed != NULL);
        harness_handshake(s, c, resealed, &b);
        CHECK(b.ok);
        CHECK(b.resumed);
        hs_result_clear(&b);
        SSL_SESSION_free(resealed);
        free(t2);
        free(pt);
    next:
        hs_result_clear(&a);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
    }
}

static void test_tmpdir(void)
{
    char *dir = harness_tmpdir();
    char *p = harness_write_file(dir, "a", "xyz", 3);
    struct stat st;
    CHECK(stat(p, &st) == 0 && st.st_size == 3);
    char *sub = harness_path(dir, "sub");
    CHECK(mkdir(sub, 0700) == 0);
    free(harness_write_file(sub, "b", "", 0));
    harness_rm_rf(dir);
    CHECK(stat(dir, &st) != 0);
    free(sub);
    free(p);
    free(dir);
}

int main(void)
{
    RUN(test_full_handshake_and_resumption);
    RUN(test_no_ticket_no_resumption);
    RUN(test_other_server_keys_full_handshake);
    RUN(test_session_ticket_surgery);
    RUN(test_reference_codec_matches_openssl);
    RUN(test_tmpdir);
    return harness_summary();
}
