#ifndef PALIADIN_SYSTEM_ALLOCATOR_H
#define PALIADIN_SYSTEM_ALLOCATOR_H

/// Hands the allocator's free pages back to the operating system (glibc's malloc_trim);
/// does nothing where the C library has no such call. Returns 1 when memory was released.
int paliadin_release_free_memory(void);

#endif
