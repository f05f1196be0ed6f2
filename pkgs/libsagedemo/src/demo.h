/* demo.h: public interface of libdemo, the sagebuild demonstration library. */
#ifndef DEMO_H
#define DEMO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DEMO_VERSION_MAJOR 1
#define DEMO_VERSION_MINOR 2
#define DEMO_VERSION_MICRO 0

/* The library's version string, e.g. "1.2.0". */
const char *demo_version(void);

/* Greatest common divisor (always >= 0; demo_gcd(0, 0) == 0). */
long demo_gcd(long a, long b);

/* n! for 0 <= n <= 20; returns 0 if n is out of range (the result would overflow). */
unsigned long long demo_factorial(int n);

/* 1 if n is prime, else 0. */
int demo_is_prime(unsigned long n);

/* Reverses the NUL-terminated string s in place and returns s. */
char *demo_reverse(char *s);

#ifdef __cplusplus
}
#endif

#endif /* DEMO_H */
