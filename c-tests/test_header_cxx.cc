// test_header_cxx.cc - tlsext_shim.h compiles as C++17 (with -Wall -Wextra -Werror) and its
// functions link with C linkage from C++.
#include "tlsext_shim.h"

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(sizeof(tlsext_ticket_info) >= 17, "key_name[16] and renew");
static_assert(offsetof(tlsext_ticket_info, key_name) == 0, "key_name first");
static_assert(std::is_same<decltype(tlsext_ticket_info::renew), bool>::value, "renew is bool");
static_assert(TLSEXT_RESULT_OK == 0 && TLSEXT_RESULT_NO_ENCRYPTING_KEY == 21, "numbers");
static_assert(TLSEXT_KEY_FORMAT_AUTO == 0 && TLSEXT_KEY_FORMAT_OPENSSL == 3, "numbers");

static int failed;
static int passed;

static void check(bool ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        std::printf("  CHECK failed: %s\n", what);
    }
}

int main()
{
    const char *s = tlsext_result_str(TLSEXT_RESULT_OK);
    check(s != nullptr && s[0] != '\0', "tlsext_result_str(OK)");
    tlsext_keyring *ring = nullptr;
    check(tlsext_keyring_new(&ring) == TLSEXT_RESULT_OK && ring != nullptr, "keyring_new");
    check(tlsext_keyring_len(ring) == 0, "empty ring");
    uint8_t name[16];
    check(tlsext_keyring_encrypting_key_name(ring, name) == TLSEXT_RESULT_NO_ENCRYPTING_KEY,
          "no encrypting key");
    check(tlsext_ticket_sealed_len(0) == 80, "sealed_len(0)");
    tlsext_keyring_free(ring);
    tlsext_keyring_free(nullptr);
    check(tlsext_last_error_message() != nullptr, "last_error_message");
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
