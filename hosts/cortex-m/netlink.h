/*
 * The link between the firmware image and its network co-processor: framed messages over the CMSDK UART1
 * (a QEMU chardev to hosts/cortex-m/bridge.ts here; a Wi-Fi or Ethernet module's UART on a board).
 * docs/firmware.md#the-network-co-processor-link has the protocol in full; `LINK` in hosts/cortex-m/bridge.ts
 * mirrors these numbers for the bridge.
 *
 * Frame: 0xA5 | type u8 | channel u8 | length u16 LE | payload | CRC-16/CCITT-FALSE u16 LE over type..payload.
 */
#ifndef NETLINK_H
#define NETLINK_H

#include <stdint.h>

#define LINK_SYNC 0xA5u
#define LINK_VERSION 1u
#define LINK_HEADER 5u
#define LINK_MAX_PAYLOAD 1024u /* either way; CERT frames may be longer (LINK_MAX_CERT) */
#define LINK_MAX_CERT 4096u

/* Board -> co-processor */
#define LINK_HELLO 0x01        /* u8 version, u32 rx ring bytes (the link window), u32 socket window */
#define LINK_LINK_CREDIT 0x02  /* u32: ring bytes the board consumed since the last one */
#define LINK_OPEN 0x10         /* channel = socket; "key=value\n" lines: host, port, tls, sni, alpn, ca, cert, key */
#define LINK_DATA 0x11         /* channel = socket; bytes for the peer */
#define LINK_CLOSE 0x12        /* channel = socket */
#define LINK_CREDIT 0x13       /* channel = socket; u32 bytes the application read (the window reopens) */
#define LINK_CERT 0x14         /* name NUL DER: a certificate or key the co-processor keeps by name */
#define LINK_RANDOM_REQUEST 0x20 /* u16 count */
#define LINK_CONFIG_REQUEST 0x21 /* the device's provisioning record, kept by the co-processor */
#define LINK_AUDIO_OUT 0x31    /* one 20 ms frame, 640 bytes of 16-bit little-endian PCM */
#define LINK_AUDIO_IN_START 0x32
#define LINK_AUDIO_IN_STOP 0x33
#define LINK_AUDIO_OUT_FLUSH 0x34 /* the speaker stops now: the co-processor drops the frames it holds (AUDIO_FLUSHED) */

/* Co-processor -> board */
#define LINK_OPENED 0x90       /* channel; u32 send window (bytes the board may have unacknowledged) */
#define LINK_PEER_DATA 0x91    /* channel; bytes from the peer, within the socket window */
#define LINK_CLOSED 0x92       /* channel; UTF-8 reason (empty: the peer closed) */
#define LINK_SENT 0x93         /* channel; u32 bytes the co-processor passed on (the send window reopens) */
#define LINK_RANDOM 0xA0       /* bytes from the co-processor's random source */
#define LINK_CONFIG 0xA1       /* a piece of the provisioning record (UTF-8 JSON); an empty one ends it */
#define LINK_AUDIO_IN 0xB0     /* one 20 ms microphone frame */
#define LINK_AUDIO_PLAYED 0xB1 /* u16 frames played (the speaker window reopens) */
#define LINK_AUDIO_FLUSHED 0xB2 /* u16 frames AUDIO_OUT_FLUSH dropped (they reopen the window as played ones do) */
#define LINK_EVENT 0xC0        /* UTF-8 board event, e.g. "button tap" */

#define LINK_AUDIO_FRAME_BYTES 640u
/* Frames the co-processor's speaker buffer holds: 200 ms, so a stall of the board or of the co-processor shorter than
   that costs no underrun (4 frames, 80 ms, ran dry on the emulator under load: a tone lost 2 of its 60 frames). */
#define LINK_SPEAKER_FRAMES 10u

/* RX ring of the UART (filled by the RX interrupt), and each socket's readable window. */
#define LINK_RX_RING 8192u
#define LINK_SOCKET_WINDOW 8192u
#define LINK_CHANNELS 8u

uint16_t link_crc16(uint16_t crc, const uint8_t* data, uint32_t length);
void UART1_RX_Handler(void);

#endif
