/* test_demo.c: `make check` for libdemo. Exits non-zero on the first failure. */
#include <stdio.h>
#include <string.h>

#include "demo.h"

static int failures = 0;

#define CHECK(cond)                                                      \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,       \
                    __LINE__, #cond);                                    \
            failures++;                                                  \
        }                                                                \
    } while (0)

int main(void)
{
    char buf[16];

    CHECK(strcmp(demo_version(), "1.2.0") == 0);
    CHECK(demo_gcd(84, 36) == 12);
    CHECK(demo_gcd(-12, 18) == 6);
    CHECK(demo_gcd(0, 0) == 0);
    CHECK(demo_factorial(0) == 1);
    CHECK(demo_factorial(10) == 3628800ULL);
    CHECK(demo_factorial(20) == 2432902008176640000ULL);
    CHECK(demo_factorial(21) == 0);
    CHECK(!demo_is_prime(1));
    CHECK(demo_is_prime(2));
    CHECK(demo_is_prime(97));
    CHECK(!demo_is_prime(91));
    strcpy(buf, "sagemath");
    CHECK(strcmp(demo_reverse(buf), "htamegas") == 0);
    strcpy(buf, "");
    CHECK(strcmp(demo_reverse(buf), "") == 0);

    if (failures) {
        fprintf(stderr, "libdemo %s: %d check(s) failed\n", demo_version(), failures);
        return 1;
    }
    printf("libdemo %s: all checks passed\n", demo_version());
    return 0;
}
