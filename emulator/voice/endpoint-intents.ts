// The assistant's connected-endpoint intents (emulator/voice/assistant.ts holds their phrases): "turn on the
// lamp", "turn off the light ring", "dim the lamp to thirty percent". The answer names the endpoint's action;
// the endpoint service (emulator/ais/endpoints.ts) sends the directive and the device's report sets the state.
// Imports only types from assistant.ts, which imports this module.
import type { Answer, AssistantContext, DialogState, Intent } from './assistant.js';

/** The endpoint names the grammar's `<endpoint>` slot holds: what our device declares (src/app/device.ts). */
export const ENDPOINT_NAMES: readonly string[] = ['lamp', 'light ring'];

/** The endpoint intent of `words`, or undefined: a name's last word ("lamp", "ring") and on, off or a level. */
export function endpointIntent(words: string[], number: number | undefined): Intent | undefined {
  const heads = ENDPOINT_NAMES.map((n) => n.split(' ').at(-1)!);
  if (!words.some((w) => heads.includes(w))) return undefined;
  if (words.some((w) => w === 'dim' || w === 'percent' || w === 'brightness') && number !== undefined) return 'setBrightness';
  if (words.includes('off')) return 'turnOff';
  if (words.includes('on')) return 'turnOn';
  return undefined;
}

/** The name in `words` the device has an endpoint for, longest first ("light ring" before "ring"). */
function endpointNamed(words: string[], context: AssistantContext): string | undefined {
  const text = ` ${words.join(' ')} `;
  const names = (context.endpoints ?? []).map((e) => e.name.toLowerCase()).sort((a, b) => b.length - a.length);
  return names.find((n) => text.includes(` ${n} `)) ?? names.find((n) => text.includes(` ${n.split(' ').at(-1)} `));
}

export function endpointAnswer(intent: Intent, words: string[], number: number | undefined, context: AssistantContext, state: DialogState): Answer {
  const name = endpointNamed(words, context);
  if (!name) return { intent, text: 'Sorry, I could not find that device.', state };
  if (intent === 'setBrightness') {
    if (number === undefined || number > 100) return { intent, text: 'Brightness goes from zero to one hundred percent.', state };
    return { intent, text: `Okay, the ${name} is at ${number} percent.`, state, actions: [{ kind: 'endpoint', name, brightness: number }] };
  }
  const power = intent === 'turnOn';
  return { intent, text: `Okay, the ${name} is ${power ? 'on' : 'off'}.`, state, actions: [{ kind: 'endpoint', name, power }] };
}
