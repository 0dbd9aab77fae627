// Topic name and filter rules (§4.7).

/** Why `topic` is not a valid PUBLISH topic name, or undefined when it is. */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'topic name is empty [MQTT-4.7.3-1]';
  if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) return `topic name ${JSON.stringify(topic)} holds a wildcard [MQTT-3.3.2-2]`;
  return undefined;
}

/** Why `filter` is not a valid subscription filter, or undefined when it is. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'topic filter is empty [MQTT-4.7.3-1]';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.indexOf('#') >= 0 && (level !== '#' || i !== levels.length - 1)) {
      return `'#' must be a whole last level in ${JSON.stringify(filter)} [MQTT-4.7.1-2]`;
    }
    if (level.indexOf('+') >= 0 && level !== '+') return `'+' must be a whole level in ${JSON.stringify(filter)} [MQTT-4.7.1-3]`;
  }
  return undefined;
}

/** Whether topic name `topic` matches subscription `filter`; `$`-topics never match a leading wildcard (§4.7.2). */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.charCodeAt(0) === 0x24 && (filter[0] === '+' || filter[0] === '#')) return false;
  let f = 0;
  let t = 0;
  while (f < filter.length) {
    const c = filter[f];
    if (c === '#') return true;
    if (c === '+') {
      while (t < topic.length && topic[t] !== '/') t++;
      f++;
    } else {
      if (t >= topic.length || topic[t] !== c) {
        // "a/#" also matches "a" (§4.7.1.2).
        return t === topic.length && filter.slice(f) === '/#';
      }
      f++;
      t++;
    }
  }
  return t === topic.length;
}
