"""http.server on osvb: files from /srv/www, POST /echo answers with the
body's sha256 and length, GET /quit stops the server."""
import hashlib
import http.server
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8000


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory="/srv/www", **kwargs)

    def do_POST(self):
        left = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        n = 0
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
            left -= len(chunk)
        body = f"{h.hexdigest()} {n}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/quit":
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"bye")
            threading.Thread(target=self.server.shutdown).start()
            return
        super().do_GET()


server = http.server.ThreadingHTTPServer(("", PORT), Handler)
print(f"http-python: serving on port {PORT}", flush=True)
server.serve_forever()
server.server_close()
print("http-python: stopped", flush=True)
