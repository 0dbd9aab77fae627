// The whole porting surface an OEM implements. See docs/porting.md.
export type { Clock, TimerHandle } from './clock.js';
export type { LogLevel, LogSink } from './log.js';
export { Logger, redact, silentSink } from './log.js';
export type { Socket, SocketFactory, SocketOptions, TlsOptions } from './socket.js';
export type { HttpClient, HttpRequest, HttpResponse } from './http.js';
export type { Storage } from './storage.js';
export { checkStorageKey } from './storage.js';
export type { Crypto } from './crypto.js';
export type { AudioIn, AudioInFactory, AudioInOptions, AudioOut, AudioOutFactory, AudioOutOptions } from './audio.js';
export type { Opus, OpusDecoder, OpusEncoder, OpusEncoderOptions } from './opus.js';
export type { AttentionLight, Button, Ui, UiFactory, UiOptions } from './ui.js';
