// The assistant's notification intent (emulator/voice/assistant.ts holds its phrases): "what are my
// notifications" reads the unread ones and clears them (emulator/ais/notifications.ts turns the indicator off).
// Imports only types from assistant.ts, which imports this module.
import type { Answer, AssistantContext, DialogState, Intent } from './assistant.js';

export function notificationIntent(words: string[]): Intent | undefined {
  return words.some((w) => w === 'notification' || w === 'notifications') ? 'readNotifications' : undefined;
}

export function notificationsAnswer(context: AssistantContext, state: DialogState): Answer {
  const unread = context.notifications ?? [];
  if (unread.length === 0) return { intent: 'readNotifications', text: 'You have no new notifications.', state };
  const count = unread.length === 1 ? 'one notification' : `${unread.length} notifications`;
  // Each read as a sentence of its own.
  const read = unread.map((n) => (/[.!?]$/.test(n) ? n : `${n}.`)).join(' ');
  return { intent: 'readNotifications', text: `You have ${count}. ${read}`, state, actions: [{ kind: 'clearNotifications' }] };
}
