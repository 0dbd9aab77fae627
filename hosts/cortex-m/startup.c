/*
 * Startup of the firmware image: the vector table, the reset handler (RAM, FPU, fault handlers, MPU, the
 * switch to the program's stack) and the fault entry. Our own code, written from the ARMv7-M Architecture
 * Reference Manual.
 *
 * Two stacks: exceptions run on MSP, the handler stack at the top of RAM; the program runs on PSP, the C
 * stack below it. Under the C stack sits a 32-byte MPU region nobody may touch: an overflow faults there,
 * and because the fault handler has a stack of its own it can still say so before the image exits.
 */
#include "board.h"
#include "netlink.h"

void Default_Handler(void);
void Reset_Handler(void) __attribute__((noreturn));
void Fault_Handler(void);
void SysTick_Handler(void);

/* 16 system exceptions, then the AN500's external interrupts: UART1's RX (the co-processor link, netlink.c). */
#define EXTERNAL_IRQS 32

__attribute__((section(".vectors"), used))
static void (* const vectors[16 + EXTERNAL_IRQS])(void) = {
	[0] = (void (*)(void))__handler_stack_top,
	[1] = Reset_Handler,
	[2] = Fault_Handler,       /* NMI */
	[3] = Fault_Handler,       /* HardFault */
	[4] = Fault_Handler,       /* MemManage: the stack guard, writes to flash */
	[5] = Fault_Handler,       /* BusFault */
	[6] = Fault_Handler,       /* UsageFault */
	[11] = Default_Handler,    /* SVCall */
	[12] = Default_Handler,    /* DebugMonitor */
	[14] = Default_Handler,    /* PendSV */
	[15] = SysTick_Handler,
	[16 ... 16 + EXTERNAL_IRQS - 1] = Default_Handler,
	[16 + 2] = UART1_RX_Handler,
};

static void paint(char* bottom, char* top)
{
	uint32_t* word = (uint32_t*)bottom;
	while ((char*)word < top)
		*word++ = BOARD_STACK_PAINT;
}

uint32_t board_unused_bytes(const char* bottom, const char* top)
{
	const uint32_t* word = (const uint32_t*)bottom;
	while ((const char*)word < top && *word == BOARD_STACK_PAINT)
		word++;
	return (uint32_t)((const char*)word - bottom);
}

static void mpu_init(void)
{
	/* Region 0: the 4 MB that stand in for flash are read-only (code, constants, the app bytecode). */
	MPU_RNR = 0;
	MPU_RBAR = 0x00000000u;
	MPU_RASR = MPU_RASR_AP_READ_ONLY | MPU_RASR_NORMAL_WT | MPU_RASR_SIZE(22) | MPU_RASR_ENABLE;
	/* Region 1: the stack guard, no access at all. */
	MPU_RNR = 1;
	MPU_RBAR = (uint32_t)__stack_guard;
	MPU_RASR = MPU_RASR_XN | MPU_RASR_AP_NONE | MPU_RASR_NORMAL_WT | MPU_RASR_SIZE(5) | MPU_RASR_ENABLE;
	/* Everything else keeps the default memory map for privileged code; the fault handlers run unchecked. */
	MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
	__asm volatile("dsb\n\tisb" ::: "memory");
}

/* Runs board_main on PSP from `top`; handler mode keeps MSP. */
__attribute__((naked, noreturn)) static void run_on_program_stack(char* top)
{
	__asm volatile(
		"msr psp, r0\n\t"
		"movs r1, #2\n\t"      /* CONTROL.SPSEL: thread mode uses PSP */
		"msr control, r1\n\t"
		"isb\n\t"
		"bl board_main\n\t"
		"b .\n\t");
}

void Reset_Handler(void)
{
	uint32_t* from = __data_load;
	uint32_t* to = __data_start;
	while (to < __data_end)
		*to++ = *from++;
	for (to = __bss_start; to < __bss_end; to++)
		*to = 0;
	/* CP10 and CP11 (the FPU), full access: the engine is built for -mfloat-abi=hard. */
	SCB_CPACR |= 0xFu << 20;
	__asm volatile("dsb\n\tisb" ::: "memory");
	/* Painted so the exit report can tell how deep each stack went; this handler runs at the top of the
	   handler stack, so that one is painted up to just below its frame. */
	paint(__stack_bottom, __stack_top);
	paint(__handler_stack_bottom, (char*)__builtin_frame_address(0) - 64);
	SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA;
	mpu_init();
	board_init();
	run_on_program_stack(__stack_top);
}

/* Passes the exception frame (on PSP or MSP, as EXC_RETURN says) and EXC_RETURN to board_fault. */
__attribute__((naked)) void Fault_Handler(void)
{
	__asm volatile(
		"tst lr, #4\n\t"
		"ite eq\n\t"
		"mrseq r0, msp\n\t"
		"mrsne r0, psp\n\t"
		"mov r1, lr\n\t"
		"b board_fault\n\t");
}

/* An exception nobody expects (an interrupt left enabled, SVC): reported like a fault, by its number. */
void Default_Handler(void) __attribute__((alias("Fault_Handler")));
