/* The page-fault handler: demand paging for the application, -EFAULT for bad
 * user pointers in the kernel's uaccess routines, a report for the rest. */
#include <uvm/uvm.h>
#include <uaccess/uaccess.h>
#include <arch/cpu.h>
#include <arch/memlayout.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <lib/panic.h>

void (*uvm_user_fault_hook)(struct trap_frame *tf, uintptr_t addr, int si_code);

static void __noreturn kernel_fault(struct trap_frame *tf, uintptr_t addr)
{
	panic_begin();
	printk_raw("osvb: kernel exception #PF page fault (vector 14) at rip %016lx, error %#lx\n", tf->rip,
		   tf->error);
	printk_raw("  page fault at %016lx: %s %s, %s mode%s\n", addr,
		   (tf->error & 1) ? "protection violation" : "page not present",
		   (tf->error & 16) ? "on instruction fetch" : (tf->error & 2) ? "on write" : "on read",
		   (tf->error & 4) ? "user" : "kernel", addr < 4096 ? " (NULL pointer)" : "");
	trap_dump(tf);
	panic_end("fatal exception %s", trap_name(T_PF));
}

static void page_fault(struct trap_frame *tf)
{
	uintptr_t addr = read_cr2();

	if (addr < USER_TOP && uvm_handle_fault(addr, tf->error))
		return;
	if (trap_from_user(tf)) {
		int code = (tf->error & 1) ? SEGV_ACCERR : SEGV_MAPERR;
		if (uvm_user_fault_hook) {
			uvm_user_fault_hook(tf, addr, code);
			return;
		}
		kernel_fault(tf, addr);
	}
	if (addr < USER_TOP && uaccess_fixup(tf))
		return;
	kernel_fault(tf, addr);
}

static int uvm_init(void)
{
	trap_set_handler(T_PF, page_fault);
	return 0;
}

INITCALL(INIT_CORE, uvm_init);
