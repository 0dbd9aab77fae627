// Cards: what the virtual device would show on a screen, TemplateRuntime-style (AVS RenderTemplate and
// RenderPlayerInfo), one current card per device. AIS devices have no screen, so the cards stay in the cloud:
// the console logs each as one line and the dashboard shows it.
//   answer       BodyTemplate1 {title: {mainTitle: what was heard, subTitle}, textField: the answer's text}
//   now playing  PlayerInfo {content: {title, titleSubtext1: artist, provider}}: nowPlaying(), one call
//   timer        TimerTemplate {title, label, dueAt}: a timer set by voice or by the operator
import type { Logger } from '../../src/ports/log.js';
import type { AssistantAction } from '../voice/assistant.js';

export type Card =
  | { type: 'BodyTemplate1'; title: { mainTitle: string; subTitle: string }; textField: string }
  | { type: 'PlayerInfo'; content: { title: string; titleSubtext1?: string; provider: string } }
  | { type: 'TimerTemplate'; title: string; label: string; /** Unix ms. */ dueAt: number };

/** What is playing, as the music side knows it. */
export interface NowPlaying {
  title: string;
  artist?: string;
  provider?: string;
}

/** The card in one line of text (the console's, the dashboard's caption). */
export function cardLine(card: Card): string {
  switch (card.type) {
    case 'BodyTemplate1': return `[${card.title.mainTitle}] ${card.textField}`;
    case 'PlayerInfo': return `[Now playing] ${card.content.title}${card.content.titleSubtext1 ? ` by ${card.content.titleSubtext1}` : ''} (${card.content.provider})`;
    case 'TimerTemplate': return `[${card.title}] ${card.label}, due ${new Date(card.dueAt).toISOString().slice(11, 19)} UTC`;
  }
}

export class CardService {
  private readonly cards = new Map<string, Card>();
  private readonly heard = new Map<string, string>();

  constructor(private readonly options: { log: Logger; onCard?(clientId: string, card: Card): void }) {}

  /** The device's current card. */
  current(clientId: string): Card | undefined {
    return this.cards.get(clientId);
  }

  show(clientId: string, card: Card): void {
    this.cards.set(clientId, card);
    this.options.log.info(`${clientId}: card ${cardLine(card)}`);
    this.options.onCard?.(clientId, card);
  }

  /** What the cloud heard last: the next answer card's title. */
  transcript(clientId: string, text: string): void {
    this.heard.set(clientId, text);
  }

  /** An answer with words: its card. */
  answer(clientId: string, text: string): void {
    if (text === '') return;
    const heard = this.heard.get(clientId);
    this.show(clientId, { type: 'BodyTemplate1', title: { mainTitle: heard ? capitalise(heard) : 'Alexa', subTitle: 'Alexa' }, textField: text });
  }

  /** The music the device plays now: its card in one call. */
  nowPlaying(clientId: string, playing: NowPlaying): void {
    const shown = this.cards.get(clientId);
    // The player reports every start and stop of its stream; a card is for what changed.
    if (shown?.type === 'PlayerInfo' && shown.content.title === playing.title && shown.content.titleSubtext1 === (playing.artist || undefined)) return;
    this.show(clientId, { type: 'PlayerInfo', content: { title: playing.title, ...(playing.artist ? { titleSubtext1: playing.artist } : {}), provider: playing.provider ?? 'ais-mcu emulator' } });
  }

  timer(clientId: string, label: string, dueAtMs: number): void {
    this.show(clientId, { type: 'TimerTemplate', title: 'Timer', label, dueAt: dueAtMs });
  }

  /** An answer's actions: a timer set shows its card (after the answer's). */
  act(clientId: string, actions: readonly AssistantAction[]): void {
    for (const a of actions) if (a.kind === 'setAlert' && a.type === 'TIMER') this.timer(clientId, a.label, a.at.getTime());
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
