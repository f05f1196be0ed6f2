/* demoprimes N: print the primes up to N, one a line, using libdemo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <demo.h>

int main(int argc, char **argv)
{
    char *end;
    unsigned long n, i;

    if (argc != 2) {
        fprintf(stderr, "Usage: demoprimes N\nPrints the primes up to N (libdemo %s).\n", demo_version());
        return 2;
    }
    errno = 0;
    n = strtoul(argv[1], &end, 10);
    if (errno != 0 || end == argv[1] || *end != '\0' || argv[1][0] == '-') {
        fprintf(stderr, "demoprimes: not a non-negative integer: '%s'\n", argv[1]);
        return 2;
    }
    for (i = 2; i <= n && i != 0; i++)
        if (demo_is_prime(i))
            printf("%lu\n", i);
    return 0;
}
