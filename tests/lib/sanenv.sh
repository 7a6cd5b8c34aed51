# sanenv.sh - sanitizer settings for make check, sourced from
# TESTS_ENVIRONMENT (tests/ and fuzz/). Values already in the environment
# win, so a developer can still say ASAN_OPTIONS=... make check.
#
# Leaks are errors (detect_leaks=1). tests/lsan.supp is for leaks known to
# be in libraries we link (none so far), never our own.
# UBSan stops at the first report, as the build's
# -fno-sanitize-recover=undefined does, and prints a stack.
: "${ASAN_OPTIONS:=detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_invalid_pointer_pairs=0:allocator_may_return_null=0}"
: "${LSAN_OPTIONS:=suppressions=${top_srcdir:-.}/tests/lsan.supp:print_suppressions=0}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
