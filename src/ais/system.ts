// The System namespace's device-side pieces that are not the connection's (docs/protocol.md §4.3, §6): the
// System capability with the firmware version, and the SynchronizeState payload gathered from the components.
// The connection itself handles RotateSecret/SecretRotated, Exception, ExceptionEncountered and sends
// SynchronizeState first on every connection (src/ais/connection.ts).

/** What the System capability declares (§6): SDK 1.0 with a single `locale`. */
export interface SystemInfo {
  /** mqtt.message.maxSizeInBytes: the largest MQTT payload either side sends. */
  maxMessageBytes: number;
  /** The software/firmware version the service sees. */
  firmwareVersion: string;
  locale: string;
}

export function systemCapability(info: SystemInfo): Record<string, unknown> {
  if (typeof info?.firmwareVersion !== 'string' || info.firmwareVersion === '') throw new TypeError('systemCapability needs a non-empty firmwareVersion');
  if (!Number.isInteger(info.maxMessageBytes) || info.maxMessageBytes <= 0) throw new RangeError(`maxMessageBytes expected a positive integer, got ${info.maxMessageBytes}`);
  return {
    type: 'AisInterface', interface: 'System', version: '1.0',
    configurations: { mqtt: { message: { maxSizeInBytes: info.maxMessageBytes } }, firmwareVersion: info.firmwareVersion, locale: info.locale },
  };
}

/**
 * SynchronizeState {speaker?: {volume}, alerts: {allAlerts: [token, …]}} (§4.3, ESP#96). Without a speaker the
 * `speaker` part is left out, as NXP does on first boot so that the cloud's volume wins.
 */
export function synchronizeStatePayload(volume: number | undefined, allAlerts: string[]): Record<string, unknown> {
  const alerts = { allAlerts };
  return volume === undefined ? { alerts } : { speaker: { volume }, alerts };
}
