/* The calling thread's process (for /proc and the loader): its identity,
 * program, descriptors, and its end. */
#ifndef LINUX_PROCESS_H
#define LINUX_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lib/compiler.h>

/* Load path into a fresh address space (replacing the process's) and enter
 * it in ring 3 on the calling thread. Returns only on failure (negative
 * errno). */
int process_exec(const char *path, const char *const *argv, int argc, const char *const *envp, int envc);

/* Absolute path of the running program ("" before exec). */
const char *process_exe_path(void);
/* argv of the running program as NUL-separated strings; returns the length. */
size_t process_cmdline(char *buf, size_t size);

/* pid, parent pid (0: none) and number of threads, for /proc. */
int process_pid(void);
int process_ppid(void);
int process_threads(void);

/* The lowest open descriptor >= from, or -1. */
int process_next_fd(int from);
/* What /proc/self/fd/N points to: the path the file was opened by, or
 * "pipe:[ino]" / "anon_inode:[ino]" for files without one. Length, or -EBADF. */
long process_fd_link(int fd, char *buf, size_t size);

/* End the calling process (every thread) with exit status; for the first
 * process that ends the VM with status. */
void __noreturn process_exit(int status);
/* The same for a process killed by signal sig (the VM, when the first
 * process, exits with 128+sig). */
void __noreturn process_kill(int sig);

#endif
