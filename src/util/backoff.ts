// Reconnect backoff with jitter, shared by the MQTT session and the AIS connection.

export interface BackoffOptions {
  minDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay before retry number `attempt` (0-based): between half and all of min(maxDelayMs, minDelayMs * 2^attempt).
 * "Equal jitter": spreads a fleet reconnecting at once, never a zero delay that would hammer a broker.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * Math.pow(2, Math.min(attempt, 30)));
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}

/** A connection must have lasted this long before the backoff starts over, so a peer that accepts and fails at once is not hammered. */
export const STABLE_CONNECTION_MS = 30_000;
