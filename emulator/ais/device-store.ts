// What the service remembers of each device across its own restarts: the capabilities the device published
// (a device publishes them once, after its first connection, and may never again: §4.2) and its last
// SynchronizeState. In memory without a path; with one, a JSON file written crash-safely on each change.
import { readJsonFile, writeJsonFileAtomic } from '../json-file.js';

export interface StoredDevice {
  capabilities?: Record<string, unknown>[];
  synchronizedState?: Record<string, unknown>;
}

const VERSION = 1;

export class DeviceStore {
  private readonly devices = new Map<string, StoredDevice>();

  constructor(private readonly path?: string) {
    if (!path) return;
    const stored = readJsonFile(path) as { version?: unknown; devices?: Record<string, StoredDevice> } | undefined;
    if (stored === undefined) return;
    if (stored.version !== VERSION || typeof stored.devices !== 'object' || stored.devices === null) {
      throw new Error(`${path}: version ${VERSION} with a devices object expected; move the file away to start afresh`);
    }
    for (const [id, device] of Object.entries(stored.devices)) this.devices.set(id, device);
  }

  get(clientId: string): StoredDevice | undefined {
    return this.devices.get(clientId);
  }

  update(clientId: string, change: StoredDevice): void {
    this.devices.set(clientId, { ...this.devices.get(clientId), ...change });
    if (this.path) writeJsonFileAtomic(this.path, { version: VERSION, devices: Object.fromEntries(this.devices) });
  }
}
