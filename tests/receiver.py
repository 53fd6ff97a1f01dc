#!/usr/bin/python3
# tests/receiver.py: the real receivers kom-alert's tests deliver to, on
# loopback only (started through tests/receivers.sh).
#
#   receiver.py http PORTFILE LOG MODEFILE
#	An HTTP server on 127.0.0.1, on port $RECV_PORT (a restart) or one
#	the kernel picks, written to PORTFILE once it listens.  Every
#	request is logged once it has been read, as one JSON line
#	{"method","path","headers","body","status","t"} in LOG (t: unix ms
#	of receipt).  The answer: a path ending in /500, /503, /404, /400,
#	/429 or /hang says it; otherwise the first word of MODEFILE (re-read
#	per request): ok, slow (ok after 50 ms), 500, 404, 429 (with
#	"Retry-After: 1") or hang (no answer for 60 s, logged as status 0).
#   receiver.py smtp PORTFILE LOG CERT KEY USER PASS
#	An SMTP server (aiosmtpd) that requires STARTTLS and then AUTH
#	PLAIN/LOGIN with USER and PASS; each message is logged as
#	{"mail_from","rcpt_tos","data"}.
#   receiver.py smtps ...	the same with TLS from the start (port 465
#	style) instead of STARTTLS.
import json
import os
import sys
import threading
import time

lock = threading.Lock()


def log(path, rec):
    with lock:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())


def write_port(portfile, port):
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, portfile)


def http_main(portfile, logpath, modefile):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def mode(self):
            last = self.path.rstrip("/").rsplit("/", 1)[-1]
            if last in ("500", "503", "404", "400", "429", "hang"):
                return last
            try:
                with open(modefile) as f:
                    w = f.read().split()
                    return w[0] if w else "ok"
            except OSError:
                return "ok"

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace")
            m = self.mode()
            rec = {"method": "POST", "path": self.path, "body": body,
                   "t": int(time.time() * 1000),
                   "headers": {k.lower(): v for k, v in self.headers.items()}}
            if m == "hang":
                rec["status"] = 0
                log(logpath, rec)
                time.sleep(60)
                return
            status = 200 if m in ("ok", "slow") else int(m)
            rec["status"] = status
            log(logpath, rec)       # on receipt, as a receiver acts on it
            if m == "slow":
                time.sleep(0.05)
            out = b"ok\n" if status == 200 else b"no\n"
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            self.wfile.flush()

    port = int(os.environ.get("RECV_PORT") or 0)    # a restart: same port
    ThreadingHTTPServer.request_queue_size = 128    # not 5: no SYN drops
    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    srv.daemon_threads = True
    write_port(portfile, srv.server_address[1])
    srv.serve_forever()


def smtp_main(portfile, logpath, cert, key, user, password, implicit=False):
    import ssl
    import socket
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            log(logpath, {"mail_from": envelope.mail_from,
                          "rcpt_tos": envelope.rcpt_tos,
                          "data": envelope.content.decode("utf-8",
                                                          "replace")})
            return "250 OK"

    def auth(server, session, envelope, mechanism, data):
        ok = (getattr(data, "login", b"") == user.encode() and
              getattr(data, "password", b"") == password.encode())
        return AuthResult(success=ok, handled=False)  # 535 on a failure

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    if implicit:    # smtps: TLS from the first byte
        c = Controller(Handler(), hostname="127.0.0.1", port=port,
                       ssl_context=ctx, authenticator=auth,
                       auth_required=True, auth_require_tls=False)
    else:
        c = Controller(Handler(), hostname="127.0.0.1", port=port,
                       tls_context=ctx, require_starttls=True,
                       authenticator=auth, auth_required=True,
                       auth_require_tls=True)
    c.start()
    write_port(portfile, port)
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == "__main__":
    if sys.argv[1] == "http":
        http_main(*sys.argv[2:5])
    elif sys.argv[1] == "smtp":
        smtp_main(*sys.argv[2:8])
    elif sys.argv[1] == "smtps":
        smtp_main(*sys.argv[2:8], implicit=True)
    else:
        sys.exit("usage: receiver.py http|smtp ...")
