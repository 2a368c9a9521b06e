// Serves a built OpenHands web frontend and openhost from one origin on loopback, as the OpenHands server does:
// files from BUILD_DIR (unknown paths fall back to index.html, the app routes in the browser), and /api, /oauth,
// /healthz and /socket.io proxied to the host. No dependencies beyond Node.js.
//
//   node tools/frontend/serve.mjs BUILD_DIR LISTEN_PORT HOST_URL
//   node tools/frontend/serve.mjs /tmp/frontend/build 3001 http://127.0.0.1:3000
import { createReadStream, statSync } from "node:fs";
import { createServer, request } from "node:http";
import { extname, join, normalize } from "node:path";

const [buildDir, port, hostUrl] = process.argv.slice(2);
if (!buildDir || !port || !hostUrl) {
  console.error("usage: node serve.mjs BUILD_DIR LISTEN_PORT HOST_URL");
  process.exit(2);
}
const host = new URL(hostUrl);
const proxied = ["/api/", "/oauth/", "/healthz", "/socket.io/"];
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

createServer((req, res) => (proxied.some((p) => req.url.startsWith(p)) ? proxy(req, res) : file(req, res))).listen(
  Number(port),
  "127.0.0.1",
  () => console.log(`frontend on http://127.0.0.1:${port}, openhost at ${hostUrl}`),
);
