/* The page-fault handler: demand paging for the application, -EFAULT for bad
 * user pointers in the kernel's uaccess routines, a report for the rest. */
#include <uvm/uvm.h>
#include <uaccess/uaccess.h>
#include <arch/cpu.h>
#include <arch/memlayout.h>
#include <init/initcall.h>

void (*uvm_user_fault_hook)(struct trap_frame *tf, uintptr_t addr, int si_code);

static void page_fault(struct trap_frame *tf)
{
	uintptr_t addr = read_cr2();

	/* Filling a page may read a file, which sleeps: run with interrupts on
	 * when the faulting context had them on (the gate turned them off). */
	if (addr < USER_TOP) {
		bool irqs_were_on = tf->rflags & RFLAGS_IF;
		if (irqs_were_on)
			irq_enable();
		bool ok = uvm_handle_fault(addr, tf->error);
		if (irqs_were_on)
			irq_disable();
		if (ok)
			return;
	}
	if (trap_from_user(tf)) {
		int code = (tf->error & 1) ? SEGV_ACCERR : SEGV_MAPERR;
		if (uvm_user_fault_hook) {
			uvm_user_fault_hook(tf, addr, code);
			return;
		}
		trap_fatal(tf);
	}
	if (addr < USER_TOP && uaccess_fixup(tf))
		return;
	trap_fatal(tf);
}

static int uvm_init(void)
{
	trap_set_handler(T_PF, page_fault);
	return 0;
}

INITCALL(INIT_CORE, uvm_init);
