// AWS IoT's side of a device's identity: certificates made for a thing before, and apart from, AIS registration
// (AWS IoT's CreateKeysAndCertificate, then attached to the thing), as an OEM's factory provisions them. Amazon's C
// client connects to AWS IoT with such a certificate first and registers with AIS afterwards; AIS registration
// never revokes it (only the certificate the emulator issues with a registration is replaced by the next one).
// Kept by SHA-256 only, in DATA_DIR/iot-things.json when there is a data folder.
import { readJsonFile, writeJsonFileAtomic } from './json-file.js';

export const THINGS_FILE = 'iot-things.json';

export class ThingCertificates {
  private readonly attached = new Map<string, string[]>();

  constructor(private readonly path: string | undefined) {
    const stored = path === undefined ? undefined : readJsonFile(path);
    if (stored === undefined) return;
    if (typeof stored !== 'object' || stored === null || Object.values(stored).some((list) => !Array.isArray(list) || list.some((h) => typeof h !== 'string'))) {
      throw new Error(`${path}: {clientId: [certificate SHA-256…]} expected`);
    }
    for (const [clientId, list] of Object.entries(stored as Record<string, string[]>)) this.attached.set(clientId, list);
  }

  /** Attaches a certificate (its hex SHA-256) to a thing. */
  attach(clientId: string, sha256: string): void {
    const next = Object.fromEntries(this.attached);
    next[clientId] = [...(next[clientId] ?? []), sha256];
    if (this.path !== undefined) writeJsonFileAtomic(this.path, next);
    this.attached.set(clientId, next[clientId]!);
  }

  /** Has the thing a certificate of AWS IoT's? */
  provisioned(clientId: string): boolean {
    return this.attached.has(clientId);
  }

  /** Is this certificate attached to the thing? */
  has(clientId: string, sha256: string): boolean {
    return this.attached.get(clientId)?.includes(sha256) ?? false;
  }
}
