/*
 * The board layer of the firmware image on QEMU's mps2-an500: console on the CMSDK UART0, SysTick clock,
 * newlib's system calls, QEMU semihosting (command line, host time, exit status), the fault report and the
 * exit report. Everything above it is the platform layer xsrun uses too (hosts/xs: xr_platform.c,
 * xr_host.c, xr_alloc.c, main.c), so the image runs `main()` with the same options as xsrun.
 *
 * The command line comes from QEMU (`-append`, read with semihosting SYS_GET_CMDLINE); without one the
 * image runs BOARD_DEFAULT_ARGS. A real board has no semihosting: it runs its default arguments, takes wall
 * time from its RTC and resets or halts at exit (docs/firmware.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include "board.h"
#include "xr_host.h"
#include "xr_runner.h"

#ifndef BOARD_DEFAULT_ARGS
#define BOARD_DEFAULT_ARGS ""
#endif

int main(int argc, char** argv);

/* Semihosting (ARM "Semihosting for AArch32 and AArch64", v2): QEMU answers BKPT 0xAB. */
#define SYS_GET_CMDLINE 0x15
#define SYS_TIME 0x11
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

int board_semihost(int operation, void* argument)
{
	register int r0 __asm("r0") = operation;
	register void* r1 __asm("r1") = argument;
	__asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

/* Console */

void board_putc(char c)
{
	while (UART0_STATE & UART_STATE_TX_FULL)
		;
	UART0_DATA = (uint32_t)(unsigned char)c;
}

void board_puts(const char* text)
{
	while (*text)
		board_putc(*text++);
}

void board_put_hex(uint32_t value)
{
	int shift;
	board_puts("0x");
	for (shift = 28; shift >= 0; shift -= 4)
		board_putc("0123456789abcdef"[(value >> shift) & 0xF]);
}

void board_put_unsigned(uint32_t value)
{
	char digits[11];
	int count = 0;
	do {
		digits[count++] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	while (count)
		board_putc(digits[--count]);
}

/* Clock: the MPS2 FPGA's counters, which QEMU reads from virtual time. Counting SysTick interrupts instead
   loses time: the periods QEMU delivers late on a loaded host pend SysTick once for several of them; the
   image's clock ran at a half to a third of real time, so a voice timer's alert rang tens of seconds late. The 100 Hz counter gives the time (32 bits: 497 days) and the 25 MHz cycle counter (32 bits, wraps
   every 171 s) the fraction: the wraps of the cycle counter are those the 100 Hz one implies. No state, so no
   reading can be missed. SysTick still interrupts every millisecond to wake `wfi`. */

#define SYSTICK_RELOAD (BOARD_SYSCLK_HZ / 1000u - 1u)
#define CYCLES_PER_CENTISECOND (BOARD_SYSCLK_HZ / 100u)
static uint32_t board_epoch_seconds;

void SysTick_Handler(void)
{
}

double xrClockMs(void)
{
	uint32_t centiseconds = FPGAIO_CLK100HZ;
	uint32_t cycles = FPGAIO_COUNTER;
	int64_t estimate = (int64_t)centiseconds * CYCLES_PER_CENTISECOND;
	int64_t full = (estimate & ~(int64_t)0xFFFFFFFF) | cycles;
	/* The cycle counter is within a centisecond of the estimate: take the wrap that puts it there. */
	if (full - estimate > (int64_t)0x80000000)
		full -= (int64_t)0x100000000;
	else if (estimate - full > (int64_t)0x80000000)
		full += (int64_t)0x100000000;
	return (double)full / (double)(BOARD_SYSCLK_HZ / 1000u);
}

void xrSleepMs(double ms)
{
	double until = xrClockMs() + ms;
	while (xrClockMs() < until)
		__asm volatile("wfi");
}

void board_init(void)
{
	UART0_BAUDDIV = BOARD_SYSCLK_HZ / 115200u;
	UART0_CTRL = UART_CTRL_TX_ENABLE | UART_CTRL_RX_ENABLE;
	SYST_RVR = SYSTICK_RELOAD;
	SYST_CVR = 0;
	SYST_CSR = 7; /* enable, interrupt, processor clock */
	FPGAIO_PRESCALE = 0; /* the cycle counter counts every cycle */
}

/* newlib system calls */

/* The heap is RAM's, except in a preparation run (prepared.c), which moves it into the prepared region. */
char* board_heap_start = __heap_start;
char* board_heap_end = __heap_end;
static char* board_break = __heap_start;
static char* board_break_peak = __heap_start;
static uint32_t board_heap_refusals = 0;

void board_move_heap(char* start, char* end)
{
	board_heap_start = board_break = board_break_peak = start;
	board_heap_end = end;
}

char* board_heap_break(void)
{
	return board_break;
}

void* _sbrk(ptrdiff_t increment)
{
	char* previous = board_break;
	if (increment > board_heap_end - board_break || increment < board_heap_start - board_break) {
		board_heap_refusals++;
		errno = ENOMEM;
		return (void*)-1;
	}
	board_break += increment;
	if (board_break_peak < board_break)
		board_break_peak = board_break;
	return previous;
}

int _write(int file, const char* data, int length)
{
	int i;
	if (file != 1 && file != 2) {
		errno = EBADF;
		return -1;
	}
	for (i = 0; i < length; i++)
		board_putc(data[i]);
	return length;
}

int _read(int file, char* data, int length)
{
	return 0;
}

int _open(const char* path, int flags, int mode)
{
	errno = ENOENT; /* no file system: modules come from the bundle in flash */
	return -1;
}

int _close(int file)
{
	return -1;
}

int _fstat(int file, struct stat* status)
{
	status->st_mode = S_IFCHR;
	return 0;
}

int _isatty(int file)
{
	return file >= 0 && file <= 2;
}

int _lseek(int file, int offset, int whence)
{
	return 0;
}

int _getpid(void)
{
	return 1;
}

int _kill(int pid, int signal)
{
	errno = EINVAL;
	return -1;
}

/* Wall time for Date: the host's clock read once at boot (semihosting SYS_TIME), plus the FPGA counters. */
int _gettimeofday(struct timeval* time, void* zone)
{
	double ms = xrClockMs();
	uint32_t seconds = (uint32_t)(ms / 1000.0);
	time->tv_sec = (time_t)board_epoch_seconds + seconds;
	time->tv_usec = (suseconds_t)((ms - (double)seconds * 1000.0) * 1000.0);
	return 0;
}

/* Exit: one report line, then QEMU's exit status through semihosting. */

static void report_bytes(const char* name, uint32_t value)
{
	board_putc(' ');
	board_puts(name);
	board_putc('=');
	board_put_unsigned(value);
}

void board_exit(int code)
{
	uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code };
	uint32_t stack = (uint32_t)(__stack_top - __stack_bottom);
	uint32_t handlerStack = (uint32_t)(__handler_stack_top - __handler_stack_bottom);
	/* A comment line for TAP readers, fields for bench/cortex-m-figures.ts. */
	board_puts("# board: exit");
	report_bytes("code", (uint32_t)code);
	report_bytes("ram", (uint32_t)RAM_SIZE);
	report_bytes("static", (uint32_t)((char*)__bss_end - (char*)__data_start));
	report_bytes("heap", (uint32_t)(board_heap_end - board_heap_start));
	report_bytes("heap_peak", (uint32_t)(board_break_peak - board_heap_start));
	report_bytes("heap_refused", board_heap_refusals);
	report_bytes("stack", stack);
	report_bytes("stack_peak", stack - board_unused_bytes(__stack_bottom, __stack_top));
	report_bytes("handler_stack", handlerStack);
	report_bytes("handler_stack_peak", handlerStack - board_unused_bytes(__handler_stack_bottom, __handler_stack_top));
	board_putc('\n');
	board_semihost(SYS_EXIT_EXTENDED, block);
	/* Without SYS_EXIT_EXTENDED: success or failure only. */
	board_semihost(SYS_EXIT, (void*)(code == 0 ? ADP_STOPPED_APPLICATION_EXIT : 0));
	for (;;)
		__asm volatile("wfi");
}

void _exit(int code)
{
	board_exit(code);
}

/* Faults: name, registers, and the stack overflow said in words when it is one. */

void board_fault(uint32_t* frame, uint32_t excReturn)
{
	uint32_t ipsr, psp;
	uint32_t cfsr = SCB_CFSR, hfsr = SCB_HFSR, mmfar = SCB_MMFAR, bfar = SCB_BFAR;
	int stacked = !(cfsr & (CFSR_MSTKERR | CFSR_STKERR));
	static const char* const names[] = { "thread", "reset", "NMI", "HardFault", "MemManage fault", "BusFault", "UsageFault" };
	__asm volatile("mrs %0, ipsr" : "=r"(ipsr));
	__asm volatile("mrs %0, psp" : "=r"(psp));
	ipsr &= 0x1FF;
	board_puts("\n# board: ");
	if (ipsr < 7)
		board_puts(names[ipsr]);
	else {
		board_puts("unexpected exception ");
		board_put_unsigned(ipsr);
	}
	if (((cfsr & CFSR_MMARVALID) && mmfar >= (uint32_t)__stack_guard && mmfar < (uint32_t)__stack_bottom)
			|| ((cfsr & CFSR_MSTKERR) && psp <= (uint32_t)__stack_bottom + 32)) {
		board_puts(": C stack overflow: the program's stack (STACK_SIZE ");
		board_put_unsigned((uint32_t)STACK_SIZE);
		board_puts(" bytes) reached its guard at ");
		board_put_hex((uint32_t)__stack_guard);
		board_puts("; build with a larger STACK_SIZE");
	}
	else if ((cfsr & CFSR_MMARVALID) && mmfar < 0x00400000u)
		board_puts(": write to flash (read-only)");
	board_puts("\n# board: CFSR ");
	board_put_hex(cfsr);
	board_puts(" HFSR ");
	board_put_hex(hfsr);
	if (cfsr & CFSR_MMARVALID) {
		board_puts(" MMFAR ");
		board_put_hex(mmfar);
	}
	if (cfsr & CFSR_BFARVALID) {
		board_puts(" BFAR ");
		board_put_hex(bfar);
	}
	board_puts(" PSP ");
	board_put_hex(psp);
	if (stacked) {
		board_puts(" PC ");
		board_put_hex(frame[6]);
		board_puts(" LR ");
		board_put_hex(frame[5]);
	}
	board_puts(" EXC_RETURN ");
	board_put_hex(excReturn);
	board_putc('\n');
	board_exit(BOARD_EXIT_FAULT);
}

/* The program: main() of hosts/xs/main.c with QEMU's command line, on the C stack. */

static int split(char* line, char** argv, int capacity)
{
	int argc = 0;
	char* cursor = line;
	while (*cursor && argc < capacity - 1) {
		while (*cursor == ' ')
			*cursor++ = 0;
		if (!*cursor)
			break;
		argv[argc++] = cursor;
		while (*cursor && *cursor != ' ')
			cursor++;
	}
	argv[argc] = NULL;
	return argc;
}

void board_main(void)
{
	static char line[1024];
	static char defaults[] = BOARD_DEFAULT_ARGS;
	static char* argv[64];
	struct { char* buffer; int length; } request = { line, sizeof(line) };
	char here;
	int argc;
	board_epoch_seconds = (uint32_t)board_semihost(SYS_TIME, NULL);
	if (board_semihost(SYS_GET_CMDLINE, &request) != 0)
		line[0] = 0;
	/* QEMU puts the kernel's file name first, then -append's text. */
	argc = split(line, argv, 64);
	argc = board_prepare_option(argc, argv);
	if (argc == 0)
		argv[argc++] = "firmware";
	if (argc == 1)
		argc += split(defaults, argv + 1, 63);
	/* The engine's stack check (fxCStackLimit) sits BOARD_C_STACK_MARGIN above the guard. */
	xrRun.cStackBytes = (size_t)(&here - __stack_bottom) - BOARD_C_STACK_MARGIN;
	exit(main(argc, argv));
}
