/* The hypercall page: Xen writes its stubs here when the guest writes this
 * page's physical address to the MSR that CPUID leaf base+2 names. In the xen
 * platform's text (page-aligned, executable), so freed with it elsewhere. */
	.section .text.xen_hypercall_page, "ax"
	.balign 4096
	.globl xen_hypercall_page
xen_hypercall_page:
	.fill 4096, 1, 0xcc   /* int3 until Xen fills it */
	.size xen_hypercall_page, 4096
