// The emulator's development PKI (emulator/dev-pki/, made by `npm run dev-pki`): public keys for its HTTPS server and MQTT broker on
// 127.0.0.1 / localhost.
// Devices trust DEV_CA_PEM to reach the emulator; nothing else should ever trust it.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const dir = new URL('../../emulator/dev-pki/', import.meta.url);

export const DEV_CA_PEM = readFileSync(new URL('ca.pem', dir), 'utf8');
export const DEV_SERVER_TLS = { cert: readFileSync(new URL('server.pem', dir), 'utf8'), key: readFileSync(new URL('server.key', dir), 'utf8') };
/** The names the server certificate is for (its subjectAltName: IP addresses and DNS names). */
export const DEV_SERVER_NAMES: readonly string[] = (new X509Certificate(DEV_SERVER_TLS.cert).subjectAltName ?? '').split(', ').map((entry) => entry.replace(/^(IP Address|DNS):/, ''));
