#include "system_allocator.h"

// Any C library header defines __GLIBC__ on glibc; test it only after one.
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int paliadin_release_free_memory(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}
