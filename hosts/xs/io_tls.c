/*
 * The natives of `embedded:io/socket/tcp/tls` on xsrun (hosts/xs/io/tls.js): TLS 1.2 with mbedTLS over the
 * stream connection of io_tcp.c. mbedTLS because it is what MCU SDKs ship (ESP-IDF, NXP MCUXpresso, Zephyr):
 * the same library and configuration calls run on the device (docs/xs-host.md).
 *
 * The options follow Moddable's TLS socket (examples/io/tcp/tlssocket with modules/crypt/ssl): `host` names
 * the server (SNI and the name checked), `secure.certificate` is the trust anchor, `secure.clientCertificates`
 * and `secure.clientKey` the client identity for mutual TLS, `secure.applicationLayerProtocolNegotiation`
 * the ALPN list, `secure.verify: false` skips the check (never by default). Certificates and keys may be DER
 * (as Moddable takes them) or PEM.
 *
 * The wire side never blocks mbedTLS: its send callback appends to the connection's buffer, which the loop
 * flushes; its receive callback reads the non-blocking socket. mbedTLS 2.28 matches host names against DNS
 * names only, so an IPv4 server name is checked here against the certificate's IP address entries.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include "xr_io.h"

#define XR_TLS_MAX_ALPN 4

typedef struct {
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config config;
	mbedtls_x509_crt ca, own;
	mbedtls_pk_context key;
	char* alpn[XR_TLS_MAX_ALPN + 1];
	char serverName[128];
	struct in_addr serverAddress; /* when serverName is an IPv4 literal */
	int serverIsAddress;
	int handshakeDone;
} xrTls;

static mbedtls_entropy_context xrEntropy;
static mbedtls_ctr_drbg_context xrDrbg;
static int xrDrbgSeeded = 0;

static void xrTlsDescribe(int code, char* buffer, size_t size)
{
	mbedtls_strerror(code, buffer, size);
}

static int xrTlsSend(void* context, const unsigned char* data, size_t length)
{
	xrConn* conn = context;
	return xrConnQueue(conn, data, length) ? MBEDTLS_ERR_NET_SEND_FAILED : (int)length;
}

static int xrTlsReceive(void* context, unsigned char* data, size_t length)
{
	xrConn* conn = context;
	ssize_t n = recv(conn->fd, data, length, 0);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

/*
 * An IPv4 server name must be one of the certificate's iPAddress entries (RFC 5280 4.2.1.6). mbedTLS 2.28
 * lists only dNSName and otherName entries, so read the subjectAltName extension from the certificate's
 * extensions: OID 2.5.29.17, an optional critical flag, then an OCTET STRING holding the GeneralNames.
 */
static int xrTlsAddressMatches(xrTls* tls)
{
	static const unsigned char oid[] = { 0x06, 0x03, 0x55, 0x1D, 0x11 };
	const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&tls->ssl);
	unsigned char *p, *end;
	size_t length;
	if (!peer || !peer->v3_ext.p)
		return 0;
	p = peer->v3_ext.p;
	end = p + peer->v3_ext.len;
	p = memmem(p, (size_t)(end - p), oid, sizeof oid);
	if (!p)
		return 0;
	p += sizeof oid;
	if (p < end && *p == MBEDTLS_ASN1_BOOLEAN && mbedtls_asn1_get_tag(&p, end, &length, MBEDTLS_ASN1_BOOLEAN) == 0)
		p += length;
	if (mbedtls_asn1_get_tag(&p, end, &length, MBEDTLS_ASN1_OCTET_STRING))
		return 0;
	end = p + length;
	if (mbedtls_asn1_get_tag(&p, end, &length, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return 0;
	while (p < end) {
		unsigned char tag = *p++;
		if (mbedtls_asn1_get_len(&p, end, &length))
			return 0;
		if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && length == 4 && !memcmp(p, &tls->serverAddress, 4))
			return 1;
		p += length;
	}
	return 0;
}

static void xrTlsHandshake(xrConn* conn)
{
	xrTls* tls = conn->layerData;
	char reason[200];
	int result = mbedtls_ssl_handshake(&tls->ssl);
	if (result == MBEDTLS_ERR_SSL_WANT_READ || result == MBEDTLS_ERR_SSL_WANT_WRITE)
		return;
	if (result == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		uint32_t flags = mbedtls_ssl_get_verify_result(&tls->ssl);
		char* end;
		mbedtls_x509_crt_verify_info(reason, sizeof reason, "", flags);
		for (end = reason; *end; end++)
			if (*end == '\n') *end = ';';
		while (end > reason && (end[-1] == ';' || end[-1] == ' ')) *--end = 0;
		xrConnFail(conn, "TLS handshake with %s (%s) failed: server certificate rejected: %s", conn->label, tls->serverName, reason);
		return;
	}
	if (result) {
		xrTlsDescribe(result, reason, sizeof reason);
		xrConnFail(conn, "TLS handshake with %s (%s) failed: %s (-0x%04x)", conn->label, tls->serverName, reason, (unsigned)-result);
		return;
	}
	if (tls->serverIsAddress && !xrTlsAddressMatches(tls)) {
		xrConnFail(conn, "TLS handshake with %s failed: server certificate rejected: it does not name %s", conn->label, tls->serverName);
		return;
	}
	tls->handshakeDone = 1;
	conn->state = XR_CONN_READY;
	conn->writableWanted = 1;
}

static int xrTlsOpened(xrConn* conn)
{
	xrTlsHandshake(conn);
	return conn->state == XR_CONN_FAILED ? -1 : (conn->state == XR_CONN_READY ? 1 : 0);
}

static void xrTlsPull(xrConn* conn)
{
	xrTls* tls = conn->layerData;
	if (!tls->handshakeDone) {
		xrTlsHandshake(conn);
		if (!tls->handshakeDone)
			return;
	}
	while (xrConnRoom(conn) > 0 && conn->state == XR_CONN_READY) {
		unsigned char buffer[4096];
		size_t room = xrConnRoom(conn);
		int n = mbedtls_ssl_read(&tls->ssl, buffer, room < sizeof buffer ? room : sizeof buffer);
		if (n > 0)
			xrConnDeliver(conn, buffer, (size_t)n);
		else if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		else if (n == 0 || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
			conn->peerClosed = 1;
			return;
		}
		else {
			char reason[120];
			xrTlsDescribe(n, reason, sizeof reason);
			xrConnFail(conn, "TLS with %s: %s", conn->label, reason);
			return;
		}
	}
}

static int xrTlsPush(xrConn* conn, const unsigned char* data, size_t length)
{
	xrTls* tls = conn->layerData;
	while (length) {
		int n = mbedtls_ssl_write(&tls->ssl, data, length);
		if (n < 0) {
			char reason[120];
			xrTlsDescribe(n, reason, sizeof reason);
			xrConnFail(conn, "TLS write to %s: %s", conn->label, reason);
			return -1;
		}
		data += n;
		length -= (size_t)n;
	}
	return 0;
}

static size_t xrTlsOverhead(xrConn* conn, size_t length)
{
	xrTls* tls = conn->layerData;
	int expansion = mbedtls_ssl_get_record_expansion(&tls->ssl);
	return (size_t)(expansion > 0 ? expansion : 64) * (length / 16384 + 1);
}

static int xrTlsPending(xrConn* conn)
{
	xrTls* tls = conn->layerData;
	return tls && tls->handshakeDone && mbedtls_ssl_get_bytes_avail(&tls->ssl) > 0 && xrConnRoom(conn) > 0;
}

static void xrTlsFree(xrTls* tls)
{
	int i;
	mbedtls_ssl_free(&tls->ssl);
	mbedtls_ssl_config_free(&tls->config);
	mbedtls_x509_crt_free(&tls->ca);
	mbedtls_x509_crt_free(&tls->own);
	mbedtls_pk_free(&tls->key);
	for (i = 0; i < XR_TLS_MAX_ALPN; i++)
		free(tls->alpn[i]);
	free(tls);
}

static void xrTlsRelease(xrConn* conn)
{
	xrTlsFree(conn->layerData);
}

static const xrConnLayer xrTlsLayer = { "tls", xrTlsOpened, xrTlsPull, xrTlsPush, xrTlsOverhead, xrTlsPending, xrTlsRelease };

/* The bytes of a string (PEM text) or an ArrayBuffer (DER or PEM), NUL-terminated as mbedTLS wants PEM. */
static unsigned char* xrTlsMaterial(xsMachine* the, xsSlot* value, size_t* length, const char* what)
{
	unsigned char* copy;
	const void* data;
	size_t size;
	if (xsTypeOf(*value) == xsStringType) {
		data = xsToString(*value);
		size = strlen(data);
	}
	else if (xsIsInstanceOf(*value, xsArrayBufferPrototype)) {
		data = xsToArrayBuffer(*value);
		size = (size_t)xsGetArrayBufferLength(*value);
	}
	else
		xsTypeError("%s must be an ArrayBuffer (DER or PEM) or a PEM string", what);
	copy = malloc(size + 1);
	if (!copy)
		xsRangeError("no memory");
	memcpy(copy, data, size);
	copy[size] = 0;
	/* PEM is parsed with its terminating NUL counted; DER without. */
	*length = (size >= 10 && !memcmp(copy, "-----BEGIN", 10)) ? size + 1 : size;
	return copy;
}

static void xrTlsParseCertificates(xsMachine* the, mbedtls_x509_crt* chain, xsSlot* value, const char* what)
{
	size_t length;
	unsigned char* data = xrTlsMaterial(the, value, &length, what);
	int result = mbedtls_x509_crt_parse(chain, data, length);
	free(data);
	if (result) {
		char reason[120];
		xrTlsDescribe(result, reason, sizeof reason);
		xsUnknownError("%s: not a certificate: %s", what, reason);
	}
}

/*
 * open(address, port, serverName, secure, options, target). The JS side checked the types; `secure` is
 * {certificate, clientCertificates: [..], clientKey, applicationLayerProtocolNegotiation: [..], verify}.
 */
static void xr_tls_open(xsMachine* the)
{
	char address[64];
	xrTls* tls;
	xrConn* conn;
	int result, i, count;
	xsVars(2);
	if (!xrDrbgSeeded) {
		static const char personal[] = "xsrun tls";
		mbedtls_entropy_init(&xrEntropy);
		mbedtls_ctr_drbg_init(&xrDrbg);
		if (mbedtls_ctr_drbg_seed(&xrDrbg, mbedtls_entropy_func, &xrEntropy, (const unsigned char*)personal, sizeof personal - 1))
			xsUnknownError("TLS: cannot seed the random generator");
		xrDrbgSeeded = 1;
	}
	snprintf(address, sizeof address, "%s", xsToString(xsArg(0)));
	tls = calloc(1, sizeof *tls);
	if (!tls)
		xsRangeError("no memory for TLS");
	mbedtls_ssl_init(&tls->ssl);
	mbedtls_ssl_config_init(&tls->config);
	mbedtls_x509_crt_init(&tls->ca);
	mbedtls_x509_crt_init(&tls->own);
	mbedtls_pk_init(&tls->key);
	snprintf(tls->serverName, sizeof tls->serverName, "%s", xsToString(xsArg(2)));
	tls->serverIsAddress = inet_aton(tls->serverName, &tls->serverAddress) != 0;
	xsTry {
		int verify;
		mbedtls_ssl_config_defaults(&tls->config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
		/* TLS 1.2, as Moddable's TLS socket forces (protocolVersion 0x303) and AWS IoT accepts. */
		mbedtls_ssl_conf_min_version(&tls->config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
		mbedtls_ssl_conf_rng(&tls->config, mbedtls_ctr_drbg_random, &xrDrbg);
		xsVar(0) = xsGet(xsArg(3), xsID("verify"));
		verify = xsTypeOf(xsVar(0)) == xsUndefinedType || xsToBoolean(xsVar(0));
		xsVar(0) = xsGet(xsArg(3), xsID("certificate"));
		if (xsTypeOf(xsVar(0)) != xsUndefinedType)
			xrTlsParseCertificates(the, &tls->ca, &xsVar(0), "secure.certificate");
		else if (verify)
			xsTypeError("secure.certificate (the trust anchor) is required unless secure.verify is false: xsrun has no certificate store");
		mbedtls_ssl_conf_authmode(&tls->config, verify ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE);
		mbedtls_ssl_conf_ca_chain(&tls->config, &tls->ca, NULL);
		xsVar(0) = xsGet(xsArg(3), xsID("clientCertificates"));
		if (xsTypeOf(xsVar(0)) != xsUndefinedType) {
			size_t length;
			unsigned char* data;
			count = xsToInteger(xsGet(xsVar(0), xsID("length")));
			for (i = 0; i < count; i++) {
				xsVar(1) = xsGetAt(xsVar(0), xsInteger(i));
				xrTlsParseCertificates(the, &tls->own, &xsVar(1), "secure.clientCertificates");
			}
			xsVar(1) = xsGet(xsArg(3), xsID("clientKey"));
			if (xsTypeOf(xsVar(1)) == xsUndefinedType)
				xsTypeError("secure.clientKey is required with secure.clientCertificates");
			data = xrTlsMaterial(the, &xsVar(1), &length, "secure.clientKey");
			result = mbedtls_pk_parse_key(&tls->key, data, length, NULL, 0);
			memset(data, 0, length);
			free(data);
			if (result) {
				char reason[120];
				xrTlsDescribe(result, reason, sizeof reason);
				xsUnknownError("secure.clientKey: not a private key: %s", reason);
			}
			if (mbedtls_ssl_conf_own_cert(&tls->config, &tls->own, &tls->key))
				xsUnknownError("secure.clientCertificates: the key does not go with the certificate");
		}
		xsVar(0) = xsGet(xsArg(3), xsID("applicationLayerProtocolNegotiation"));
		if (xsTypeOf(xsVar(0)) != xsUndefinedType) {
			count = xsToInteger(xsGet(xsVar(0), xsID("length")));
			if (count > XR_TLS_MAX_ALPN)
				xsRangeError("at most %d ALPN protocols", XR_TLS_MAX_ALPN);
			for (i = 0; i < count; i++) {
				xsVar(1) = xsGetAt(xsVar(0), xsInteger(i));
				tls->alpn[i] = strdup(xsToString(xsVar(1)));
			}
			if (count)
				mbedtls_ssl_conf_alpn_protocols(&tls->config, (const char**)tls->alpn);
		}
		result = mbedtls_ssl_setup(&tls->ssl, &tls->config);
		if (result)
			xsUnknownError("TLS setup failed (-0x%04x)", (unsigned)-result);
		/* SNI and the DNS-name check; an IPv4 literal is checked after the handshake (see above). */
		if (!tls->serverIsAddress)
			mbedtls_ssl_set_hostname(&tls->ssl, tls->serverName);
	}
	xsCatch {
		xrTlsFree(tls);
		xsThrow(xsException);
	}
	conn = xrConnOpen(the, address, xsToInteger(xsArg(1)), &xrTlsLayer, tls);
	mbedtls_ssl_set_bio(&tls->ssl, conn, xrTlsSend, xrTlsReceive, NULL);
	xrConnBind(conn, &xsArg(5), &xsArg(4));
	xrConnHandle(the, conn);
}

void xrIoInstallTls(xsMachine* the, xsSlot* target)
{
	xrIoDefine(the, target, XR_IO_SCRATCH, "open", xr_tls_open, 6);
	xrIoDefine(the, target, XR_IO_SCRATCH, "read", xrConnRead, 4);
	xrIoDefine(the, target, XR_IO_SCRATCH, "readable", xrConnReadable, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "write", xrConnWrite, 4);
	xrIoDefine(the, target, XR_IO_SCRATCH, "writable", xrConnWritable, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "close", xrConnClose, 1);
}
