/* democalc: a small command-line front end to libdemo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <demo.h>

#ifndef DEMOCALC_DOCDIR
#define DEMOCALC_DOCDIR "/usr/local/share/doc/sagedemo"
#endif

static const char *prog = "democalc";

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s COMMAND [ARGS]\n"
            "\n"
            "Commands:\n"
            "  gcd A B        greatest common divisor of A and B\n"
            "  fact N         N! (0 <= N <= 20)\n"
            "  prime N        whether N is prime\n"
            "  reverse TEXT   TEXT reversed\n"
            "  version        versions of democalc and libdemo\n"
            "  help           this help\n"
            "\n"
            "Documentation: %s/index.html\n",
            prog, DEMOCALC_DOCDIR);
}

static long parse_long(const char *s)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        fprintf(stderr, "%s: not an integer: '%s'\n", prog, s);
        exit(2);
    }
    return v;
}

static void need_args(int argc, int n, const char *cmd)
{
    if (argc != n) {
        fprintf(stderr, "%s: '%s' takes %d argument(s); see '%s help'\n", prog, cmd, n - 2, prog);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    cmd = argv[1];
    if (strcmp(cmd, "gcd") == 0) {
        need_args(argc, 4, cmd);
        printf("%ld\n", demo_gcd(parse_long(argv[2]), parse_long(argv[3])));
    } else if (strcmp(cmd, "fact") == 0) {
        long n;
        need_args(argc, 3, cmd);
        n = parse_long(argv[2]);
        if (n < 0 || n > 20) {
            fprintf(stderr, "%s: fact: N must be between 0 and 20\n", prog);
            return 1;
        }
        printf("%llu\n", demo_factorial((int)n));
    } else if (strcmp(cmd, "prime") == 0) {
        long n;
        need_args(argc, 3, cmd);
        n = parse_long(argv[2]);
        printf("%ld is %sprime\n", n, n >= 0 && demo_is_prime((unsigned long)n) ? "" : "not ");
    } else if (strcmp(cmd, "reverse") == 0) {
        char *s;
        need_args(argc, 3, cmd);
        s = strdup(argv[2]);
        if (!s) {
            perror(prog);
            return 1;
        }
        printf("%s\n", demo_reverse(s));
        free(s);
    } else if (strcmp(cmd, "version") == 0) {
        need_args(argc, 2, cmd);
        printf("democalc 0.3.1 (libdemo %s)\n", demo_version());
    } else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
    } else {
        fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
        usage(stderr);
        return 2;
    }
    return 0;
}
