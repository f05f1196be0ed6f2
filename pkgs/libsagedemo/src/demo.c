/* demo.c: implementation of libdemo. */
#include <string.h>

#include "demo.h"

#define STR2(x) #x
#define STR(x) STR2(x)

const char *demo_version(void)
{
    return STR(DEMO_VERSION_MAJOR) "." STR(DEMO_VERSION_MINOR) "." STR(DEMO_VERSION_MICRO);
}

long demo_gcd(long a, long b)
{
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b != 0) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

unsigned long long demo_factorial(int n)
{
    unsigned long long r = 1;
    if (n < 0 || n > 20)
        return 0;
    while (n > 1)
        r *= (unsigned long long)n--;
    return r;
}

int demo_is_prime(unsigned long n)
{
    unsigned long d;
    if (n < 2)
        return 0;
    if (n % 2 == 0)
        return n == 2;
    for (d = 3; d <= n / d; d += 2)
        if (n % d == 0)
            return 0;
    return 1;
}

char *demo_reverse(char *s)
{
    size_t i, j;
    size_t n = strlen(s);
    if (n < 2)
        return s;
    for (i = 0, j = n - 1; i < j; i++, j--) {
        char t = s[i];
        s[i] = s[j];
        s[j] = t;
    }
    return s;
}
