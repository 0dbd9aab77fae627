// Ogg Opus files (RFC 3533 pages, RFC 7845 OpusHead/OpusTags) from raw Opus packets, so an AIS Opus
// stream (raw packets, no container: docs/protocol.md §5) can be checked with Debian `opusdec` and played
// by people. A minimal writer and a reader for tests; one logical stream, one packet a page at most 255
// segments, no packet spanning pages.

/** Opus granule positions always count 48 kHz samples (RFC 7845 §4). */
export const OPUS_GRANULE_RATE = 48000;

const CRC_TABLE = (() => {
  // RFC 3533 §6: CRC-32, polynomial 0x04c11db7, no reflection, initial value 0, no final xor.
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc;
}

export const HEADER_TYPE_CONTINUED = 0x01;
export const HEADER_TYPE_BOS = 0x02;
export const HEADER_TYPE_EOS = 0x04;

/** One Ogg page holding whole packets (each under 255 × 255 bytes in total). */
export function oggPage(options: { serial: number; sequence: number; granule: bigint; headerType: number; packets: Uint8Array[] }): Uint8Array {
  const lacing: number[] = [];
  for (const p of options.packets) {
    let left = p.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);  // a packet that is a multiple of 255 long ends with a 0 lace
  }
  if (lacing.length > 255) throw new RangeError(`at most 255 lacing values a page expected, got ${lacing.length}`);
  const bodyLength = options.packets.reduce((s, p) => s + p.length, 0);
  const page = new Uint8Array(27 + lacing.length + bodyLength);
  const view = new DataView(page.buffer);
  page.set([0x4f, 0x67, 0x67, 0x53]);  // "OggS"
  page[4] = 0;  // version
  page[5] = options.headerType;
  view.setBigUint64(6, options.granule, true);
  view.setUint32(14, options.serial >>> 0, true);
  view.setUint32(18, options.sequence >>> 0, true);
  view.setUint32(22, 0, true);  // CRC, computed over the page with this field zero
  page[26] = lacing.length;
  page.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const p of options.packets) {
    page.set(p, at);
    at += p.length;
  }
  view.setUint32(22, oggCrc(page), true);
  return page;
}

/** RFC 7845 §5.1 identification header, mapping family 0 (mono or stereo). */
export function opusHead(options: { channels: number; preSkip: number; inputSampleRate: number; outputGainQ8?: number }): Uint8Array {
  const head = new Uint8Array(19);
  const view = new DataView(head.buffer);
  head.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]);  // "OpusHead"
  head[8] = 1;  // version
  head[9] = options.channels;
  view.setUint16(10, options.preSkip, true);
  view.setUint32(12, options.inputSampleRate, true);
  view.setInt16(16, options.outputGainQ8 ?? 0, true);
  head[18] = 0;  // channel mapping family
  return head;
}

/** RFC 7845 §5.2 comment header with a vendor string and no comments. */
export function opusTags(vendor: string): Uint8Array {
  const vendorBytes = new TextEncoder().encode(vendor);
  const tags = new Uint8Array(8 + 4 + vendorBytes.length + 4);
  const view = new DataView(tags.buffer);
  tags.set([0x4f, 0x70, 0x75, 0x73, 0x54, 0x61, 0x67, 0x73]);  // "OpusTags"
  view.setUint32(8, vendorBytes.length, true);
  tags.set(vendorBytes, 12);
  view.setUint32(12 + vendorBytes.length, 0, true);
  return tags;
}

export interface OggOpusOptions {
  /** Samples per packet at 48 kHz: 960 for 20 ms frames. */
  frameSamples48k?: number;
  channels?: number;
  /** Samples (at 48 kHz) the decoder drops at the start: the encoder's lookahead. Default 312 (libopus at 16 kHz: 104 × 3). */
  preSkip?: number;
  /** The rate the audio had before encoding, for the decoder's output choice. Default 16000. */
  inputSampleRate?: number;
  /** Stream serial number. Default 0x41495321 ("AIS!"). */
  serial?: number;
  /** Packets per page. Default 50 (one second of 20 ms frames). */
  packetsPerPage?: number;
  /** Samples of the last packet that are padding, at 48 kHz: the end trim (RFC 7845 §4.5). Default 0. */
  endTrim?: number;
}

/** An Ogg Opus file of `packets` (raw Opus packets, one frame each, of `frameSamples48k`). */
export function oggOpusFile(packets: readonly Uint8Array[], options: OggOpusOptions = {}): Uint8Array {
  const frame = options.frameSamples48k ?? 960;
  const preSkip = options.preSkip ?? 312;
  const serial = options.serial ?? 0x41495321;
  const perPage = options.packetsPerPage ?? 50;
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 255) throw new RangeError(`packetsPerPage expected in 1..255, got ${perPage}`);
  const pages: Uint8Array[] = [];
  let sequence = 0;
  const head = opusHead({ channels: options.channels ?? 1, preSkip, inputSampleRate: options.inputSampleRate ?? 16000 });
  pages.push(oggPage({ serial, sequence: sequence++, granule: 0n, headerType: HEADER_TYPE_BOS, packets: [head] }));
  pages.push(oggPage({ serial, sequence: sequence++, granule: 0n, headerType: 0, packets: [opusTags('ais-mcu virtual device')] }));
  let granule = 0n;
  for (let i = 0; i < packets.length; i += perPage) {
    const group = packets.slice(i, i + perPage);
    granule += BigInt(group.length * frame);
    const last = i + perPage >= packets.length;
    // The last page's granule position is the playable end: pre-skip included, end trim removed.
    const position = last ? granule - BigInt(options.endTrim ?? 0) : granule;
    pages.push(oggPage({ serial, sequence: sequence++, granule: position, headerType: last ? HEADER_TYPE_EOS : 0, packets: group }));
  }
  if (packets.length === 0) pages.push(oggPage({ serial, sequence: sequence++, granule: 0n, headerType: HEADER_TYPE_EOS, packets: [] }));
  const out = new Uint8Array(pages.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of pages) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface OggPageInfo {
  headerType: number;
  granule: bigint;
  serial: number;
  sequence: number;
  packets: Uint8Array[];
}

/** Reads the pages of an Ogg file, checking each CRC; packets spanning pages are joined to the later page. */
export function readOggPages(file: Uint8Array): OggPageInfo[] {
  const pages: OggPageInfo[] = [];
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let at = 0;
  let partial: Uint8Array[] = [];
  while (at < file.length) {
    if (at + 27 > file.length || view.getUint32(at, false) !== 0x4f676753) throw new RangeError(`an Ogg page ("OggS") expected at byte ${at}`);
    const count = file[at + 26]!;
    const lacing = file.subarray(at + 27, at + 27 + count);
    const bodyLength = lacing.reduce((s, v) => s + v, 0);
    const end = at + 27 + count + bodyLength;
    if (end > file.length) throw new RangeError(`a page of ${end - at} bytes expected at byte ${at}, the file ends first`);
    const page = file.slice(at, end);
    const stored = new DataView(page.buffer).getUint32(22, true);
    page.fill(0, 22, 26);
    const computed = oggCrc(page);
    if (stored !== computed) throw new RangeError(`page ${pages.length} CRC 0x${computed.toString(16)} expected, got 0x${stored.toString(16)}`);
    const packets: Uint8Array[] = [];
    let body = at + 27 + count;
    let start = body;
    for (const lace of lacing) {
      body += lace;
      if (lace < 255) {
        partial.push(file.subarray(start, body));
        const joined = new Uint8Array(partial.reduce((s, p) => s + p.length, 0));
        let o = 0;
        for (const p of partial) {
          joined.set(p, o);
          o += p.length;
        }
        packets.push(joined);
        partial = [];
        start = body;
      }
    }
    if (start < body) partial.push(file.subarray(start, body));
    pages.push({ headerType: file[at + 5]!, granule: view.getBigUint64(at + 6, true), serial: view.getUint32(at + 14, true), sequence: view.getUint32(at + 18, true), packets });
    at = end;
  }
  return pages;
}
