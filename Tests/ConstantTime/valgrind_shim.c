/*
 * Memcheck client requests for the Swift constant-time check (main.swift, run by
 * scripts/check-constant-time). The requests are inline assembly, so Swift reaches them
 * through these functions. Outside valgrind they do nothing (ct_check_defined returns 1).
 */
#include <stddef.h>
#include <valgrind/memcheck.h>

/* Secret: memcheck reports any branch or address that depends on these bytes. */
void ct_secret(const void *p, size_t n) { VALGRIND_MAKE_MEM_UNDEFINED(p, n); }

/* Public: a result the caller may branch on (a comparison's Bool, a selected word). */
void ct_public(const void *p, size_t n) { VALGRIND_MAKE_MEM_DEFINED(p, n); }

/* 1 if every byte is defined (for scrub: each word overwritten by a constant), 0 and a
 * memcheck error otherwise. */
int ct_check_defined(const void *p, size_t n) { return VALGRIND_CHECK_MEM_IS_DEFINED(p, n) == 0; }

/* Whether the program runs under valgrind (the check refuses to pass vacuously). */
int ct_running_on_valgrind(void) { return RUNNING_ON_VALGRIND != 0; }

/* The program: each argument names a check of main.swift; none runs every check but
 * the deliberately broken ones ("broken-..."). Exit status 1 if a check failed, 2 for an
 * unknown name. */
long ct_check_count(void);
const char *ct_check_name(long i);
int ct_run_check(long i);
void ct_report_valgrind(void);

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  int status = 0;
  for (long i = 0; i < ct_check_count(); i++) {
    const char *name = ct_check_name(i);
    int wanted = argc == 1 ? strncmp(name, "broken", 6) != 0 : 0;
    for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], name) == 0;
    if (wanted && !ct_run_check(i)) status = 1;
  }
  for (int a = 1; a < argc; a++) {
    int known = 0;
    for (long i = 0; i < ct_check_count(); i++) known |= strcmp(argv[a], ct_check_name(i)) == 0;
    if (!known) {
      fprintf(stderr, "unknown check %s; the checks:", argv[a]);
      for (long i = 0; i < ct_check_count(); i++) fprintf(stderr, " %s", ct_check_name(i));
      fprintf(stderr, "\n");
      return 2;
    }
  }
  ct_report_valgrind();
  return status;
}
