/* Finds the RSDP (from the loader, else the EBDA and BIOS area scan), walks
 * the XSDT (or RSDT) and keeps a mapped pointer to every valid table. Table
 * contents come from firmware and are checked: lengths are bounded and
 * checksums must match. */
#include <acpi/acpi.h>
#include <acpi/tables.h>
#include <boot/boot_info.h>
#include <console/printk.h>
#include <lib/string.h>
#include <mm/vmap.h>

#define MAX_TABLES 64
#define MAX_TABLE_LEN (4u << 20)

struct rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	/* revision >= 2 */
	uint32_t length;
	uint64_t xsdt;
	uint8_t xchecksum;
	uint8_t reserved[3];
} __packed;

static paddr_t rsdp_pa;
static const struct acpi_header *tables[MAX_TABLES];
static unsigned ntables;

static uint8_t sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return s;
}

static paddr_t scan(paddr_t start, size_t len)
{
	for (paddr_t pa = start; pa + 20 <= start + len; pa += 16) {
		const struct rsdp *r = phys_to_virt(pa);
		if (!memcmp(r->signature, "RSD PTR ", 8) && sum(r, 20) == 0)
			return pa;
	}
	return 0;
}

static const struct acpi_header *map_table(paddr_t pa)
{
	if (!pa)
		return NULL;
	const struct acpi_header *h = memremap(pa, sizeof(*h));
	if (!h)
		return NULL;
	uint32_t len = h->length;
	iounmap((void *)h, sizeof(*h));
	if (len < sizeof(*h) || len > MAX_TABLE_LEN)
		return NULL;
	h = memremap(pa, len);
	if (!h)
		return NULL;
	if (sum(h, len) != 0) {
		printk(LOG_WARN, "acpi: table %.4s at %#lx has a bad checksum; ignored\n", h->signature,
		       (unsigned long)pa);
		iounmap((void *)h, len);
		return NULL;
	}
	return h;
}

static void add(const struct acpi_header *h)
{
	if (h && ntables < MAX_TABLES)
		tables[ntables++] = h;
}

void acpi_init(void)
{
	rsdp_pa = boot_info.rsdp;
	if (!rsdp_pa) {
		paddr_t ebda = (paddr_t)(*(uint16_t *)phys_to_virt(0x40e)) << 4;
		if (ebda >= 0x80000 && ebda < 0xa0000)
			rsdp_pa = scan(ebda, 1024);
		if (!rsdp_pa)
			rsdp_pa = scan(0xe0000, 0x20000);
	}
	if (!rsdp_pa) {
		printk(LOG_INFO, "acpi: no RSDP; the platform has no ACPI tables\n");
		return;
	}
	const struct rsdp *r = memremap(rsdp_pa, sizeof(*r));
	if (!r)
		return;
	const struct acpi_header *root;
	unsigned esize;
	if (r->revision >= 2 && r->xsdt && sum(r, sizeof(*r)) == 0) {
		root = map_table(r->xsdt);
		esize = 8;
	} else {
		root = map_table(r->rsdt);
		esize = 4;
	}
	iounmap((void *)r, sizeof(*r));
	if (!root) {
		printk(LOG_WARN, "acpi: unusable RSDT/XSDT\n");
		return;
	}
	const uint8_t *e = (const uint8_t *)(root + 1);
	unsigned n = (root->length - sizeof(*root)) / esize;
	for (unsigned i = 0; i < n; i++) {
		uint64_t pa = esize == 8 ? *(const uint64_t *)(e + 8 * i) : *(const uint32_t *)(e + 4 * i);
		const struct acpi_header *h = map_table(pa);
		add(h);
		/* The DSDT is reached through the FADT, not the root table. */
		if (h && !memcmp(h->signature, "FACP", 4) && h->length >= 44) {
			const struct acpi_fadt *f = (const void *)h;
			uint64_t dsdt = h->length >= 148 && f->x_dsdt ? f->x_dsdt : f->dsdt;
			add(map_table(dsdt));
		}
	}
	printk(LOG_INFO, "acpi: RSDP at %#lx, %u tables\n", (unsigned long)rsdp_pa, ntables);
}

const struct acpi_header *acpi_find_table(const char *sig, unsigned n)
{
	for (unsigned i = 0; i < ntables; i++)
		if (!memcmp(tables[i]->signature, sig, 4) && n-- == 0)
			return tables[i];
	return NULL;
}

paddr_t acpi_rsdp(void)
{
	return rsdp_pa;
}
