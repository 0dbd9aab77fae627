// Says what a failed connection means, shared by the socket and HTTP ports: a log line should read "server
// certificate verification failed" or "the server requires a client certificate", not only an OpenSSL error stack.

// OpenSSL and Node codes that mean "we did not trust the server's certificate".
const SERVER_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_REVOKED', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH',
]);

// What a TLS alert from the server means for us, in words a log reader can act on.
const ALERT_MEANINGS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the server requires a client certificate and got none',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the server does not trust the CA that issued our client certificate',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the server rejected our client certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'the server says our client certificate has expired',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'the server says our client certificate is revoked',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'the server finds our client certificate unsuitable (key usage or purpose)',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'the server found no acceptable TLS parameters',
  ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL: 'the server accepts none of our ALPN protocols',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'the server accepts none of our TLS versions',
};

/**
 * What failed and Node's words for it, with its code. Note that with TLS 1.3 a refused client certificate
 * arrives after onConnect: the client's handshake is over before the server has checked it.
 */
export function explainConnectionError(error: Error & { code?: string }): string {
  const code = error.code;
  let text: string;
  if (code !== undefined && SERVER_CERT_CODES.has(code)) {
    text = `server certificate verification failed: ${error.message}`;
  } else if (code !== undefined && code.startsWith('ERR_SSL_')) {
    // OpenSSL messages are a stack line: "<id>:error:<hex>:SSL routines:<function>:<reason>:<file>:<line>:<detail>".
    const reason = /:SSL routines:[^:]*:([^:]+):/.exec(error.message)?.[1] ?? error.message.trim();
    const refused = code.includes('_ALERT_'); // the peer sent a TLS alert
    const meaning = ALERT_MEANINGS[code];
    text = refused
      ? `TLS handshake refused by the server: ${meaning ?? reason} (${meaning ? `${reason}, ` : ''}${code})`
      : `TLS handshake failed: ${reason} (${code})`;
  } else {
    text = `connection failed: ${error.message}`;
  }
  return `${text}${code && !text.includes(code) ? ` (${code})` : ''}`;
}
