/*
 * test_api.c - the tlsext_* C API on its own: NULL and error paths, result strings, key
 * files in every supported layout, the failure-leaves-the-ring-unchanged rule, and
 * tlsext_ticket_seal / tlsext_ticket_open.
 */
#include <pthread.h>

#include "harness.h"

#define NAME_LEN 16

static char *tmp; /* per-run temporary directory */

static bool ring_name(const tlsext_keyring *ring, uint8_t out[NAME_LEN])
{
    memset(out, 0, NAME_LEN);
    return tlsext_keyring_encrypting_key_name(ring, out) == TLSEXT_RESULT_OK;
}

/* Seals `pt` with ring; returns a malloc'd ticket. */
static uint8_t *seal(const tlsext_keyring *ring, const uint8_t *pt, size_t pt_len,
                     size_t *t_len)
{
    size_t cap = tlsext_ticket_sealed_len(pt_len);
    uint8_t *t = malloc(cap);
    HARNESS_REQUIRE(t != NULL);
    *t_len = 0;
    CHECK_RES(tlsext_ticket_seal(ring, pt, pt_len, t, cap, t_len), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(*t_len, cap);
    return t;
}

/* A haproxy text file of `n` random keys of `size` bytes; the raw keys land in keys[]. */
static char *write_haproxy(const char *name, size_t n, size_t size, uint8_t keys[][80])
{
    for (size_t i = 0; i < n; i++)
        harness_random_key(keys[i], size);
    char *text = harness_haproxy_text(keys, n, size);
    char *path = harness_write_file(tmp, name, text, strlen(text));
    free(text);
    return path;
}

/* ------------------------------------------------------------------------------------------ */

static void test_result_str(void)
{
    const char *seen[22];
    for (int r = 0; r <= 21; r++) {
        const char *s = tlsext_result_str((tlsext_result)r);
        seen[r] = s;
        CHECK(s != NULL);
        if (s == NULL)
            continue;
        CHECK(s[0] != '\0');
        CHECK(tlsext_result_str((tlsext_result)r) == s); /* static: same pointer every time */
        for (int k = 0; k < r; k++)
            if (seen[k] != NULL && strcmp(seen[k], s) == 0) {
                printf("  codes %d and %d share the string \"%s\"\n", k, r, s);
                CHECK(strcmp(seen[k], s) != 0);
            }
    }
    const char *unknown = tlsext_result_str((tlsext_result)9999);
    CHECK(unknown != NULL && unknown[0] != '\0');
    const char *negative = tlsext_result_str((tlsext_result)-1);
    CHECK(negative != NULL && negative[0] != '\0');
    CHECK(tlsext_last_error_message() != NULL);
}

static void test_null_parameters(void)
{
    tlsext_keyring *ring = harness_keyring_random(80, NULL);
    uint8_t name[NAME_LEN], buf[256], pt[16] = {1, 2, 3};
    size_t out_len = 0;
    tlsext_ticket_info info;
    size_t t_len;
    uint8_t *t = seal(ring, pt, sizeof pt, &t_len);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    HARNESS_REQUIRE(ctx != NULL);

    CHECK_RES(tlsext_keyring_new(NULL), TLSEXT_RESULT_NULL_PARAMETER);
    tlsext_keyring_free(NULL);

    CHECK_RES(tlsext_keyring_load_file(NULL, "/nonexistent", TLSEXT_KEY_FORMAT_AUTO),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_keyring_load_file(ring, NULL, TLSEXT_KEY_FORMAT_AUTO),
              TLSEXT_RESULT_NULL_PARAMETER);

    CHECK_RES(tlsext_keyring_add_key(NULL, buf, 80, TLSEXT_KEY_FORMAT_NGINX),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_keyring_add_key(ring, NULL, 80, TLSEXT_KEY_FORMAT_NGINX),
              TLSEXT_RESULT_NULL_PARAMETER);

    CHECK_EQ_INT(tlsext_keyring_len(NULL), 0);

    CHECK_RES(tlsext_keyring_encrypting_key_name(NULL, name), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_keyring_encrypting_key_name(ring, NULL), TLSEXT_RESULT_NULL_PARAMETER);

    CHECK_RES(tlsext_ticket_seal(NULL, pt, sizeof pt, buf, sizeof buf, &out_len),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ticket_seal(ring, NULL, sizeof pt, buf, sizeof buf, &out_len),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ticket_seal(ring, pt, sizeof pt, NULL, sizeof buf, &out_len),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ticket_seal(ring, pt, sizeof pt, buf, sizeof buf, NULL),
              TLSEXT_RESULT_NULL_PARAMETER);

    CHECK_RES(tlsext_ticket_open(NULL, t, t_len, buf, sizeof buf, &out_len),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ticket_open(ring, NULL, t_len, buf, sizeof buf, &out_len),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, NULL, sizeof buf, &out_len),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, buf, sizeof buf, NULL),
              TLSEXT_RESULT_NULL_PARAMETER);

    CHECK_RES(tlsext_ticket_open_ex(NULL, t, t_len, buf, sizeof buf, &out_len, &info),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ticket_open_ex(ring, NULL, t_len, buf, sizeof buf, &out_len, &info),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ticket_open_ex(ring, t, t_len, NULL, sizeof buf, &out_len, &info),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ticket_open_ex(ring, t, t_len, buf, sizeof buf, NULL, &info),
              TLSEXT_RESULT_NULL_PARAMETER);

    CHECK_RES(tlsext_ssl_ctx_use_keyring(NULL, ring), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_ssl_ctx_use_keyring(ctx, NULL), TLSEXT_RESULT_NULL_PARAMETER);

    /* None of that touched the ring. */
    CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, buf, sizeof buf, &out_len), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(out_len, sizeof pt);

    SSL_CTX_free(ctx);
    free(t);
    tlsext_keyring_free(ring);
}

static void test_empty_ring(void)
{
    tlsext_keyring *ring = NULL;
    uint8_t name[NAME_LEN], buf[256], pt[8] = {0};
    size_t out_len = 0;
    CHECK_RES(tlsext_keyring_new(&ring), TLSEXT_RESULT_OK);
    CHECK(ring != NULL);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 0);
    CHECK_RES(tlsext_keyring_encrypting_key_name(ring, name), TLSEXT_RESULT_NO_ENCRYPTING_KEY);
    tlsext_result r = tlsext_ticket_seal(ring, pt, sizeof pt, buf, sizeof buf, &out_len);
    CHECK(r == TLSEXT_RESULT_NO_ENCRYPTING_KEY || r == TLSEXT_RESULT_EMPTY_RING);
    /* Nothing can open in an empty ring; a well-formed foreign ticket has an unknown key. */
    tlsext_keyring *other = harness_keyring_random(80, NULL);
    size_t t_len;
    uint8_t *t = seal(other, pt, sizeof pt, &t_len);
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, buf, sizeof buf, &out_len),
              TLSEXT_RESULT_TICKET_UNKNOWN_KEY);
    free(t);
    tlsext_keyring_free(other);
    tlsext_keyring_free(ring);
}

static void test_load_missing_file(void)
{
    tlsext_keyring *ring = harness_keyring_random(80, NULL);
    char *path = harness_path(tmp, "does-not-exist.key");
    CHECK_RES(tlsext_keyring_load_file(ring, path, TLSEXT_KEY_FORMAT_AUTO), TLSEXT_RESULT_IO);
    const char *msg = tlsext_last_error_message();
    CHECK(msg != NULL && strstr(msg, path) != NULL);
    if (msg != NULL && strstr(msg, path) == NULL)
        printf("  message: \"%s\"\n", msg);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
    free(path);
    tlsext_keyring_free(ring);
}

static void test_bad_key_sizes(void)
{
    tlsext_keyring *ring = harness_keyring_random(80, NULL);
    uint8_t before[NAME_LEN], after[NAME_LEN], key[128];
    CHECK(ring_name(ring, before));
    harness_random_key(key, sizeof key);
    const size_t sizes[] = {0, 1, 16, 32, 47, 49, 64, 79, 81, 96, 128};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        CHECK_RES(tlsext_keyring_add_key(ring, key, sizes[i], TLSEXT_KEY_FORMAT_NGINX),
                  TLSEXT_RESULT_BAD_KEY_SIZE);
        CHECK_RES(tlsext_keyring_add_key(ring, key, sizes[i], TLSEXT_KEY_FORMAT_OPENSSL),
                  TLSEXT_RESULT_BAD_KEY_SIZE);
    }
    /* OpenSSL's ctrl-59 layout is 80 bytes only. */
    CHECK_RES(tlsext_keyring_add_key(ring, key, 48, TLSEXT_KEY_FORMAT_OPENSSL),
              TLSEXT_RESULT_BAD_KEY_SIZE);
    /* An nginx key file of the wrong size. */
    char *path = harness_write_file(tmp, "size50.key", key, 50);
    CHECK_RES(tlsext_keyring_load_file(ring, path, TLSEXT_KEY_FORMAT_NGINX),
              TLSEXT_RESULT_BAD_KEY_SIZE);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
    CHECK(ring_name(ring, after));
    CHECK_EQ_MEM(before, after, NAME_LEN);
    free(path);
    tlsext_keyring_free(ring);
}

static void test_weak_keys(void)
{
    tlsext_keyring *ring = NULL;
    CHECK_RES(tlsext_keyring_new(&ring), TLSEXT_RESULT_OK);
    uint8_t key[80];

    memset(key, 0, sizeof key);
    CHECK_RES(tlsext_keyring_add_key(ring, key, 48, TLSEXT_KEY_FORMAT_NGINX),
              TLSEXT_RESULT_WEAK_KEY);
    CHECK_RES(tlsext_keyring_add_key(ring, key, 80, TLSEXT_KEY_FORMAT_NGINX),
              TLSEXT_RESULT_WEAK_KEY);
    CHECK_RES(tlsext_keyring_add_key(ring, key, 80, TLSEXT_KEY_FORMAT_OPENSSL),
              TLSEXT_RESULT_WEAK_KEY);

    /* One part a single repeated byte, the rest random: name, first secret, second secret. */
    const size_t sizes[] = {48, 80};
    for (size_t s = 0; s < 2; s++) {
        size_t size = sizes[s], half = (size - NAME_LEN) / 2;
        const size_t starts[] = {0, NAME_LEN, NAME_LEN + half};
        const size_t lens[] = {NAME_LEN, half, half};
        for (size_t p = 0; p < 3; p++) {
            harness_random_key(key, size);
            memset(key + starts[p], 0xab, lens[p]);
            CHECK_RES(tlsext_keyring_add_key(ring, key, size, TLSEXT_KEY_FORMAT_NGINX),
                      TLSEXT_RESULT_WEAK_KEY);
        }
    }

    /* A weak key in a file, and on one haproxy line. */
    memset(key, 0x11, sizeof key);
    char *path = harness_write_file(tmp, "weak.key", key, 80);
    CHECK_RES(tlsext_keyring_load_file(ring, path, TLSEXT_KEY_FORMAT_AUTO),
              TLSEXT_RESULT_WEAK_KEY);
    uint8_t keys[3][80];
    char *hp = write_haproxy("weak-line.txt", 3, 48, keys);
    free(hp);
    char *lines[3];
    memset(keys[1] + NAME_LEN, 0, 16); /* line 2: AES key all zero */
    for (int i = 0; i < 3; i++)
        lines[i] = harness_base64(keys[i], 48);
    char text[512];
    snprintf(text, sizeof text, "%s\n%s\n%s\n", lines[0], lines[1], lines[2]);
    for (int i = 0; i < 3; i++)
        free(lines[i]);
    char *hpath = harness_write_file(tmp, "weak-line.txt", text, strlen(text));
    CHECK_RES(tlsext_keyring_load_file(ring, hpath, TLSEXT_KEY_FORMAT_HAPROXY),
              TLSEXT_RESULT_WEAK_KEY);

    CHECK_EQ_INT(tlsext_keyring_len(ring), 0);
    free(hpath);
    free(path);
    tlsext_keyring_free(ring);
}

static void test_duplicate_key_name(void)
{
    uint8_t a[80], b[80], name[NAME_LEN];
    tlsext_keyring *ring = harness_keyring_random(80, a);
    harness_random_key(b, 80);
    memcpy(b, a, NAME_LEN); /* same name, different secrets */
    CHECK_RES(tlsext_keyring_add_key(ring, b, 80, TLSEXT_KEY_FORMAT_NGINX),
              TLSEXT_RESULT_DUPLICATE_KEY_NAME);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
    CHECK(ring_name(ring, name));
    CHECK_EQ_MEM(name, a, NAME_LEN);

    /* Two haproxy lines with one name. */
    uint8_t keys[3][80];
    char *p = write_haproxy("dup.txt", 3, 80, keys);
    free(p);
    memcpy(keys[2], keys[0], NAME_LEN);
    char *text = harness_haproxy_text(keys, 3, 80);
    p = harness_write_file(tmp, "dup.txt", text, strlen(text));
    free(text);
    CHECK_RES(tlsext_keyring_load_file(ring, p, TLSEXT_KEY_FORMAT_HAPROXY),
              TLSEXT_RESULT_DUPLICATE_KEY_NAME);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
    free(p);

    /* A key directory holding the same key twice. */
    char *dir = harness_path(tmp, "dupdir");
    CHECK(mkdir(dir, 0700) == 0);
    free(harness_write_file(dir, "a.key", a, 80));
    free(harness_write_file(dir, "b.key", a, 80));
    CHECK_RES(tlsext_keyring_load_file(ring, dir, TLSEXT_KEY_FORMAT_NGINX),
              TLSEXT_RESULT_DUPLICATE_KEY_NAME);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
    free(dir);
    tlsext_keyring_free(ring);
}

static void test_haproxy_bad_base64(void)
{
    tlsext_keyring *ring = harness_keyring_random(80, NULL);
    uint8_t keys[3][80];
    char *p = write_haproxy("bad64.txt", 3, 48, keys);
    free(p);
    char *l1 = harness_base64(keys[0], 48), *l3 = harness_base64(keys[2], 48);
    char text[512];
    snprintf(text, sizeof text, "%s\n%s\n%s\n", l1, "this is *not* base64!", l3);
    free(l1);
    free(l3);
    p = harness_write_file(tmp, "bad64.txt", text, strlen(text));
    CHECK_RES(tlsext_keyring_load_file(ring, p, TLSEXT_KEY_FORMAT_HAPROXY),
              TLSEXT_RESULT_BAD_BASE64);
    const char *msg = tlsext_last_error_message();
    /* The message names the line: "<path>:2" or "line 2". */
    char want[600];
    snprintf(want, sizeof want, "%s:2", p);
    bool names_line = msg != NULL && (strstr(msg, want) != NULL || strstr(msg, "line 2") != NULL);
    CHECK(names_line);
    if (!names_line)
        printf("  message: \"%s\"\n", msg ? msg : "(null)");
    /* AUTO sees text and reads it as haproxy too. */
    CHECK_RES(tlsext_keyring_load_file(ring, p, TLSEXT_KEY_FORMAT_AUTO),
              TLSEXT_RESULT_BAD_BASE64);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
    free(p);
    tlsext_keyring_free(ring);
}

static void test_mixed_key_sizes(void)
{
    tlsext_keyring *ring = harness_keyring_random(80, NULL);
    uint8_t k48[3][80], k80[3][80];
    free(write_haproxy("m48.txt", 3, 48, k48));
    free(write_haproxy("m80.txt", 3, 80, k80));
    char *l[3] = {harness_base64(k48[0], 48), harness_base64(k80[1], 80),
                  harness_base64(k48[2], 48)};
    char text[1024];
    snprintf(text, sizeof text, "%s\n%s\n%s\n", l[0], l[1], l[2]);
    for (int i = 0; i < 3; i++)
        free(l[i]);
    char *p = harness_write_file(tmp, "mixed.txt", text, strlen(text));
    CHECK_RES(tlsext_keyring_load_file(ring, p, TLSEXT_KEY_FORMAT_HAPROXY),
              TLSEXT_RESULT_MIXED_KEY_SIZES);
    free(p);

    char *dir = harness_path(tmp, "mixeddir");
    CHECK(mkdir(dir, 0700) == 0);
    free(harness_write_file(dir, "1.key", k48[0], 48));
    free(harness_write_file(dir, "2.key", k80[0], 80));
    CHECK_RES(tlsext_keyring_load_file(ring, dir, TLSEXT_KEY_FORMAT_NGINX),
              TLSEXT_RESULT_MIXED_KEY_SIZES);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
    free(dir);
    tlsext_keyring_free(ring);
}

static void test_unrecognized_and_empty(void)
{
    uint8_t before[NAME_LEN], after[NAME_LEN], junk[50];
    tlsext_keyring *ring = harness_keyring_random(48, NULL);
    CHECK(ring_name(ring, before));
    harness_random(junk, sizeof junk);
    junk[0] = 0x00; /* certainly binary */
    char *p = harness_write_file(tmp, "junk.bin", junk, sizeof junk);
    CHECK_RES(tlsext_keyring_load_file(ring, p, TLSEXT_KEY_FORMAT_AUTO),
              TLSEXT_RESULT_UNRECOGNIZED_FORMAT);
    free(p);
    p = harness_write_file(tmp, "empty.key", "", 0);
    CHECK_RES(tlsext_keyring_load_file(ring, p, TLSEXT_KEY_FORMAT_AUTO),
              TLSEXT_RESULT_EMPTY_RING);
    CHECK(tlsext_keyring_load_file(ring, p, TLSEXT_KEY_FORMAT_NGINX) != TLSEXT_RESULT_OK);
    CHECK(tlsext_keyring_load_file(ring, p, TLSEXT_KEY_FORMAT_HAPROXY) != TLSEXT_RESULT_OK);
    free(p);
    char *dir = harness_path(tmp, "emptydir");
    CHECK(mkdir(dir, 0700) == 0);
    CHECK_RES(tlsext_keyring_load_file(ring, dir, TLSEXT_KEY_FORMAT_AUTO),
              TLSEXT_RESULT_EMPTY_RING);
    free(dir);
    /* HAProxy needs at least three keys ("too few for its format"). */
    uint8_t keys[2][80];
    p = write_haproxy("two-lines.txt", 2, 80, keys);
    CHECK_RES(tlsext_keyring_load_file(ring, p, TLSEXT_KEY_FORMAT_HAPROXY),
              TLSEXT_RESULT_EMPTY_RING);
    free(p);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
    CHECK(ring_name(ring, after));
    CHECK_EQ_MEM(before, after, NAME_LEN);
    tlsext_keyring_free(ring);
}

/* Every kind of failed load leaves the keys, and their use, exactly as they were. */
static void test_failed_load_leaves_ring_unchanged(void)
{
    uint8_t keys[4][80], before[NAME_LEN], after[NAME_LEN], pt[100], out[300];
    char *good = write_haproxy("good4.txt", 4, 80, keys);
    tlsext_keyring *ring = NULL;
    CHECK_RES(tlsext_keyring_new(&ring), TLSEXT_RESULT_OK);
    CHECK_RES(tlsext_keyring_load_file(ring, good, TLSEXT_KEY_FORMAT_AUTO), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 4);
    CHECK(ring_name(ring, before));
    CHECK_EQ_MEM(before, keys[2], NAME_LEN);
    harness_random(pt, sizeof pt);
    size_t t_len, out_len = 0;
    uint8_t *t = seal(ring, pt, sizeof pt, &t_len);

    uint8_t zero[80] = {0}, junk[33];
    harness_random(junk, sizeof junk);
    char *bad[] = {
        harness_path(tmp, "missing"),
        harness_write_file(tmp, "zero.key", zero, 80),
        harness_write_file(tmp, "short.key", junk, 33),
        harness_write_file(tmp, "bad64-2.txt", "QUJD\n!!!\nQUJD\n", 14),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tlsext_result r = tlsext_keyring_load_file(ring, bad[i], TLSEXT_KEY_FORMAT_AUTO);
        CHECK(r != TLSEXT_RESULT_OK);
        CHECK(r != TLSEXT_RESULT_PANIC);
        CHECK_EQ_INT(tlsext_keyring_len(ring), 4);
        CHECK(ring_name(ring, after));
        CHECK_EQ_MEM(before, after, NAME_LEN);
        free(bad[i]);
    }
    CHECK_RES(tlsext_keyring_add_key(ring, zero, 80, TLSEXT_KEY_FORMAT_NGINX),
              TLSEXT_RESULT_WEAK_KEY);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 4);
    CHECK(ring_name(ring, after));
    CHECK_EQ_MEM(before, after, NAME_LEN);
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, out, sizeof out, &out_len), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(out_len, sizeof pt);
    CHECK_EQ_MEM(out, pt, sizeof pt);
    free(t);
    free(good);
    tlsext_keyring_free(ring);
}

static void test_sealed_len(void)
{
    const size_t ins[] = {0, 1, 15, 16, 17, 31, 32, 100, 1000, 0xff00};
    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++) {
        size_t n = ins[i];
        CHECK_EQ_INT(tlsext_ticket_sealed_len(n), 16 + 16 + ((n / 16) + 1) * 16 + 32);
    }
    CHECK_EQ_INT(tlsext_ticket_sealed_len(0), 80);
    CHECK_EQ_INT(tlsext_ticket_sealed_len(16), 96);
}

static void test_seal_buffer_too_small(void)
{
    tlsext_keyring *ring = harness_keyring_random(80, NULL);
    uint8_t pt[40], out[200];
    harness_random(pt, sizeof pt);
    size_t need = tlsext_ticket_sealed_len(sizeof pt);
    const size_t caps[] = {0, 1, need - 1};
    for (size_t i = 0; i < 3; i++) {
        memset(out, 0xa5, sizeof out);
        size_t out_len = 12345;
        CHECK_RES(tlsext_ticket_seal(ring, pt, sizeof pt, out, caps[i], &out_len),
                  TLSEXT_RESULT_BUFFER_TOO_SMALL);
        CHECK_EQ_INT(out_len, need);
        bool untouched = true;
        for (size_t k = 0; k < sizeof out; k++)
            untouched = untouched && out[k] == 0xa5;
        CHECK(untouched);
    }
    /* Asking for the size: out NULL with out_cap 0. */
    size_t out_len = 0;
    CHECK_RES(tlsext_ticket_seal(ring, pt, sizeof pt, NULL, 0, &out_len),
              TLSEXT_RESULT_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(out_len, need);
    out_len = 0;
    CHECK_RES(tlsext_ticket_seal(ring, pt, sizeof pt, out, need, &out_len), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(out_len, need);

    /* Opening into a buffer that cannot hold the plaintext fails too. */
    uint8_t small[8];
    memset(small, 0xa5, sizeof small);
    size_t o = 0;
    CHECK_RES(tlsext_ticket_open(ring, out, need, small, sizeof small, &o),
              TLSEXT_RESULT_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(o, sizeof pt); /* the size needed */
    bool small_untouched = true;
    for (size_t k = 0; k < sizeof small; k++)
        small_untouched = small_untouched && small[k] == 0xa5;
    CHECK(small_untouched);
    o = 0;
    CHECK_RES(tlsext_ticket_open(ring, out, need, NULL, 0, &o), TLSEXT_RESULT_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(o, sizeof pt);
    tlsext_keyring_free(ring);
}

static void test_seal_open_round_trip(void)
{
    const size_t sizes[] = {48, 80};
    const size_t lens[] = {0, 1, 15, 16, 17, 255, 1000, 4096};
    for (size_t s = 0; s < 2; s++) {
        uint8_t key[80];
        tlsext_keyring *ring = harness_keyring_random(sizes[s], key);
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            size_t n = lens[i];
            uint8_t *pt = malloc(n + 1), *out = malloc(n + 64);
            harness_random(pt, n + 1);
            size_t t_len, t2_len, out_len = 0;
            /* An empty plaintext may come as NULL. */
            uint8_t *t = seal(ring, n == 0 ? NULL : pt, n, &t_len);
            uint8_t *t2 = seal(ring, pt, n, &t2_len);
            CHECK_EQ_INT(t_len, tlsext_ticket_sealed_len(n));
            CHECK_EQ_MEM(t, key, NAME_LEN);              /* key name first */
            CHECK(memcmp(t + 16, t2 + 16, 16) != 0);      /* a fresh IV each time */
            CHECK_RES(tlsext_ticket_open(ring, t, t_len, out, n + 64, &out_len),
                      TLSEXT_RESULT_OK);
            CHECK_EQ_INT(out_len, n);
            CHECK(memcmp(out, pt, n) == 0);
            tlsext_ticket_info info;
            memset(&info, 0xee, sizeof info);
            out_len = 0;
            CHECK_RES(tlsext_ticket_open_ex(ring, t2, t2_len, out, n + 64, &out_len, &info),
                      TLSEXT_RESULT_OK);
            CHECK_EQ_INT(out_len, n);
            CHECK(memcmp(out, pt, n) == 0);
            CHECK_EQ_MEM(info.key_name, key, NAME_LEN);
            CHECK(!info.renew);
            out_len = 0; /* info is optional */
            CHECK_RES(tlsext_ticket_open_ex(ring, t, t_len, out, n + 64, &out_len, NULL),
                      TLSEXT_RESULT_OK);
            CHECK_EQ_INT(out_len, n);
            free(t);
            free(t2);
            free(pt);
            free(out);
        }
        tlsext_keyring_free(ring);
    }
}

static void test_open_tampered(void)
{
    tlsext_keyring *ring = harness_keyring_random(80, NULL);
    uint8_t pt[64], out[256];
    harness_random(pt, sizeof pt);
    size_t t_len, out_len;
    uint8_t *t = seal(ring, pt, sizeof pt, &t_len);
    /* Key name byte: no such key. */
    t[3] ^= 0x10;
    out_len = 0;
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, out, sizeof out, &out_len),
              TLSEXT_RESULT_TICKET_UNKNOWN_KEY);
    t[3] ^= 0x10;
    /* IV, ciphertext (first, last block) and MAC bytes: the MAC no longer matches. */
    const size_t offsets[] = {16, 31, 32, 48, t_len - 33, t_len - 32, t_len - 1};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        t[offsets[i]] ^= 0x01;
        memset(out, 0x5a, sizeof out);
        CHECK_RES(tlsext_ticket_open(ring, t, t_len, out, sizeof out, &out_len),
                  TLSEXT_RESULT_TICKET_BAD_MAC);
        t[offsets[i]] ^= 0x01;
    }
    /* Too short to be a ticket, or truncated: malformed. */
    CHECK_RES(tlsext_ticket_open(ring, t, 0, out, sizeof out, &out_len),
              TLSEXT_RESULT_TICKET_MALFORMED);
    CHECK_RES(tlsext_ticket_open(ring, t, 79, out, sizeof out, &out_len),
              TLSEXT_RESULT_TICKET_MALFORMED);
    /* Ciphertext not a whole number of blocks. */
    tlsext_result r = tlsext_ticket_open(ring, t, t_len - 1, out, sizeof out, &out_len);
    CHECK(r == TLSEXT_RESULT_TICKET_MALFORMED || r == TLSEXT_RESULT_TICKET_BAD_MAC);
    /* Still fine untouched. */
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, out, sizeof out, &out_len), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(out_len, sizeof pt);
    free(t);
    tlsext_keyring_free(ring);
}

static void test_open_unknown_key(void)
{
    tlsext_keyring *a = harness_keyring_random(80, NULL), *b = harness_keyring_random(80, NULL);
    uint8_t pt[32] = {7}, out[200];
    size_t t_len, out_len = 0;
    uint8_t *t = seal(a, pt, sizeof pt, &t_len);
    CHECK_RES(tlsext_ticket_open(b, t, t_len, out, sizeof out, &out_len),
              TLSEXT_RESULT_TICKET_UNKNOWN_KEY);
    tlsext_ticket_info info;
    CHECK_RES(tlsext_ticket_open_ex(b, t, t_len, out, sizeof out, &out_len, &info),
              TLSEXT_RESULT_TICKET_UNKNOWN_KEY);
    free(t);
    tlsext_keyring_free(a);
    tlsext_keyring_free(b);
}

/* A valid MAC over a ciphertext whose padding is wrong. */
static void test_open_bad_padding(void)
{
    uint8_t key[80], pt[32], out[200], t[200];
    tlsext_keyring *ring = harness_keyring_random(80, key); /* nginx 80: name | hmac32 | aes32 */
    harness_random(pt, sizeof pt);
    pt[31] = 0x00; /* padding byte 0 is never valid */
    size_t t_len = harness_craft_ticket(key, key + 48, 32, key + 16, 32, pt, sizeof pt, true, t);
    size_t out_len = 0;
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, out, sizeof out, &out_len),
              TLSEXT_RESULT_TICKET_BAD_PADDING);
    pt[31] = 0x11; /* claims 17 bytes of padding in a 16-byte block */
    t_len = harness_craft_ticket(key, key + 48, 32, key + 16, 32, pt, sizeof pt, true, t);
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, out, sizeof out, &out_len),
              TLSEXT_RESULT_TICKET_BAD_PADDING);
    /* Same path with proper padding opens. */
    t_len = harness_craft_ticket(key, key + 48, 32, key + 16, 32, pt, sizeof pt, false, t);
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, out, sizeof out, &out_len), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(out_len, sizeof pt);
    tlsext_keyring_free(ring);
}

/* add_key: the new key encrypts, older ones still open and ask for renewal. */
static void test_add_key_rotation(void)
{
    uint8_t a[80], name[NAME_LEN], pt[50], out[200];
    tlsext_keyring *ring = harness_keyring_random(80, a);
    harness_random(pt, sizeof pt);
    size_t ta_len, tb_len, out_len;
    uint8_t *ta = seal(ring, pt, sizeof pt, &ta_len);

    uint8_t c[80];
    harness_random_key(c, 80);
    CHECK_RES(tlsext_keyring_add_key(ring, c, 80, TLSEXT_KEY_FORMAT_AUTO), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 2);
    CHECK(ring_name(ring, name));
    CHECK_EQ_MEM(name, c, NAME_LEN);
    uint8_t *tc = seal(ring, pt, sizeof pt, &tb_len);
    CHECK_EQ_MEM(tc, c, NAME_LEN);

    tlsext_ticket_info info;
    out_len = 0;
    CHECK_RES(tlsext_ticket_open_ex(ring, ta, ta_len, out, sizeof out, &out_len, &info),
              TLSEXT_RESULT_OK);
    CHECK_EQ_INT(out_len, sizeof pt);
    CHECK(memcmp(out, pt, sizeof pt) == 0);
    CHECK_EQ_MEM(info.key_name, a, NAME_LEN);
    CHECK(info.renew);
    CHECK_RES(tlsext_ticket_open_ex(ring, tc, tb_len, out, sizeof out, &out_len, &info),
              TLSEXT_RESULT_OK);
    CHECK_EQ_MEM(info.key_name, c, NAME_LEN);
    CHECK(!info.renew);

    /* The OpenSSL layout can be added too (80 bytes). */
    uint8_t d[80];
    harness_random_key(d, 80);
    CHECK_RES(tlsext_keyring_add_key(ring, d, 80, TLSEXT_KEY_FORMAT_OPENSSL), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 3);
    CHECK(ring_name(ring, name));
    CHECK_EQ_MEM(name, d, NAME_LEN);
    free(ta);
    free(tc);
    tlsext_keyring_free(ring);
}

/*
 * add_key with a key of the other size: the ring may refuse it (MIXED_KEY_SIZES, ring
 * unchanged) or take it; if it takes it, both kinds of ticket must work.
 */
static void test_add_key_other_size(void)
{
    uint8_t a[80], b[48], name[NAME_LEN], pt[33], out[200];
    tlsext_keyring *ring = harness_keyring_random(80, a);
    harness_random(pt, sizeof pt);
    size_t ta_len, tb_len, out_len = 0;
    uint8_t *ta = seal(ring, pt, sizeof pt, &ta_len);
    harness_random_key(b, 48);
    tlsext_result r = tlsext_keyring_add_key(ring, b, 48, TLSEXT_KEY_FORMAT_NGINX);
    CHECK(r == TLSEXT_RESULT_OK || r == TLSEXT_RESULT_MIXED_KEY_SIZES);
    CHECK(ring_name(ring, name));
    if (r == TLSEXT_RESULT_OK) {
        printf("  (a 48-byte key joins a ring of 80-byte keys)\n");
        CHECK_EQ_INT(tlsext_keyring_len(ring), 2);
        CHECK_EQ_MEM(name, b, NAME_LEN);
        uint8_t *tb = seal(ring, pt, sizeof pt, &tb_len);
        /* AES-128 with the 48-byte key: checked with the reference (name|aes16|hmac16). */
        CHECK_EQ_INT(harness_decode_ticket(tb, tb_len, b + 16, 16, b + 32, 16, out, &out_len),
                     1);
        CHECK_RES(tlsext_ticket_open(ring, ta, ta_len, out, sizeof out, &out_len),
                  TLSEXT_RESULT_OK);
        CHECK_EQ_INT(out_len, sizeof pt);
        free(tb);
    } else {
        CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
        CHECK_EQ_MEM(name, a, NAME_LEN);
    }
    free(ta);
    tlsext_keyring_free(ring);
}

/* add_key in the HAProxy layout: a base64 line, or the raw bytes (name | aes | hmac). */
static void test_add_key_haproxy(void)
{
    const size_t sizes[] = {48, 80};
    for (size_t i = 0; i < 2; i++) {
        size_t size = sizes[i], half = (size - 16) / 2;
        uint8_t k1[80], k2[80], name[NAME_LEN], pt[20] = {3}, t[200], out[200];
        harness_random_key(k1, size);
        harness_random_key(k2, size);
        tlsext_keyring *ring = harness_keyring_new();
        char *line = harness_base64(k1, size);
        CHECK_RES(tlsext_keyring_add_key(ring, (const uint8_t *)line, strlen(line),
                                         TLSEXT_KEY_FORMAT_HAPROXY),
                  TLSEXT_RESULT_OK);
        free(line);
        CHECK(ring_name(ring, name));
        CHECK_EQ_MEM(name, k1, NAME_LEN);
        CHECK_RES(tlsext_keyring_add_key(ring, k2, size, TLSEXT_KEY_FORMAT_HAPROXY),
                  TLSEXT_RESULT_OK);
        CHECK_EQ_INT(tlsext_keyring_len(ring), 2);
        CHECK(ring_name(ring, name));
        CHECK_EQ_MEM(name, k2, NAME_LEN);
        /* Both keys are read in HAProxy order: reference tickets open. */
        const uint8_t *ks[2] = {k1, k2};
        for (int j = 0; j < 2; j++) {
            size_t tl = harness_craft_ticket(ks[j], ks[j] + 16, half, ks[j] + 16 + half, half,
                                             pt, sizeof pt, false, t);
            size_t out_len = 0;
            CHECK_RES(tlsext_ticket_open(ring, t, tl, out, sizeof out, &out_len),
                      TLSEXT_RESULT_OK);
            CHECK_EQ_INT(out_len, sizeof pt);
        }
        tlsext_keyring_free(ring);
    }
}

/* Loads one file and checks the ring size and which key encrypts. */
static void check_load(const char *path, tlsext_key_format f, size_t want_len,
                       const uint8_t *want_name, int line)
{
    tlsext_keyring *ring = harness_keyring_new();
    uint8_t name[NAME_LEN];
    tlsext_result r = tlsext_keyring_load_file(ring, path, f);
    if (r != TLSEXT_RESULT_OK)
        printf("  (from line %d) load %s format %d: %s: %s\n", line, path, (int)f,
               tlsext_result_str(r), tlsext_last_error_message());
    CHECK_RES(r, TLSEXT_RESULT_OK);
    CHECK_EQ_INT(tlsext_keyring_len(ring), want_len);
    CHECK(ring_name(ring, name));
    if (memcmp(name, want_name, NAME_LEN) != 0)
        printf("  (from line %d) wrong encrypting key for %s\n", line, path);
    CHECK_EQ_MEM(name, want_name, NAME_LEN);
    tlsext_keyring_free(ring);
}

static void test_load_key_files(void)
{
    uint8_t n48[48], n80[80], o80[80], h48[3][80], h80[5][80];
    harness_random_key(n48, 48);
    harness_random_key(n80, 80);
    harness_random_key(o80, 80);
    char *pn48 = harness_write_file(tmp, "nginx48.key", n48, 48);
    char *pn80 = harness_write_file(tmp, "nginx80.key", n80, 80);
    char *po80 = harness_write_file(tmp, "openssl80.key", o80, 80);
    char *ph48 = write_haproxy("haproxy48.txt", 3, 48, h48);
    char *ph80 = write_haproxy("haproxy80.txt", 5, 80, h80);

    check_load(pn48, TLSEXT_KEY_FORMAT_NGINX, 1, n48, __LINE__);
    check_load(pn48, TLSEXT_KEY_FORMAT_AUTO, 1, n48, __LINE__);
    check_load(pn80, TLSEXT_KEY_FORMAT_NGINX, 1, n80, __LINE__);
    check_load(pn80, TLSEXT_KEY_FORMAT_AUTO, 1, n80, __LINE__);
    check_load(po80, TLSEXT_KEY_FORMAT_OPENSSL, 1, o80, __LINE__);
    /* HAProxy: the second-to-last line encrypts. */
    check_load(ph48, TLSEXT_KEY_FORMAT_HAPROXY, 3, h48[1], __LINE__);
    check_load(ph48, TLSEXT_KEY_FORMAT_AUTO, 3, h48[1], __LINE__);
    check_load(ph80, TLSEXT_KEY_FORMAT_HAPROXY, 5, h80[3], __LINE__);
    check_load(ph80, TLSEXT_KEY_FORMAT_AUTO, 5, h80[3], __LINE__);

    /* Wrong explicit formats are refused. */
    tlsext_keyring *ring = harness_keyring_new();
    CHECK_RES(tlsext_keyring_load_file(ring, pn48, TLSEXT_KEY_FORMAT_OPENSSL),
              TLSEXT_RESULT_BAD_KEY_SIZE);
    CHECK(tlsext_keyring_load_file(ring, ph80, TLSEXT_KEY_FORMAT_NGINX) != TLSEXT_RESULT_OK);
    CHECK(tlsext_keyring_load_file(ring, pn80, TLSEXT_KEY_FORMAT_HAPROXY) != TLSEXT_RESULT_OK);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 0);

    /* load_file replaces every key. */
    uint8_t pt[20] = {1}, out[200];
    size_t t_len, out_len;
    CHECK_RES(tlsext_keyring_load_file(ring, ph80, TLSEXT_KEY_FORMAT_AUTO), TLSEXT_RESULT_OK);
    uint8_t *t = seal(ring, pt, sizeof pt, &t_len);
    CHECK_EQ_MEM(t, h80[3], NAME_LEN);
    CHECK_RES(tlsext_keyring_load_file(ring, pn80, TLSEXT_KEY_FORMAT_AUTO), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(tlsext_keyring_len(ring), 1);
    CHECK_RES(tlsext_ticket_open(ring, t, t_len, out, sizeof out, &out_len),
              TLSEXT_RESULT_TICKET_UNKNOWN_KEY);
    free(t);
    tlsext_keyring_free(ring);
    free(pn48);
    free(pn80);
    free(po80);
    free(ph48);
    free(ph80);
}

/* HAProxy: tickets made with the decrypt-only and the staged key open and ask for renewal. */
static void test_haproxy_ring_roles(void)
{
    uint8_t k[4][80], pt[40], out[200], t[200];
    char *p = write_haproxy("roles.txt", 4, 48, k); /* 48: name | aes16 | hmac16 */
    tlsext_keyring *ring = harness_keyring_new();
    CHECK_RES(tlsext_keyring_load_file(ring, p, TLSEXT_KEY_FORMAT_HAPROXY), TLSEXT_RESULT_OK);
    harness_random(pt, sizeof pt);
    for (int i = 0; i < 4; i++) {
        size_t t_len = harness_craft_ticket(k[i], k[i] + 16, 16, k[i] + 32, 16, pt, sizeof pt,
                                            false, t);
        tlsext_ticket_info info;
        size_t out_len = 0;
        memset(&info, 0, sizeof info);
        CHECK_RES(tlsext_ticket_open_ex(ring, t, t_len, out, sizeof out, &out_len, &info),
                  TLSEXT_RESULT_OK);
        CHECK_EQ_INT(out_len, sizeof pt);
        CHECK(memcmp(out, pt, sizeof pt) == 0);
        CHECK_EQ_MEM(info.key_name, k[i], NAME_LEN);
        if (info.renew != (i != 2))
            printf("  line %d: renew = %d\n", i + 1, (int)info.renew);
        CHECK(info.renew == (i != 2)); /* only line 3 (second-to-last) is current */
    }
    free(p);
    tlsext_keyring_free(ring);
}

/* A directory: each regular non-hidden file is one key, by file name; the last encrypts. */
static void test_load_key_directory(void)
{
    uint8_t k[3][80], junk[7] = {1, 2, 3, 4, 5, 6, 7};
    for (int i = 0; i < 3; i++)
        harness_random_key(k[i], 80);
    char *dir = harness_path(tmp, "keydir");
    CHECK(mkdir(dir, 0700) == 0);
    /* Written out of order on purpose. */
    free(harness_write_file(dir, "20-b.key", k[1], 80));
    free(harness_write_file(dir, "30-c.key", k[2], 80));
    free(harness_write_file(dir, "10-a.key", k[0], 80));
    free(harness_write_file(dir, ".hidden", junk, sizeof junk)); /* would fail if read */
    char *sub = harness_path(dir, "subdir");
    CHECK(mkdir(sub, 0700) == 0);
    free(harness_write_file(sub, "x.key", junk, sizeof junk)); /* not a regular file entry */
    check_load(dir, TLSEXT_KEY_FORMAT_AUTO, 3, k[2], __LINE__);
    check_load(dir, TLSEXT_KEY_FORMAT_NGINX, 3, k[2], __LINE__);

    /* Tickets of every key open; only the last one's does not ask for renewal. */
    tlsext_keyring *ring = harness_keyring_new();
    CHECK_RES(tlsext_keyring_load_file(ring, dir, TLSEXT_KEY_FORMAT_NGINX), TLSEXT_RESULT_OK);
    uint8_t pt[16] = {9}, t[200], out[200];
    for (int i = 0; i < 3; i++) {
        size_t t_len = harness_craft_ticket(k[i], k[i] + 48, 32, k[i] + 16, 32, pt, sizeof pt,
                                            false, t);
        tlsext_ticket_info info;
        size_t out_len = 0;
        CHECK_RES(tlsext_ticket_open_ex(ring, t, t_len, out, sizeof out, &out_len, &info),
                  TLSEXT_RESULT_OK);
        CHECK_EQ_MEM(info.key_name, k[i], NAME_LEN);
        CHECK(info.renew == (i != 2));
    }
    tlsext_keyring_free(ring);
    free(sub);
    free(dir);
}

/* tlsext_last_error_message is per thread. */
static void *fail_in_thread(void *arg)
{
    char **msg = arg;
    tlsext_keyring *ring = NULL;
    if (tlsext_keyring_new(&ring) != TLSEXT_RESULT_OK)
        return NULL;
    tlsext_keyring_load_file(ring, "/nonexistent/thread-b", TLSEXT_KEY_FORMAT_AUTO);
    *msg = strdup(tlsext_last_error_message());
    tlsext_keyring_free(ring);
    return NULL;
}

static void test_last_error_is_per_thread(void)
{
    tlsext_keyring *ring = harness_keyring_new();
    CHECK_RES(tlsext_keyring_load_file(ring, "/nonexistent/thread-a", TLSEXT_KEY_FORMAT_AUTO),
              TLSEXT_RESULT_IO);
    char *mine = strdup(tlsext_last_error_message());
    char *theirs = NULL;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, fail_in_thread, &theirs) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(mine != NULL && strstr(mine, "thread-a") != NULL);
    CHECK(theirs != NULL && strstr(theirs, "thread-b") != NULL);
    const char *now = tlsext_last_error_message();
    CHECK(now != NULL && strstr(now, "thread-a") != NULL);
    free(mine);
    free(theirs);
    tlsext_keyring_free(ring);
}

int main(void)
{
    tmp = harness_tmpdir();
    RUN(test_result_str);
    RUN(test_null_parameters);
    RUN(test_empty_ring);
    RUN(test_load_missing_file);
    RUN(test_bad_key_sizes);
    RUN(test_weak_keys);
    RUN(test_duplicate_key_name);
    RUN(test_haproxy_bad_base64);
    RUN(test_mixed_key_sizes);
    RUN(test_unrecognized_and_empty);
    RUN(test_failed_load_leaves_ring_unchanged);
    RUN(test_sealed_len);
    RUN(test_seal_buffer_too_small);
    RUN(test_seal_open_round_trip);
    RUN(test_open_tampered);
    RUN(test_open_unknown_key);
    RUN(test_open_bad_padding);
    RUN(test_add_key_rotation);
    RUN(test_add_key_other_size);
    RUN(test_add_key_haproxy);
    RUN(test_load_key_files);
    RUN(test_haproxy_ring_roles);
    RUN(test_load_key_directory);
    RUN(test_last_error_is_per_thread);
    harness_rm_rf(tmp);
    free(tmp);
    return harness_summary();
}
