/*
 * test_client_hello.c - tlsext_client_hello_* on ClientHellos that OpenSSL itself writes:
 * a client SSL over memory BIOs runs SSL_do_handshake once and the bytes in its write BIO
 * (one TLS record) are parsed. Every field is compared with what was set on the client and
 * with the raw bytes walked by hand here; then prefixes, corruptions, trailing bytes,
 * small buffers and NULL arguments.
 */
#include "harness.h"

static const uint8_t alpn_wire[] = "\x02h2\x08http/1.1";
#define ALPN_WIRE_LEN (sizeof alpn_wire - 1)

/* ------------------------------------------------------------------------------------------ */
/* Capturing                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* A client context; max_version 0 = OpenSSL's default (TLS 1.3). */
static SSL_CTX *client_ctx(int max_version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    HARNESS_REQUIRE(ctx != NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (max_version != 0)
        HARNESS_REQUIRE(SSL_CTX_set_max_proto_version(ctx, max_version) == 1);
    return ctx;
}

/*
 * The first flight of a client of `cctx`: server name `sni` (NULL: none), ALPN `alpn_wire`
 * if `alpn`, offering a copy of `sess` (NULL: none). Returns the bytes written (malloc'd).
 */
static uint8_t *capture(SSL_CTX *cctx, const char *sni, bool alpn, const SSL_SESSION *sess,
                        size_t *len)
{
    SSL *c = SSL_new(cctx);
    HARNESS_REQUIRE(c != NULL);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    HARNESS_REQUIRE(rb != NULL && wb != NULL);
    SSL_set_bio(c, rb, wb);
    SSL_set_connect_state(c);
    if (sni != NULL)
        HARNESS_REQUIRE(SSL_set_tlsext_host_name(c, sni) == 1);
    if (alpn)
        HARNESS_REQUIRE(SSL_set_alpn_protos(c, alpn_wire, ALPN_WIRE_LEN) == 0);
    SSL_SESSION *copy = NULL;
    if (sess != NULL) {
        copy = SSL_SESSION_dup(sess);
        HARNESS_REQUIRE(copy != NULL && SSL_set_session(c, copy) == 1);
    }
    int ret = SSL_do_handshake(c);
    HARNESS_REQUIRE(ret == -1 && SSL_get_error(c, ret) == SSL_ERROR_WANT_READ);
    char *data = NULL;
    long n = BIO_get_mem_data(wb, &data);
    HARNESS_REQUIRE(n > 0 && data != NULL);
    uint8_t *out = malloc((size_t)n);
    HARNESS_REQUIRE(out != NULL);
    memcpy(out, data, (size_t)n);
    *len = (size_t)n;
    SSL_free(c);
    SSL_SESSION_free(copy);
    ERR_clear_error();
    return out;
}

/* The hello most tests take apart: a fresh client_ctx(max_version) sending server name
 * "www.example.com" and ALPN `alpn_wire`. Returns the bytes written (malloc'd). */
static uint8_t *capture_hello(int max_version, size_t *len)
{
    SSL_CTX *c = client_ctx(max_version);
    uint8_t *out = capture(c, "www.example.com", true, NULL, len);
    SSL_CTX_free(c);
    return out;
}

/* A session with a ticket from a real in-memory handshake at `version`. Caller frees. */
static SSL_SESSION *session_with_ticket(int version)
{
    SSL_CTX *s = harness_server_ctx(version), *c = harness_client_ctx(version);
    hs_result r;
    harness_handshake(s, c, NULL, &r);
    HARNESS_REQUIRE(r.ok && r.session != NULL && SSL_SESSION_has_ticket(r.session));
    SSL_SESSION *out = r.session;
    r.session = NULL;
    hs_result_clear(&r);
    SSL_CTX_free(s);
    SSL_CTX_free(c);
    return out;
}

/* ------------------------------------------------------------------------------------------ */
/* Walking the record by hand                                                                 */
/* ------------------------------------------------------------------------------------------ */

#define MAX_EXT 64

typedef struct walked {
    size_t sid_len_at;   /* offset of the session_id length byte */
    size_t cs_len_at;    /* offset of the cipher_suites length */
    size_t exts_len_at;  /* offset of the extensions block length */
    size_t n_ext;
    uint16_t types[MAX_EXT];
    size_t ext_at[MAX_EXT];   /* offset of each extension's type */
    size_t ext_len[MAX_EXT];  /* each extension's body length */
} walked;

static unsigned get16(const uint8_t *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put24(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

/* Walks a ClientHello record: one record, one ClientHello filling it, extensions to the end. */
static void walk(const uint8_t *b, size_t len, walked *w)
{
    memset(w, 0, sizeof *w);
    HARNESS_REQUIRE(len > 9 && b[0] == 22 && b[1] == 3 && get16(b + 3) == len - 5);
    HARNESS_REQUIRE(b[5] == 1);
    size_t hs_len = ((size_t)b[6] << 16) | ((size_t)b[7] << 8) | b[8];
    HARNESS_REQUIRE(hs_len == len - 9);
    size_t off = 9 + 2 + 32;
    w->sid_len_at = off;
    off += 1 + b[off];
    w->cs_len_at = off;
    off += 2 + get16(b + off);
    off += 1 + b[off];
    w->exts_len_at = off;
    HARNESS_REQUIRE(off + 2 + get16(b + off) == len);
    off += 2;
    while (off < len) {
        HARNESS_REQUIRE(off + 4 <= len && w->n_ext < MAX_EXT);
        w->types[w->n_ext] = (uint16_t)get16(b + off);
        w->ext_at[w->n_ext] = off;
        w->ext_len[w->n_ext] = get16(b + off + 2);
        off += 4 + w->ext_len[w->n_ext];
        w->n_ext++;
    }
    HARNESS_REQUIRE(off == len);
}

/* The body of extension `type` (NULL if absent). */
static const uint8_t *find_ext(const uint8_t *b, const walked *w, uint16_t type, size_t *len)
{
    for (size_t i = 0; i < w->n_ext; i++)
        if (w->types[i] == type) {
            *len = w->ext_len[i];
            return b + w->ext_at[i] + 4;
        }
    *len = 0;
    return NULL;
}

static bool has_type(const uint16_t *types, size_t n, uint16_t t)
{
    for (size_t i = 0; i < n; i++)
        if (types[i] == t)
            return true;
    return false;
}

static tlsext_client_hello *parse_ok(const uint8_t *b, size_t len)
{
    tlsext_client_hello *h = NULL;
    CHECK_RES(tlsext_client_hello_parse(b, len, &h), TLSEXT_RESULT_OK);
    HARNESS_REQUIRE(h != NULL);
    return h;
}

/* Checks the result of a parse that must fail with `want`: *out untouched, a message. */
static void expect_parse_fails(const uint8_t *b, size_t len, tlsext_result want)
{
    tlsext_client_hello *sentinel = (tlsext_client_hello *)&sentinel;
    tlsext_client_hello *h = sentinel;
    CHECK_RES(tlsext_client_hello_parse(b, len, &h), want);
    CHECK(h == sentinel);
    if (want == TLSEXT_RESULT_MALFORMED) {
        const char *m = tlsext_last_error_message();
        CHECK(m != NULL && m[0] != '\0');
        CHECK_EQ_INT(tlsext_client_hello_bytes_needed(b, len), 0);
    }
    if (h != sentinel)
        tlsext_client_hello_free(h);
}

/* ------------------------------------------------------------------------------------------ */
/* Tests                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* The fields of one hello against what the client set and the hand walk. */
static void check_fields(const uint8_t *b, size_t len, const char *sni, bool tls13)
{
    walked w;
    walk(b, len, &w);
    /* Both forms: the record, and the bare handshake message inside it. */
    for (int form = 0; form < 2; form++) {
        const uint8_t *in = form == 0 ? b : b + 5;
        size_t in_len = form == 0 ? len : len - 5;
        printf("    %s form, %zu bytes, %zu extensions\n", form == 0 ? "record" : "handshake",
               in_len, w.n_ext);
        tlsext_client_hello *h = parse_ok(in, in_len);

        const uint8_t *name = NULL;
        size_t name_len = 0;
        CHECK_RES(tlsext_client_hello_server_name(h, &name, &name_len), TLSEXT_RESULT_OK);
        CHECK_EQ_INT(name_len, strlen(sni));
        CHECK(name != NULL && memcmp(name, sni, strlen(sni)) == 0);

        CHECK_EQ_INT(tlsext_client_hello_alpn_count(h), 2);
        const uint8_t *proto = NULL;
        size_t proto_len = 0;
        CHECK_RES(tlsext_client_hello_alpn(h, 0, &proto, &proto_len), TLSEXT_RESULT_OK);
        CHECK(proto_len == 2 && memcmp(proto, "h2", 2) == 0);
        CHECK_RES(tlsext_client_hello_alpn(h, 1, &proto, &proto_len), TLSEXT_RESULT_OK);
        CHECK(proto_len == 8 && memcmp(proto, "http/1.1", 8) == 0);
        CHECK_RES(tlsext_client_hello_alpn(h, 2, &proto, &proto_len), TLSEXT_RESULT_NOT_FOUND);

        uint16_t types[MAX_EXT];
        size_t n_types = 0;
        CHECK_RES(tlsext_client_hello_extension_types(h, types, MAX_EXT, &n_types),
                  TLSEXT_RESULT_OK);
        CHECK_EQ_INT(n_types, w.n_ext);
        CHECK_EQ_MEM(types, w.types, w.n_ext * sizeof(uint16_t));

        uint16_t vers[16];
        size_t n_vers = 0;
        CHECK_RES(tlsext_client_hello_versions(h, vers, 16, &n_vers), TLSEXT_RESULT_OK);
        size_t sv_len = 0;
        const uint8_t *sv = find_ext(b, &w, 43, &sv_len);
        if (tls13) {
            /* supported_versions: a 1-byte length, then 2-byte versions, as sent. */
            CHECK(sv != NULL);
            if (sv != NULL) {
                CHECK_EQ_INT(sv[0], sv_len - 1);
                CHECK_EQ_INT(n_vers, (sv_len - 1) / 2);
                for (size_t i = 0; i < n_vers && 1 + 2 * i + 1 < sv_len; i++)
                    CHECK_EQ_INT(vers[i], get16(sv + 1 + 2 * i));
            }
            CHECK(has_type(vers, n_vers, 0x0304));
            CHECK(has_type(vers, n_vers, 0x0303));
            CHECK_EQ_INT(vers[0], 0x0304);
        } else {
            /* OpenSSL capped at TLS 1.2 sends no supported_versions: legacy_version only. */
            CHECK(sv == NULL);
            CHECK(!has_type(types, n_types, 43));
            CHECK_EQ_INT(n_vers, 1);
            CHECK_EQ_INT(vers[0], 0x0303);
        }
        printf("     versions:");
        for (size_t i = 0; i < n_vers && i < 16; i++)
            printf(" %04x", vers[i]);
        printf("; types:");
        for (size_t i = 0; i < n_types && i < MAX_EXT; i++)
            printf(" %u", types[i]);
        printf("\n");

        /* A fresh client: the session_ticket extension (if any) is empty, no PSK. */
        CHECK(!tlsext_client_hello_has_session_ticket(h));
        CHECK(!has_type(types, n_types, 41));
        tlsext_client_hello_free(h);
    }
}

static void test_fields_default_client(void)
{
    SSL_CTX *c = client_ctx(0);
    size_t len = 0;
    uint8_t *b = capture(c, "www.example.com", true, NULL, &len);
    check_fields(b, len, "www.example.com", true);
    free(b);
    /* The name is reported as sent, not normalised. */
    b = capture(c, "WWW.Example.COM.", true, NULL, &len);
    check_fields(b, len, "WWW.Example.COM.", true);
    free(b);
    SSL_CTX_free(c);
}

static void test_fields_tls12_client(void)
{
    size_t len = 0;
    uint8_t *b = capture_hello(TLS1_2_VERSION, &len);
    check_fields(b, len, "www.example.com", false);
    free(b);
}

/* A resuming client offers its ticket: a non-empty session_ticket (TLS 1.2) or a
 * pre_shared_key, last (TLS 1.3). */
static void test_session_ticket(void)
{
    static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        printf("  %s\n", harness_version_name(v));
        SSL_SESSION *sess = session_with_ticket(v);
        SSL_CTX *c = client_ctx(v);
        size_t len = 0;
        uint8_t *b = capture(c, "tlsext-c-tests.test", false, NULL, &len);
        tlsext_client_hello *h = parse_ok(b, len);
        CHECK(!tlsext_client_hello_has_session_ticket(h));
        tlsext_client_hello_free(h);
        free(b);

        b = capture(c, "tlsext-c-tests.test", false, sess, &len);
        walked w;
        walk(b, len, &w);
        h = parse_ok(b, len);
        CHECK(tlsext_client_hello_has_session_ticket(h));
        size_t st_len = 0, t_len = 0;
        const uint8_t *st = find_ext(b, &w, 35, &st_len);
        const uint8_t *ticket = harness_ticket(sess, &t_len);
        if (v == TLS1_2_VERSION) {
            /* The session_ticket extension carries the session's ticket as is. */
            CHECK_EQ_INT(st_len, t_len);
            CHECK(st != NULL && ticket != NULL && t_len > 0 && memcmp(st, ticket, t_len) == 0);
        } else {
            /* pre_shared_key, last as RFC 8446 requires, holding the ticket as identity. */
            CHECK(w.n_ext > 0 && w.types[w.n_ext - 1] == 41);
            size_t psk_len = 0;
            const uint8_t *psk = find_ext(b, &w, 41, &psk_len);
            CHECK(psk != NULL && psk_len > 4 + t_len && get16(psk + 2) == t_len &&
                  ticket != NULL && memcmp(psk + 4, ticket, t_len) == 0);
        }
        tlsext_client_hello_free(h);
        free(b);
        SSL_CTX_free(c);
        SSL_SESSION_free(sess);
    }
}

/* Every proper prefix of the record (and of the bare message) is a valid start: NEED_MORE,
 * and bytes_needed is positive, never more than what is missing, and exact once the record
 * (handshake) header is in. */
static void test_prefixes(void)
{
    size_t len = 0;
    uint8_t *b = capture_hello(0, &len);
    for (int form = 0; form < 2; form++) {
        const uint8_t *in = form == 0 ? b : b + 5;
        size_t in_len = form == 0 ? len : len - 5;
        size_t header = form == 0 ? 5 : 4;
        printf("    %s form: %zu prefixes\n", form == 0 ? "record" : "handshake", in_len);
        int bad = 0;
        for (size_t n = 0; n < in_len; n++) {
            tlsext_client_hello *sentinel = (tlsext_client_hello *)&sentinel;
            tlsext_client_hello *h = sentinel;
            tlsext_result r = tlsext_client_hello_parse(in, n, &h);
            size_t need = tlsext_client_hello_bytes_needed(in, n);
            bool ok = r == TLSEXT_RESULT_NEED_MORE && h == sentinel && need > 0 &&
                      n + need <= in_len && (n < header || n + need == in_len);
            if (!ok && bad++ < 5)
                printf("    prefix %zu: %s, bytes_needed %zu, \"%s\"\n", n,
                       tlsext_result_str(r), need, tlsext_last_error_message());
            if (h != sentinel)
                tlsext_client_hello_free(h);
        }
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(tlsext_client_hello_bytes_needed(in, in_len), 0);
        tlsext_client_hello_free(parse_ok(in, in_len));
    }
    free(b);
}

/* Lengths (and a few other fields) corrupted one at a time: MALFORMED with a message. */
static void test_malformed(void)
{
    size_t len = 0;
    uint8_t *b = capture_hello(0, &len);
    uint8_t *m = malloc(len);
    HARNESS_REQUIRE(m != NULL);
    walked w;
    walk(b, len, &w);
    HARNESS_REQUIRE(w.n_ext >= 2);

/* Corrupts a copy; the record must be MALFORMED, and the bare handshake message inside it
 * (when the record header is untouched) `bare`. */
#define CORRUPT_EX(what, stmt, bare)                                                        \
    do {                                                                                    \
        printf("    %s\n", what);                                                           \
        memcpy(m, b, len);                                                                  \
        stmt;                                                                               \
        expect_parse_fails(m, len, TLSEXT_RESULT_MALFORMED);                                \
        printf("      -> \"%s\"\n", tlsext_last_error_message());                          \
        if (memcmp(m, b, 5) == 0)                                                           \
            expect_parse_fails(m + 5, len - 5, (bare));                                     \
    } while (0)
#define CORRUPT(what, stmt) CORRUPT_EX(what, stmt, TLSEXT_RESULT_MALFORMED)

    CORRUPT("extensions length + 1", put16(m + w.exts_len_at, get16(b + w.exts_len_at) + 1));
    CORRUPT("extensions length - 1", put16(m + w.exts_len_at, get16(b + w.exts_len_at) - 1));
    CORRUPT("first extension length + 1",
            put16(m + w.ext_at[0] + 2, get16(b + w.ext_at[0] + 2) + 1));
    CORRUPT("first extension length - 1",
            put16(m + w.ext_at[0] + 2, get16(b + w.ext_at[0] + 2) - 1));
    CORRUPT("last extension length + 1",
            put16(m + w.ext_at[w.n_ext - 1] + 2, get16(b + w.ext_at[w.n_ext - 1] + 2) + 1));
    CORRUPT("session_id length 33", m[w.sid_len_at] = 33);
    CORRUPT("cipher_suites length + 1", put16(m + w.cs_len_at, get16(b + w.cs_len_at) + 1));
    CORRUPT("cipher_suites length 0", put16(m + w.cs_len_at, 0));
    size_t hs_len = len - 9;
    CORRUPT("handshake length - 1", put24(m + 6, hs_len - 1));
    /* The bare message is then merely cut short: a valid start. */
    CORRUPT_EX("handshake length + 1", put24(m + 6, hs_len + 1), TLSEXT_RESULT_NEED_MORE);
    CORRUPT("record length - 1", put16(m + 3, get16(b + 3) - 1));
    CORRUPT("record length + 1", put16(m + 3, get16(b + 3) + 1));
    CORRUPT("record length 0", put16(m + 3, 0));
    CORRUPT("record content type 23", m[0] = 23);
    CORRUPT("handshake type 2", m[5] = 2);
    CORRUPT("duplicate extension",
            put16(m + w.ext_at[1], get16(b + w.ext_at[0])));
#undef CORRUPT
#undef CORRUPT_EX

    /* A byte first that is neither a record nor a handshake message. */
    const uint8_t junk[] = {0x47, 0x45, 0x54, 0x20, 0x2f, 0x20};
    expect_parse_fails(junk, sizeof junk, TLSEXT_RESULT_MALFORMED);
    free(m);
    free(b);
}

/* Bytes after the hello are refused, in handshake form and in record form. */
static void test_trailing_bytes(void)
{
    size_t len = 0;
    uint8_t *b = capture_hello(0, &len);
    uint8_t *m = malloc(len + 16);
    HARNESS_REQUIRE(m != NULL);
    memcpy(m, b, len);
    memset(m + len, 0xA5, 16);
    expect_parse_fails(m + 5, len - 5 + 1, TLSEXT_RESULT_MALFORMED);
    expect_parse_fails(m + 5, len - 5 + 16, TLSEXT_RESULT_MALFORMED);
    expect_parse_fails(m, len + 1, TLSEXT_RESULT_MALFORMED);
    expect_parse_fails(m, len + 16, TLSEXT_RESULT_MALFORMED);
    /* A second copy of the message after the first is trailing too. */
    uint8_t *two = malloc(2 * (len - 5));
    HARNESS_REQUIRE(two != NULL);
    memcpy(two, b + 5, len - 5);
    memcpy(two + len - 5, b + 5, len - 5);
    expect_parse_fails(two, 2 * (len - 5), TLSEXT_RESULT_MALFORMED);
    free(two);
    free(m);
    free(b);
}

/* No server_name: NOT_FOUND, outputs untouched; no ALPN: count 0, NOT_FOUND. */
static void test_no_sni_no_alpn(void)
{
    SSL_CTX *c = client_ctx(0);
    size_t len = 0;
    uint8_t *b = capture(c, NULL, false, NULL, &len);
    walked w;
    walk(b, len, &w);
    CHECK(!has_type(w.types, w.n_ext, 0));
    CHECK(!has_type(w.types, w.n_ext, 16));
    tlsext_client_hello *h = parse_ok(b, len);
    const uint8_t *name = (const uint8_t *)"x";
    size_t name_len = 12345;
    CHECK_RES(tlsext_client_hello_server_name(h, &name, &name_len), TLSEXT_RESULT_NOT_FOUND);
    CHECK(tlsext_last_error_message()[0] != '\0');
    CHECK(name_len == 12345 && name[0] == 'x');
    CHECK_EQ_INT(tlsext_client_hello_alpn_count(h), 0);
    const uint8_t *proto = NULL;
    size_t proto_len = 0;
    CHECK_RES(tlsext_client_hello_alpn(h, 0, &proto, &proto_len), TLSEXT_RESULT_NOT_FOUND);
    CHECK(proto == NULL && proto_len == 0);
    uint16_t types[MAX_EXT];
    size_t n = 0;
    CHECK_RES(tlsext_client_hello_extension_types(h, types, MAX_EXT, &n), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(n, w.n_ext);
    CHECK_EQ_MEM(types, w.types, n * sizeof(uint16_t));
    tlsext_client_hello_free(h);
    free(b);
    SSL_CTX_free(c);
}

typedef tlsext_result (*list_fn)(const tlsext_client_hello *, uint16_t *, size_t, size_t *);

/* A u16 list getter with every buffer size: too small -> BUFFER_TOO_SMALL, the count in
 * *out_len and nothing written; enough -> OK, exactly the values, nothing past them. */
static void check_list(const tlsext_client_hello *h, list_fn f, const char *what)
{
    size_t count = 0;
    CHECK_RES(f(h, NULL, 0, &count), count == 0 ? TLSEXT_RESULT_OK
                                                : TLSEXT_RESULT_BUFFER_TOO_SMALL);
    printf("    %s: %zu values\n", what, count);
    HARNESS_REQUIRE(count > 0 && count < MAX_EXT);
    uint16_t want[MAX_EXT];
    size_t n = 0;
    CHECK_RES(f(h, want, MAX_EXT, &n), TLSEXT_RESULT_OK);
    CHECK_EQ_INT(n, count);
    for (size_t cap = 0; cap <= count + 2; cap++) {
        uint16_t buf[MAX_EXT + 2];
        for (size_t i = 0; i < MAX_EXT + 2; i++)
            buf[i] = 0xBEEF;
        size_t out_len = 99999;
        tlsext_result r = f(h, buf, cap, &out_len);
        CHECK_EQ_INT(out_len, count);
        if (cap < count) {
            CHECK_RES(r, TLSEXT_RESULT_BUFFER_TOO_SMALL);
            CHECK(tlsext_last_error_message()[0] != '\0');
            for (size_t i = 0; i < MAX_EXT + 2; i++)
                CHECK(buf[i] == 0xBEEF);
        } else {
            CHECK_RES(r, TLSEXT_RESULT_OK);
            CHECK_EQ_MEM(buf, want, count * sizeof(uint16_t));
            for (size_t i = count; i < MAX_EXT + 2; i++)
                CHECK(buf[i] == 0xBEEF);
        }
    }
    CHECK_RES(f(h, want, MAX_EXT, NULL), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(f(NULL, want, MAX_EXT, &n), TLSEXT_RESULT_NULL_PARAMETER);
}

static void test_small_buffers(void)
{
    for (int max = 0; max < 2; max++) {
        size_t len = 0;
        uint8_t *b = capture_hello(max == 0 ? 0 : TLS1_2_VERSION, &len);
        tlsext_client_hello *h = parse_ok(b, len);
        check_list(h, tlsext_client_hello_versions, "versions");
        check_list(h, tlsext_client_hello_extension_types, "extension types");
        tlsext_client_hello_free(h);
        free(b);
    }
}

static void test_null_arguments(void)
{
    size_t len = 0;
    uint8_t *b = capture_hello(0, &len);
    tlsext_client_hello *h = NULL;

    CHECK_RES(tlsext_client_hello_parse(b, len, NULL), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_client_hello_parse(NULL, len, &h), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK(h == NULL);
    CHECK_RES(tlsext_client_hello_parse(NULL, 0, &h), TLSEXT_RESULT_NEED_MORE);
    CHECK(h == NULL);
    CHECK(tlsext_client_hello_bytes_needed(NULL, 0) > 0);
    CHECK_EQ_INT(tlsext_client_hello_bytes_needed(NULL, 5), 0);

    h = parse_ok(b, len);
    const uint8_t *p = NULL;
    size_t n = 0;
    CHECK_RES(tlsext_client_hello_server_name(NULL, &p, &n), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_client_hello_server_name(h, NULL, &n), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_client_hello_server_name(h, &p, NULL), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_client_hello_alpn(NULL, 0, &p, &n), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_client_hello_alpn(h, 0, NULL, &n), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_client_hello_alpn(h, 0, &p, NULL), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_EQ_INT(tlsext_client_hello_alpn_count(NULL), 0);
    CHECK(!tlsext_client_hello_has_session_ticket(NULL));
    uint16_t v[8];
    CHECK_RES(tlsext_client_hello_versions(NULL, v, 8, &n), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_client_hello_versions(h, v, 8, NULL), TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_client_hello_extension_types(NULL, v, 8, &n),
              TLSEXT_RESULT_NULL_PARAMETER);
    CHECK_RES(tlsext_client_hello_extension_types(h, v, 8, NULL), TLSEXT_RESULT_NULL_PARAMETER);
    /* The handle still works after all that. */
    CHECK_RES(tlsext_client_hello_server_name(h, &p, &n), TLSEXT_RESULT_OK);
    CHECK(n == 15 && memcmp(p, "www.example.com", 15) == 0);
    tlsext_client_hello_free(h);
    tlsext_client_hello_free(NULL);
    free(b);
}

/* The parsed hello is a copy: it outlives (and ignores changes to) the input buffer. */
static void test_owns_copy(void)
{
    size_t len = 0;
    uint8_t *b = capture_hello(0, &len);
    tlsext_client_hello *h = parse_ok(b, len);
    memset(b, 0, len);
    free(b);
    const uint8_t *p = NULL;
    size_t n = 0;
    CHECK_RES(tlsext_client_hello_server_name(h, &p, &n), TLSEXT_RESULT_OK);
    CHECK(n == 15 && memcmp(p, "www.example.com", 15) == 0);
    CHECK_EQ_INT(tlsext_client_hello_alpn_count(h), 2);
    tlsext_client_hello_free(h);
}

int main(void)
{
    RUN(test_fields_default_client);
    RUN(test_fields_tls12_client);
    RUN(test_session_ticket);
    RUN(test_prefixes);
    RUN(test_malformed);
    RUN(test_trailing_bytes);
    RUN(test_no_sni_no_alpn);
    RUN(test_small_buffers);
    RUN(test_null_arguments);
    RUN(test_owns_copy);
    return harness_summary();
}
