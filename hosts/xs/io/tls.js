// `embedded:io/socket/tcp/tls` on xsrun: the options of Moddable's TLS socket (examples/io/tcp/tlssocket),
// with mbedTLS in C (io_tls.c) instead of Moddable's JavaScript TLS.
//   new TLSSocket({address, port, host, TCP, secure: {certificate, clientCertificates, clientKey,
//                  applicationLayerProtocolNegotiation, serverName, verify}, onReadable, onWritable, onError})
// `host` (or secure.serverName) is the name sent as SNI and checked in the server's certificate. `TCP` (Moddable's
// transport, {io: TCP}) is required as Moddable's TLSSocket requires it (it opens its socket with `TCP.io`, no
// default: examples/io/tcp/tlssocket/tlssocket.js, SDK 8.2.3), and not used: the TLS layer owns its socket in C.
// Certificates and keys are ArrayBuffers of DER (as Moddable takes them) or PEM.
import { Stream } from './stream.js';

function native() {
  const tls = xsrun.io.tls;
  if (!tls) throw new Error('embedded:io/socket/tcp/tls: this xsrun was built without mbedTLS (apt-get install libmbedtls-dev, then npm run build:xs)');
  return tls;
}

export default class TLSSocket extends Stream {
  constructor(options) {
    const tls = native();
    super(tls, options, (o, target) => {
      if (typeof o.TCP?.io !== 'function') throw new TypeError('TCP: {io: TCP} is required (the class Moddable\'s TLSSocket opens its transport with)');
      const secure = o.secure ?? {};
      if (typeof secure !== 'object') throw new TypeError('secure must be an object');
      const serverName = secure.serverName ?? o.host;
      if (typeof serverName !== 'string' || serverName === '') throw new TypeError('host (or secure.serverName) must name the server');
      if (secure.clientCertificates !== undefined && !Array.isArray(secure.clientCertificates)) {
        throw new TypeError('secure.clientCertificates must be an array');
      }
      const alpn = secure.applicationLayerProtocolNegotiation;
      return tls.open(o.address, o.port, serverName,
        { ...secure, applicationLayerProtocolNegotiation: alpn === undefined || Array.isArray(alpn) ? alpn : [alpn] }, o, target);
    });
  }
}
