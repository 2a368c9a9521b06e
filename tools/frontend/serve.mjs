// Serves a built OpenHands web frontend and openhost from one origin on loopback, as the OpenHands server does:
// files from BUILD_DIR (unknown paths fall back to index.html, the app routes in the browser), and /api, /oauth,
// /healthz and /socket.io proxied to the host. No dependencies beyond Node.js.
//
// With a certificate and its key it serves https, as the frontend's SaaS sign-in requires (it always opens
// `https://{AUTH_URL}/realms/...`, which the enterprise plugin serves and which is proxied too).
//
//   node tools/frontend/serve.mjs BUILD_DIR LISTEN_PORT HOST_URL [CERT_PEM KEY_PEM]
//   node tools/frontend/serve.mjs /tmp/frontend/build 3001 http://127.0.0.1:3000
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createServer, request } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { extname, join, normalize } from "node:path";

const [buildDir, port, hostUrl, certFile, keyFile] = process.argv.slice(2);
if (!buildDir || !port || !hostUrl || (certFile && !keyFile)) {
  console.error("usage: node serve.mjs BUILD_DIR LISTEN_PORT HOST_URL [CERT_PEM KEY_PEM]");
  process.exit(2);
}
const host = new URL(hostUrl);
const proxied = ["/api/", "/oauth/", "/realms/", "/healthz", "/socket.io/"];
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

function proxy(req, res) {
  const upstream = request(
    { host: host.hostname, port: host.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", () => {
    res.writeHead(502, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "openhost is not reachable", code: "bad_gateway" }));
  });
  req.pipe(upstream);
}

function file(req, res) {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  const isFile = (candidate) => {
    try {
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  };
  const target = [join(buildDir, path), join(buildDir, "index.html")].find(isFile);
  if (!target) {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end(`no ${path} and no index.html in ${buildDir}\n`);
    return;
  }
  res.writeHead(200, { "content-type": types[extname(target)] ?? "application/octet-stream" });
  createReadStream(target).pipe(res);
}

const answer = (req, res) => (proxied.some((p) => req.url.startsWith(p)) ? proxy(req, res) : file(req, res));
const server = certFile
  ? createTlsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, answer)
  : createServer(answer);
const scheme = certFile ? "https" : "http";
server.listen(Number(port), "127.0.0.1", () =>
  console.log(`frontend on ${scheme}://localhost:${port}, openhost at ${hostUrl}`),
);
