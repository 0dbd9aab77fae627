// AIS topics (docs/protocol.md §2): `<topicRoot>/ais/v1/<clientId>/<leaf>`, one table for both sides.

export type TopicLeaf =
  | 'connection/fromclient' | 'connection/fromservice'
  | 'capabilities/publish' | 'capabilities/acknowledge'
  | 'directive' | 'event' | 'microphone' | 'speaker';

export interface TopicInfo {
  /** Who publishes on it. */
  from: 'device' | 'service';
  /** Carries the encrypted common header (§3.2); connection/* is plaintext. */
  encrypted: boolean;
  /** JSON message objects, or binary stream entries (§3.3). */
  body: 'json' | 'binary';
}

export const TOPICS: Readonly<Record<TopicLeaf, TopicInfo>> = {
  'connection/fromclient': { from: 'device', encrypted: false, body: 'json' },
  'connection/fromservice': { from: 'service', encrypted: false, body: 'json' },
  'capabilities/publish': { from: 'device', encrypted: true, body: 'json' },
  'capabilities/acknowledge': { from: 'service', encrypted: true, body: 'json' },
  directive: { from: 'service', encrypted: true, body: 'json' },
  event: { from: 'device', encrypted: true, body: 'json' },
  microphone: { from: 'device', encrypted: true, body: 'binary' },
  speaker: { from: 'service', encrypted: true, body: 'binary' },
};

export const TOPIC_LEAVES = Object.keys(TOPICS) as TopicLeaf[];

/** What the device subscribes to, before it publishes Connect (§2 "Subscriptions"). */
export const DEVICE_INBOUND: readonly TopicLeaf[] = TOPIC_LEAVES.filter((leaf) => TOPICS[leaf].from === 'service');

export const API_VERSION = 'v1';

/** The common prefix of one device's topics, e.g. `$aws/alexa/ais/v1/thing-1/`. */
export function deviceTopicPrefix(topicRoot: string, clientId: string): string {
  if (clientId === '' || /[/+#]/.test(clientId)) throw new RangeError(`AIS client id must be non-empty without / + #, got ${JSON.stringify(clientId)}`);
  return `${topicRoot}/ais/${API_VERSION}/${clientId}/`;
}

/** Splits a full topic into client id and leaf, or undefined when it is not an AIS device topic under `topicRoot`. */
export function parseDeviceTopic(topicRoot: string, topic: string): { clientId: string; leaf: TopicLeaf } | undefined {
  const head = `${topicRoot}/ais/${API_VERSION}/`;
  if (!topic.startsWith(head)) return undefined;
  const rest = topic.slice(head.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const leaf = rest.slice(slash + 1) as TopicLeaf;
  return TOPICS[leaf] ? { clientId: rest.slice(0, slash), leaf } : undefined;
}
