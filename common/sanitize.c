/* sanitize.c - default options of the sanitizer runtimes, compiled only
 * into sanitizer builds (CMake's AOFROLL_SANITIZE).
 *
 * ASan and UBSan exit with status 1 after a report, which is also what
 * aofroll returns for an operational failure: a scenario that expects
 * exit 1 from a refusal would pass while the program actually hit a null
 * dereference or a buffer overflow on its way out. Every report exits with
 * SANITIZER_EXIT instead, which no program of the project returns. LSan
 * (23) and TSan (66) have distinct statuses already; TSan also stops at
 * its first report so that a race cannot scroll by. Options given in
 * ASAN_OPTIONS, UBSAN_OPTIONS or TSAN_OPTIONS still override these: the
 * runtimes read the defaults first.
 *
 * The runtimes look these functions up by name in the program: CMake
 * compiles this file into every program that links libaofroll_common and
 * defines AOFROLL_SANITIZE_ADDRESS or AOFROLL_SANITIZE_THREAD
 * (CMakeLists.txt, common/CMakeLists.txt). */
#define SANITIZER_EXIT "86"

#ifdef AOFROLL_SANITIZE_ADDRESS
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
    return "exitcode=" SANITIZER_EXIT;
}

const char *__ubsan_default_options(void)
{
    return "exitcode=" SANITIZER_EXIT ":print_stacktrace=1:halt_on_error=1";
}
#endif

#ifdef AOFROLL_SANITIZE_THREAD
const char *__tsan_default_options(void);

const char *__tsan_default_options(void)
{
    return "halt_on_error=1:second_deadlock_stack=1";
}
#endif
