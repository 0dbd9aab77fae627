// What an operator may do to the emulated cloud, for the console (emulator/main.ts) and the dashboard alike:
// each action checks its input, acts, and answers with one line saying what happened (logged by the caller).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cloud } from './cloud.js';
import { NTP_UNIX_OFFSET_S } from './ais/alerts.js';

export interface OperatorReply {
  ok: boolean;
  message: string;
}

const done = (message: string): OperatorReply => ({ ok: true, message });
const refused = (message: string): OperatorReply => ({ ok: false, message });

/** Longest text the operator may have said on a device. */
export const SAY_MAX_CHARS = 300;

export class Operator {
  /** `onSaid`: the text went to a device's speaker (the dashboard lists it as a turn). */
  constructor(
    private readonly cloud: Pick<Cloud, 'lwa' | 'service' | 'alerts' | 'voice' | 'registration' | 'endpoints' | 'locales' | 'notifications' | 'cards'>,
    private readonly onSaid?: (clientId: string, text: string) => void,
  ) {}

  approve(code: string, account?: string): OperatorReply {
    return this.cloud.lwa.approve(code, account) ? done(`approved ${code}`) : refused(`no pending code ${code}`);
  }

  deny(code: string): OperatorReply {
    return this.cloud.lwa.deny(code) ? done(`denied ${code}`) : refused(`no pending code ${code}`);
  }

  rotate(clientId: string): OperatorReply {
    return this.cloud.service.rotateSecret(clientId) ? done(`RotateSecret sent to ${clientId}`) : refused(`${clientId} is not connected`);
  }

  /** A timer on the device that rings in `seconds`. */
  timer(clientId: string, seconds: number): OperatorReply {
    if (!this.known(clientId)) return refused(`no device ${clientId}`);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) return refused(`timer seconds expected 1..86400, got ${seconds}`);
    const due = this.cloud.alerts.nowSeconds() + seconds;
    const token = this.cloud.alerts.set(clientId, 'TIMER', due, `${seconds} second`);
    this.cloud.cards.timer(clientId, `${seconds} second`, (due - NTP_UNIX_OFFSET_S) * 1000);
    return done(`timer ${token} set on ${clientId}`);
  }

  cancel(clientId: string, token: string): OperatorReply {
    if (!this.cloud.alerts.list(clientId).some((a) => a.token === token)) return refused(`no alert ${token} on ${clientId}`);
    this.cloud.alerts.delete(clientId, [token]);
    return done(`alert ${token} deleted on ${clientId}`);
  }

  disconnect(clientId: string, code = 'GOING_OFFLINE'): OperatorReply {
    if (!this.cloud.service.isConnected(clientId)) return refused(`${clientId} is not connected`);
    this.cloud.service.disconnect(clientId, code, 'operator');
    return done(`Disconnect ${code} sent to ${clientId}`);
  }

  /** `text` synthesised into the device's speaker stream. */
  say(clientId: string, text: string): OperatorReply {
    const words = text.trim();
    if (words === '' || words.length > SAY_MAX_CHARS) return refused(`say expected 1..${SAY_MAX_CHARS} characters, got ${words.length}`);
    if (!this.cloud.voice) return refused('voice is off (pocketsphinx not found)');
    if (!this.cloud.service.isConnected(clientId)) return refused(`${clientId} is not connected`);
    if (!this.cloud.voice.play(clientId, words, undefined, 'SPEAKING', () => undefined)) return refused(`${clientId} has no voice yet (no Microphone capability, or the engines are loading)`);
    this.onSaid?.(clientId, words);
    return done(`saying ${JSON.stringify(words)} on ${clientId}`);
  }

  /** A notification for the device: its indicator shows until "what are my notifications" reads it. */
  notify(clientId: string, text: string): OperatorReply {
    const words = text.trim();
    if (!this.known(clientId)) return refused(`no device ${clientId}`);
    if (words === '' || words.length > SAY_MAX_CHARS) return refused(`notify expected 1..${SAY_MAX_CHARS} characters, got ${words.length}`);
    this.cloud.notifications.add(clientId, words);
    return done(`notification for ${clientId}: ${this.cloud.notifications.list(clientId).length} unread`);
  }

  /** SetLocales: refused when the emulator has no recogniser for `locale`. */
  locale(clientId: string, locale: string): OperatorReply {
    const problem = this.cloud.locales.set(clientId, locale);
    return problem ? refused(`locale not set: ${problem}`) : done(`SetLocales ${locale} sent to ${clientId}`);
  }

  /** `value` on, off or a brightness 0–100 for the endpoint the device calls `name`. */
  endpoint(clientId: string, name: string, value: string): OperatorReply {
    const command = value === 'on' || value === 'off' ? { power: value === 'on' } : /^\d{1,3}$/.test(value) ? { brightness: Number(value) } : undefined;
    if (!command) return refused(`endpoint expected on, off or a brightness 0..100, got ${JSON.stringify(value.slice(0, 20))}`);
    const problem = this.cloud.endpoints.control(clientId, name, command);
    return problem ? refused(problem) : done(`${name} on ${clientId}: ${value} sent`);
  }

  /**
   * A thing's certificate and key made as AWS IoT's CreateKeysAndCertificate makes them, written to
   * DATA_DIR/things/CLIENT_ID.cert.pem and .private.key (mode 0600): for a device that connects before it registers.
   */
  provision(clientId: string, account = 'default', dataDir: string | undefined): OperatorReply {
    if (dataDir === undefined) return refused('provision writes the key into the data folder: start the emulator with --data-dir');
    let issued;
    try {
      issued = this.cloud.registration.provision(clientId, account);
    } catch (error) {
      return refused((error as Error).message);
    }
    const dir = join(dataDir, 'things');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${clientId}.cert.pem`), issued.certificatePem);
    writeFileSync(join(dir, `${clientId}.private.key`), issued.privateKeyPem, { mode: 0o600 });
    return done(`provisioned ${clientId}: ${join(dir, clientId)}.cert.pem and .private.key`);
  }

  private known(clientId: string): boolean {
    return this.cloud.registration.registry.get(clientId) !== undefined;
  }
}
