/*
 * The board under the firmware image: QEMU's mps2-an500 (ARM MPS2 with the AN500 FPGA image, a Cortex-M7
 * with a double-precision FPU). Registers of the core (SCB, SysTick, MPU: ARMv7-M Architecture Reference
 * Manual) and of the CMSDK APB UART (ARM Cortex-M System Design Kit Technical Reference Manual).
 * docs/firmware.md says what a real board changes.
 */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

/* The clock SysTick counts: QEMU's MPS2 machines run the core at 25 MHz. */
#ifndef BOARD_SYSCLK_HZ
#define BOARD_SYSCLK_HZ 25000000u
#endif

/* Bytes of C stack kept below the engine's stack check (fxCStackLimit) for the C that runs past it:
   host functions, newlib's printf and malloc, the garbage collector. */
#ifndef BOARD_C_STACK_MARGIN
#define BOARD_C_STACK_MARGIN 4096u
#endif

/* Status codes of the image as QEMU's exit code (besides xsrun's own: 0 pass, 1 fail, 2 XS abort). */
#define BOARD_EXIT_FAULT 3

#define REG32(address) (*(volatile uint32_t*)(address))

/* System control block */
#define SCB_ICSR REG32(0xE000ED04)
#define SCB_CCR REG32(0xE000ED14)
#define SCB_SHCSR REG32(0xE000ED24)
#define SCB_CFSR REG32(0xE000ED28)
#define SCB_HFSR REG32(0xE000ED2C)
#define SCB_MMFAR REG32(0xE000ED34)
#define SCB_BFAR REG32(0xE000ED38)
#define SCB_CPACR REG32(0xE000ED88)
#define SHCSR_MEMFAULTENA (1u << 16)
#define SHCSR_BUSFAULTENA (1u << 17)
#define SHCSR_USGFAULTENA (1u << 18)
#define CFSR_MSTKERR (1u << 4)
#define CFSR_MMARVALID (1u << 7)
#define CFSR_STKERR (1u << 12)
#define CFSR_BFARVALID (1u << 15)

/* SysTick */
#define SYST_CSR REG32(0xE000E010)
#define SYST_RVR REG32(0xE000E014)
#define SYST_CVR REG32(0xE000E018)

/* MPS2 FPGA IO: a 100 Hz counter and a cycle counter at the system clock, with a prescaler (0: every cycle) */
#define FPGAIO_CLK100HZ REG32(0x40028014)
#define FPGAIO_COUNTER REG32(0x40028018)
#define FPGAIO_PRESCALE REG32(0x4002801C)

/* MPU (PMSAv7) */
#define MPU_CTRL REG32(0xE000ED94)
#define MPU_RNR REG32(0xE000ED98)
#define MPU_RBAR REG32(0xE000ED9C)
#define MPU_RASR REG32(0xE000EDA0)
#define MPU_CTRL_ENABLE 1u
#define MPU_CTRL_PRIVDEFENA 4u
#define MPU_RASR_ENABLE 1u
#define MPU_RASR_SIZE(log2bytes) (((log2bytes) - 1u) << 1)
#define MPU_RASR_AP_NONE (0u << 24)
#define MPU_RASR_AP_READ_ONLY (6u << 24)
#define MPU_RASR_AP_FULL (3u << 24)
#define MPU_RASR_XN (1u << 28)
#define MPU_RASR_NORMAL_WT (1u << 17) /* TEX 0, C 1, B 0: normal memory, write-through */

/* CMSDK APB UART0: the console */
#define UART0_BASE 0x40004000u
#define UART0_DATA REG32(UART0_BASE + 0x00)
#define UART0_STATE REG32(UART0_BASE + 0x04)
#define UART0_CTRL REG32(UART0_BASE + 0x08)
#define UART0_BAUDDIV REG32(UART0_BASE + 0x10)
#define UART_STATE_TX_FULL 1u
#define UART_CTRL_TX_ENABLE 1u
#define UART_CTRL_RX_ENABLE 2u

/* From the linker script (link.ld) */
extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern char __heap_start[], __heap_end[], __stack_guard[], __stack_bottom[], __stack_top[];
extern char __handler_stack_bottom[], __handler_stack_top[], __ram_end[];
extern char RAM_SIZE[], STACK_SIZE[];
extern char __prep_start[], __prep_end[];

/* board.c */
void board_init(void);
void board_main(void) __attribute__((noreturn));
void board_putc(char c);
void board_puts(const char* text);
void board_put_hex(uint32_t value);
void board_put_unsigned(uint32_t value);
void board_fault(uint32_t* frame, uint32_t excReturn) __attribute__((noreturn));
void board_exit(int code) __attribute__((noreturn));
int board_semihost(int operation, void* argument);
void board_move_heap(char* start, char* end);
char* board_heap_break(void);

/* prepared.c: `--prepare <file>` first on the command line makes this run the preparation; returns argc without it. */
int board_prepare_option(int argc, char** argv);

/* startup.c */
#define BOARD_STACK_PAINT 0x5AA5A55Au
/* Bytes of a painted region that were never written since boot (the untouched bottom of a stack). */
uint32_t board_unused_bytes(const char* bottom, const char* top);

#endif
