/* The application's standard streams on the console (the kernel's own
 * messages go through <console/printk.h>). */
#ifndef CONSOLE_CONSOLE_H
#define CONSOLE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

enum { CONSOLE_STDOUT = 1, CONSOLE_STDERR = 2 };

/* Copy up to n received bytes; with block, wait until at least one arrived
 * (or, with osvb.stdin=stream, until the host said end of file). Bytes arrive
 * once the INIT_DEVICE initcalls ran (interrupt-driven). */
size_t console_read(char *buf, size_t n, bool block);

/* How the application's stdin behaves (osvb.stdin=...). */
enum console_stdin {
	STDIN_EOF,    /* default: nothing waiting reads as end of file */
	STDIN_WAIT,   /* reads block like a terminal's, never end */
	STDIN_STREAM, /* the host forwards a stream with an in-band end of file */
};
enum console_stdin console_stdin_mode(void);
/* STDIN_STREAM: the host sent end of file and every byte before it was read. */
bool console_input_ended(void);
/* Is a received byte (or the end of file) waiting? */
bool console_input_ready(void);
/* How many received bytes wait to be read (FIONREAD). */
size_t console_input_pending(void);
/* fn runs (in interrupt context) whenever input arrives, so a layer above
 * (the Linux ABI's poll/select/epoll) can wake its waiters. One listener. */
void console_set_input_notify(void (*fn)(void));

/* Application output, exact bytes: stdout on COM1, stderr on COM3 (COM1 when
 * there is no COM3). Waits for the host to take each byte. */
void console_out(int stream, const void *buf, size_t n);
/* Tell the host (a NUL byte on the log UART) that stdin may come now. */
void console_input_ready_signal(void);
/* Wait (bounded) until every UART has sent what it holds. */
void console_flush(void);

/* Does the guest claim a terminal (osvb.tty=1: the host's stdout is one)?
 * rows/cols: the window size to report (osvb.tty=ROWSxCOLS), else 24x80. */
bool console_is_tty(unsigned *rows, unsigned *cols);

/* Is there a serial console at all? */
bool console_has_serial(void);

/* A console that is not a UART (Xen's PV console ring), set by its driver
 * once it is up: it gets the kernel log (stream 0) and the program's streams
 * (CONSOLE_STDOUT/STDERR) that have no UART of their own, and hands received
 * bytes to console_input_push. */
struct console_sink {
	void (*write)(int stream, const char *buf, size_t n);
	void (*flush)(void);
};
void console_set_sink(const struct console_sink *sink);
/* Received bytes from a sink's interrupt handler: takes as many as there is
 * room for (framing as on COM1) and wakes readers; returns how many. */
size_t console_input_push(const char *buf, size_t n);
/* Bytes console_input_push would take now. */
size_t console_input_room(void);

#endif
