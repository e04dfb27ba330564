/* The one application process: its threads, and starting its program. */
#ifndef LINUX_PROCESS_H
#define LINUX_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <lib/compiler.h>

/* Load path into the (empty) address space and enter it in ring 3 on the
 * calling kernel thread, which becomes the main user thread. Returns only on
 * failure (negative errno). */
int process_exec(const char *path, const char *const *argv, int argc, const char *const *envp, int envc);

/* End the application (and the VM) with status. */
void __noreturn process_exit(int status);

#endif
