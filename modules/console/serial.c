/* Polled 16550 driver. Polling is enough for output: QEMU's UART is always
 * ready and real ones drain at line rate anyway. */
#include <console/serial.h>
#include <arch/io.h>

#define THR 0
#define RBR 0
#define DLL 0
#define IER 1
#define DLM 1
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define SCR 7

#define LSR_DR 0x01
#define LSR_THRE 0x20

bool serial_probe(uint16_t base)
{
	outb(base + SCR, 0x5a);
	if (inb(base + SCR) != 0x5a)
		return false;
	outb(base + SCR, 0xa5);
	return inb(base + SCR) == 0xa5;
}

void serial_init(uint16_t base)
{
	outb(base + IER, 0);
	outb(base + LCR, 0x80); /* DLAB */
	outb(base + DLL, 1);    /* 115200 baud */
	outb(base + DLM, 0);
	outb(base + LCR, 0x03); /* 8N1 */
	outb(base + FCR, 0x07); /* enable and clear FIFOs */
	outb(base + MCR, 0x0b); /* DTR, RTS, OUT2 (routes the IRQ line) */
}

static void putc_raw(uint16_t base, char c)
{
	/* Bounded wait: a missing or stuck UART must not hang the kernel. */
	for (int i = 0; i < 100000 && !(inb(base + LSR) & LSR_THRE); i++)
		__asm__ __volatile__("pause");
	outb(base + THR, c);
}

void serial_write_stream(uint16_t base, const char *s, size_t n)
{
	/* The application's bytes: wait as long as the host needs to take each
	 * one (a pipe's back-pressure), never overwrite an unsent byte. */
	for (size_t i = 0; i < n; i++) {
		while (!(inb(base + LSR) & LSR_THRE))
			__asm__ __volatile__("pause");
		outb(base + THR, s[i]);
	}
}

void serial_write(uint16_t base, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			putc_raw(base, '\r');
		putc_raw(base, s[i]);
	}
}

void serial_write_bytes(uint16_t base, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		putc_raw(base, s[i]);
}

void serial_flush(uint16_t base)
{
	for (int i = 0; i < 100000 && !(inb(base + LSR) & 0x40); i++)
		__asm__ __volatile__("pause");
}

int serial_getc(uint16_t base)
{
	if (!(inb(base + LSR) & LSR_DR))
		return -1;
	return inb(base + RBR);
}

void serial_enable_rx_irq(uint16_t base)
{
	while (inb(base + LSR) & LSR_DR)
		inb(base + RBR); /* drop what arrived before anyone listened */
	outb(base + IER, 0x01);
}

void serial_set_rx_irq(uint16_t base, bool on)
{
	outb(base + IER, on ? 0x01 : 0x00);
}
