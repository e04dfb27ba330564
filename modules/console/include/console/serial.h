/* 16550 UART on the PC's legacy I/O ports. */
#ifndef CONSOLE_SERIAL_H
#define CONSOLE_SERIAL_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8
#define COM3_PORT 0x3e8
#define COM4_PORT 0x2e8

/* Is a UART present at base? (scratch register round trip) */
bool serial_probe(uint16_t base);
/* 115200 8N1, FIFOs on, interrupts off. */
void serial_init(uint16_t base);
/* Text output: "\n" becomes "\r\n" for terminals. */
void serial_write(uint16_t base, const char *s, size_t n);
/* Exact bytes, no translation. */
void serial_write_bytes(uint16_t base, const char *s, size_t n);
/* Exact bytes, waiting without bound for the transmitter (application output). */
void serial_write_stream(uint16_t base, const char *s, size_t n);
/* Wait (bounded) until the transmitter is empty. */
void serial_flush(uint16_t base);
/* Non-blocking read: returns -1 when no byte is waiting. */
int serial_getc(uint16_t base);

/* Raise the UART's interrupt when a byte arrives (dropping what is waiting). */
void serial_enable_rx_irq(uint16_t base);
/* Receive interrupt on or off, keeping what is waiting. */
void serial_set_rx_irq(uint16_t base, bool on);

/* Bring up COM1 as the early console (no memory allocation, no interrupts). */
void console_early_init(void);

#endif
