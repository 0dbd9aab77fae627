// `embedded:io/socket/tcp` on xsrun: Moddable's ECMA-419 TCP socket (modules/io/socket/lin/tcp.js) over
// io_tcp.c. new TCP({address, port, nodelay?, format?, onReadable(count), onWritable(count), onError(error)}):
// `address` is a dotted IPv4 address (no DNS, as in Moddable).
import { Stream } from './stream.js';

export default class TCP extends Stream {
  constructor(options) {
    super(xsrun.io.tcp, options, (o, target) => xsrun.io.tcp.open(o, target));
  }
}
