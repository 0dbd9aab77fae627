// The browser host's ports beside the socket and audio: the clock (performance.now and timers), HTTP by fetch,
// storage in IndexedDB, and the portable crypto over the browser's CSPRNG.
import type { Clock, TimerHandle } from '../../src/ports/clock.js';
import type { HttpClient } from '../../src/ports/http.js';
import { checkStorageKey, type Storage } from '../../src/ports/storage.js';

/** A timer handle: the pending timeout, then the interval of a repeating one. */
class BrowserTimer {
  timeout: number | undefined;
  interval: number | undefined;
}

export const browserClock: Clock = {
  monotonicMs: () => performance.now(),
  setTimer: (callback, delayMs, repeatMs) => {
    const timer = new BrowserTimer();
    timer.timeout = setTimeout(() => {
      timer.timeout = undefined;
      // First run after delayMs, then every repeatMs; the callback may clear the timer, which clears this interval.
      if (repeatMs !== undefined) timer.interval = setInterval(callback, repeatMs);
      callback();
    }, delayMs);
    return timer;
  },
  clearTimer: (handle: TimerHandle) => {
    if (!(handle instanceof BrowserTimer)) return;
    clearTimeout(handle.timeout);
    clearInterval(handle.interval);
    handle.timeout = handle.interval = undefined;
  },
  utcMs: () => Date.now(),
};

export const fetchHttpClient: HttpClient = (request, callback) => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), request.timeoutMs ?? 15_000);
  fetch(request.url, { method: request.method, headers: request.headers, body: request.body && new Uint8Array(request.body), signal: controller.signal })
    .then(async (response) => {
      const body = new Uint8Array(await response.arrayBuffer());
      if (request.maxResponseBytes !== undefined && body.length > request.maxResponseBytes) throw new Error(`response body over ${request.maxResponseBytes} bytes`);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => { headers[key] = value; });
      callback(undefined, { status: response.status, headers, body });
    })
    .catch((error: Error) => callback(error))
    .finally(() => clearTimeout(timer));
};

/**
 * Storage in IndexedDB. The port is synchronous (a flash key-value store's shape): every key is read into memory at
 * open, get() answers from there, and set()/delete() write through to IndexedDB in order. A write the tab is closed
 * in the middle of is either done or not (an IndexedDB transaction), never a mix.
 */
export async function openIndexedDbStorage(name: string): Promise<Storage> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('keys');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error ?? new Error(`IndexedDB ${name} cannot be opened`));
  });
  const values = new Map<string, Uint8Array>();
  await new Promise<void>((resolve, reject) => {
    const cursor = db.transaction('keys').objectStore('keys').openCursor();
    cursor.onsuccess = () => {
      const at = cursor.result;
      if (!at) return resolve();
      values.set(String(at.key), new Uint8Array(at.value as ArrayBuffer));
      at.continue();
    };
    cursor.onerror = () => reject(cursor.error);
  });
  const store = (change: (keys: IDBObjectStore) => void) => change(db.transaction('keys', 'readwrite').objectStore('keys'));
  return {
    get: (key) => {
      checkStorageKey(key);
      return values.get(key)?.slice();
    },
    set: (key, value) => {
      checkStorageKey(key);
      values.set(key, value.slice());
      store((keys) => keys.put(value.slice().buffer, key));
    },
    delete: (key) => {
      checkStorageKey(key);
      values.delete(key);
      store((keys) => keys.delete(key));
    },
    keys: () => [...values.keys()],
  };
}
