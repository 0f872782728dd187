/*
 * test_handshake.c - real TLS 1.2 and 1.3 handshakes (in memory, one process) against a
 * server context whose tickets come from a tlsext_keyring via tlsext_ssl_ctx_use_keyring.
 * The server's stateful cache is off, so every resumption here is a ticket resumption.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "harness.h"

#define NAME_LEN 16

static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
static char *tmp;

/* Adds a fresh random nginx-layout key of `size` bytes to the ring (which must take it). */
static void add_random_key(tlsext_keyring *ring, size_t size, uint8_t *key_out)
{
    uint8_t key[80];
    harness_random_key(key, size);
    CHECK_RES(tlsext_keyring_add_key(ring, key, size, TLSEXT_KEY_FORMAT_NGINX),
              TLSEXT_RESULT_OK);
    if (key_out != NULL)
        memcpy(key_out, key, size);
}

/* The key name at the front of the session's ticket (false if it has none). */
static bool ticket_name(const SSL_SESSION *sess, uint8_t name[NAME_LEN])
{
    size_t len;
    const uint8_t *t = harness_ticket(sess, &len);
    memset(name, 0, NAME_LEN);
    if (t == NULL || len < NAME_LEN)
        return false;
    memcpy(name, t, NAME_LEN);
    return true;
}

#define CHECK_TICKET_NAME(sess, want)                                                       \
    do {                                                                                    \
        uint8_t tn_[NAME_LEN];                                                              \
        CHECK(ticket_name((sess), tn_));                                                    \
        CHECK_EQ_MEM(tn_, (want), NAME_LEN);                                                \
    } while (0)

static bool same_ticket(const SSL_SESSION *a, const SSL_SESSION *b)
{
    size_t la, lb;
    const uint8_t *ta = harness_ticket(a, &la), *tb = harness_ticket(b, &lb);
    return ta != NULL && tb != NULL && la == lb && memcmp(ta, tb, la) == 0;
}

/* ------------------------------------------------------------------------------------------ */

static void full_then_resume(size_t key_size)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s, %zu-byte key\n", harness_version_name(v), key_size);
        uint8_t key[80];
        tlsext_keyring *ring = harness_keyring_random(key_size, key);
        SSL_CTX *s = harness_keyring_server_ctx(v, ring), *c = harness_client_ctx(v);
        hs_result a, b, d;

        harness_handshake(s, c, NULL, &a);
        CHECK(a.ok);
        CHECK(!a.resumed);
        CHECK_EQ_INT(a.version, v);
        CHECK_EQ_INT(a.tickets, v == TLS1_3_VERSION ? 2 : 1);
        CHECK(a.session != NULL && SSL_SESSION_has_ticket(a.session));
        CHECK_TICKET_NAME(a.session, key);

        harness_handshake(s, c, a.session, &b);
        CHECK(b.ok);
        CHECK(b.resumed);
        CHECK(b.server_resumed);
        CHECK_EQ_INT(b.version, v);
        if (v == TLS1_3_VERSION) {
            /* A TLS 1.3 resumption must hand out a fresh ticket, or the client is stuck. */
            CHECK(b.tickets >= 1);
            CHECK(!same_ticket(a.session, b.session));
            CHECK_TICKET_NAME(b.session, key);
        } else {
            /* TLS 1.2 with the current key: the ticket stays valid, no renewal. */
            CHECK_EQ_INT(b.tickets, 0);
        }

        /* And the ticket from the resumption resumes again (a chain of resumptions). */
        harness_handshake(s, c, b.session, &d);
        CHECK(d.ok);
        CHECK(d.resumed);
        hs_result_clear(&a);
        hs_result_clear(&b);
        hs_result_clear(&d);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

static void test_full_then_resume_aes256(void)
{
    full_then_resume(80);
}

static void test_full_then_resume_aes128(void)
{
    full_then_resume(48);
}

/*
 * Rotation: after add_key, old tickets still resume and come back renewed under the new key
 * (TLS 1.2 renews only then); once the old key is gone they get a full handshake.
 */
static void test_rotation(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        uint8_t a[80], b[80], name[NAME_LEN];
        tlsext_keyring *ring = harness_keyring_random(80, a);
        SSL_CTX *s = harness_keyring_server_ctx(v, ring), *c = harness_client_ctx(v);
        hs_result r1, r2, r3, r4, r5;

        harness_handshake(s, c, NULL, &r1);
        CHECK(r1.ok);
        CHECK_TICKET_NAME(r1.session, a);

        /* Rotate: B encrypts from now on, A still opens. */
        add_random_key(ring, 80, b);
        CHECK_EQ_INT(tlsext_keyring_len(ring), 2);
        CHECK(tlsext_keyring_encrypting_key_name(ring, name) == TLSEXT_RESULT_OK);
        CHECK_EQ_MEM(name, b, NAME_LEN);

        harness_handshake(s, c, r1.session, &r2);
        CHECK(r2.ok);
        CHECK(r2.resumed);
        CHECK_EQ_INT(r2.tickets, 1); /* renewed, under the new key */
        CHECK(!same_ticket(r1.session, r2.session));
        CHECK_TICKET_NAME(r2.session, b);

        /* A new client gets a B ticket straight away. */
        harness_handshake(s, c, NULL, &r3);
        CHECK(r3.ok);
        CHECK(!r3.resumed);
        CHECK_TICKET_NAME(r3.session, b);

        /* Retire A: a ring loaded from a file holding B only. */
        char *path = harness_write_file(tmp, "only-b.key", b, 80);
        CHECK_RES(tlsext_keyring_load_file(ring, path, TLSEXT_KEY_FORMAT_NGINX),
                  TLSEXT_RESULT_OK);
        CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
        free(path);

        harness_handshake(s, c, r1.session, &r4); /* A ticket: full handshake, new B ticket */
        CHECK(r4.ok);
        CHECK(!r4.resumed);
        CHECK(!r4.server_resumed);
        CHECK(r4.tickets >= 1);
        CHECK_TICKET_NAME(r4.session, b);

        harness_handshake(s, c, r2.session, &r5); /* the renewed B ticket still resumes */
        CHECK(r5.ok);
        CHECK(r5.resumed);

        hs_result_clear(&r1);
        hs_result_clear(&r2);
        hs_result_clear(&r3);
        hs_result_clear(&r4);
        hs_result_clear(&r5);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

/* Every byte region of the ticket tampered with: full handshake, a new good ticket. */
static void test_tampered_ticket(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        uint8_t key[80];
        tlsext_keyring *ring = harness_keyring_random(80, key);
        SSL_CTX *s = harness_keyring_server_ctx(v, ring), *c = harness_client_ctx(v);
        hs_result a, b;
        harness_handshake(s, c, NULL, &a);
        CHECK(a.ok);
        size_t tlen;
        CHECK(harness_ticket(a.session, &tlen) != NULL);
        /* name, IV, first ciphertext block, last ciphertext block, MAC */
        const size_t offsets[] = {0, 15, 16, 32, tlen - 33, tlen - 1};
        for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
            bool offered = harness_handshake_flipped(s, c, a.session, offsets[k], &b);
            CHECK(offered);
            if (!offered)
                continue;
            CHECK(b.ok);
            CHECK(!b.resumed);
            CHECK(!b.server_resumed);
            CHECK(b.tickets >= 1);
            CHECK_TICKET_NAME(b.session, key);
            hs_result_clear(&b);
        }
        /* Garbage of other lengths: too short for a key name, odd sizes, very long. */
        const size_t lens[] = {1, 31, 32, 79, 81, 2000};
        uint8_t junk[2000];
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            harness_random(junk, lens[k]);
            if (lens[k] >= NAME_LEN)
                memcpy(junk, key, NAME_LEN); /* a known key name, to reach the MAC check */
            bool offered = harness_handshake_with_ticket(s, c, a.session, junk, lens[k], &b);
            CHECK(offered);
            if (!offered)
                continue;
            CHECK(b.ok);
            CHECK(!b.resumed);
            hs_result_clear(&b);
        }
        hs_result_clear(&a);
        SSL_CTX_free(s);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

/* Two servers sharing one ring resume each other's tickets. */
static void test_two_contexts_share_ring(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        uint8_t key[80];
        tlsext_keyring *ring = harness_keyring_random(80, key);
        SSL_CTX *sa = harness_keyring_server_ctx(v, ring);
        SSL_CTX *sb = harness_keyring_server_ctx(v, ring);
        SSL_CTX *other = harness_keyring_server_ctx(v, ring);
        SSL_CTX *c = harness_client_ctx(v);
        hs_result a, b, d, e;
        harness_handshake(sa, c, NULL, &a);
        CHECK(a.ok);
        harness_handshake(sb, c, a.session, &b);
        CHECK(b.ok);
        CHECK(b.resumed);
        CHECK(b.server_resumed);
        harness_handshake(sa, c, b.session, &d);
        CHECK(d.ok);
        CHECK(d.resumed);
        /* A key added through the shared ring is used by both. */
        uint8_t k2[80];
        add_random_key(ring, 80, k2);
        harness_handshake(other, c, NULL, &e);
        CHECK(e.ok);
        CHECK_TICKET_NAME(e.session, k2);
        hs_result_clear(&a);
        hs_result_clear(&b);
        hs_result_clear(&d);
        hs_result_clear(&e);
        SSL_CTX_free(sa);
        SSL_CTX_free(sb);
        SSL_CTX_free(other);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

/* The caller's reference can go right after attaching: the context holds its own. */
static void test_ring_freed_after_attach(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        uint8_t key[80];
        tlsext_keyring *ring = harness_keyring_random(80, key);
        SSL_CTX *s = harness_keyring_server_ctx(v, ring), *c = harness_client_ctx(v);
        tlsext_keyring_free(ring);
        ring = NULL;
        hs_result a, b;
        harness_handshake(s, c, NULL, &a);
        CHECK(a.ok);
        CHECK_TICKET_NAME(a.session, key);
        harness_handshake(s, c, a.session, &b);
        CHECK(b.ok);
        CHECK(b.resumed);
        hs_result_clear(&a);
        hs_result_clear(&b);
        SSL_CTX_free(s); /* releases the last ring reference: valgrind sees no leak */
        SSL_CTX_free(c);
    }
}

/* An empty ring (if it may be attached at all) must not break handshakes: no tickets. */
static void test_empty_ring_attached(void)
{
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        tlsext_keyring *ring = harness_keyring_new();
        SSL_CTX *s = harness_server_ctx(v), *c = harness_client_ctx(v);
        tlsext_result r = tlsext_ssl_ctx_use_keyring(s, ring);
        CHECK(r == TLSEXT_RESULT_OK || r == TLSEXT_RESULT_EMPTY_RING);
        if (r == TLSEXT_RESULT_OK) {
            hs_result a, b;
            harness_handshake(s, c, NULL, &a);
            CHECK(a.ok);
            CHECK_EQ_INT(a.tickets, 0);
            /* The first key added later is used at once. */
            uint8_t key[80];
            add_random_key(ring, 80, key);
            harness_handshake(s, c, NULL, &b);
            CHECK(b.ok);
            CHECK(b.tickets >= 1);
            CHECK_TICKET_NAME(b.session, key);
            hs_result_clear(&a);
            hs_result_clear(&b);
        } else {
            printf("  (an empty ring cannot be attached: %s)\n", tlsext_result_str(r));
        }
        SSL_CTX_free(s);
        SSL_CTX_free(c);
        tlsext_keyring_free(ring);
    }
}

/* Attaching a second ring replaces the first (whose reference is released). */
static void test_attach_replaces_ring(void)
{
    uint8_t k1[80], k2[80];
    tlsext_keyring *r1 = harness_keyring_random(80, k1), *r2 = harness_keyring_random(80, k2);
    SSL_CTX *s = harness_keyring_server_ctx(TLS1_3_VERSION, r1);
    SSL_CTX *c = harness_client_ctx(TLS1_3_VERSION);
    CHECK_RES(tlsext_ssl_ctx_use_keyring(s, r2), TLSEXT_RESULT_OK);
    tlsext_keyring_free(r1);
    tlsext_keyring_free(r2);
    hs_result a;
    harness_handshake(s, c, NULL, &a);
    CHECK(a.ok);
    CHECK_TICKET_NAME(a.session, k2);
    hs_result_clear(&a);
    SSL_CTX_free(s);
    SSL_CTX_free(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Reloading the ring from another thread while handshakes run                               */
/* ------------------------------------------------------------------------------------------ */

#define RELOAD_HANDSHAKES 200
#define RELOAD_MIN_ROUNDS 200

struct reloader {
    tlsext_keyring *ring;
    const char *path; /* a haproxy file of 3 keys */
    atomic_int stop;
    int rounds;
    int failures;
};

static void *reload_loop(void *arg)
{
    struct reloader *rl = arg;
    uint8_t key[80];
    while (rl->rounds < RELOAD_MIN_ROUNDS || !atomic_load(&rl->stop)) {
        if (tlsext_keyring_load_file(rl->ring, rl->path, TLSEXT_KEY_FORMAT_AUTO) !=
            TLSEXT_RESULT_OK)
            rl->failures++;
        harness_random_key(key, 80);
        if (tlsext_keyring_add_key(rl->ring, key, 80, TLSEXT_KEY_FORMAT_NGINX) !=
            TLSEXT_RESULT_OK)
            rl->failures++;
        rl->rounds++;
        sched_yield(); /* interleave with the handshakes (valgrind runs one thread at a time) */
    }
    return NULL;
}

static void test_reload_during_handshakes(void)
{
    uint8_t keys[3][80];
    for (int i = 0; i < 3; i++)
        harness_random_key(keys[i], 80);
    char *text = harness_haproxy_text(keys, 3, 80);
    char *path = harness_write_file(tmp, "reload.txt", text, strlen(text));
    free(text);
    tlsext_keyring *ring = harness_keyring_new();
    CHECK_RES(tlsext_keyring_load_file(ring, path, TLSEXT_KEY_FORMAT_AUTO), TLSEXT_RESULT_OK);
    SSL_CTX *s = harness_keyring_server_ctx(0, ring);
    SSL_CTX *c12 = harness_client_ctx(TLS1_2_VERSION), *c13 = harness_client_ctx(TLS1_3_VERSION);

    struct reloader rl = {ring, path, 0, 0, 0};
    pthread_t th;
    HARNESS_REQUIRE(pthread_create(&th, NULL, reload_loop, &rl) == 0);
    int completed = 0, resumed = 0, with_ticket = 0;
    SSL_SESSION *last[2] = {NULL, NULL};
    for (int i = 0; i < RELOAD_HANDSHAKES; i++) {
        int which = i % 2;
        hs_result r;
        harness_handshake(s, which ? c13 : c12, last[which], &r);
        completed += r.ok;
        resumed += r.resumed;
        if (r.session != NULL && SSL_SESSION_has_ticket(r.session)) {
            with_ticket++;
            SSL_SESSION_free(last[which]);
            last[which] = r.session;
            r.session = NULL;
        }
        hs_result_clear(&r);
    }
    atomic_store(&rl.stop, 1);
    pthread_join(th, NULL);
    printf("  %d handshakes, %d resumed, %d with a ticket; %d reload rounds\n", completed,
           resumed, with_ticket, rl.rounds);
    CHECK_EQ_INT(completed, RELOAD_HANDSHAKES);
    CHECK_EQ_INT(with_ticket, RELOAD_HANDSHAKES);
    CHECK(resumed > 0);
    CHECK_EQ_INT(rl.failures, 0);
    CHECK(rl.rounds >= RELOAD_MIN_ROUNDS);

    /* Quiet again: the last ticket of each version resumes. */
    for (int w = 0; w < 2; w++) {
        hs_result r;
        harness_handshake(s, w ? c13 : c12, last[w], &r);
        CHECK(r.ok);
        hs_result q;
        harness_handshake(s, w ? c13 : c12, r.session, &q);
        CHECK(q.ok);
        CHECK(q.resumed);
        hs_result_clear(&r);
        hs_result_clear(&q);
        SSL_SESSION_free(last[w]);
    }
    SSL_CTX_free(s);
    SSL_CTX_free(c12);
    SSL_CTX_free(c13);
    tlsext_keyring_free(ring);
    free(path);
}

int main(void)
{
    tmp = harness_tmpdir();
    RUN(test_full_then_resume_aes256);
    RUN(test_full_then_resume_aes128);
    RUN(test_rotation);
    RUN(test_tampered_ticket);
    RUN(test_two_contexts_share_ring);
    RUN(test_ring_freed_after_attach);
    RUN(test_attach_replaces_ring);
    RUN(test_empty_ring_attached);
    RUN(test_reload_during_handshakes);
    harness_rm_rf(tmp);
    free(tmp);
    return harness_summary();
}
