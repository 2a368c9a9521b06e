// Walks the four first steps of a new user through the real OpenHands web frontend against openhost, in headless
// Chromium (Debian's, driven by playwright-core; no browser download), everything on loopback.
//   oss:  set an LLM key, connect GitHub with a personal access token, pick a repository, pick a branch.
//   saas: (the enterprise plugin) sign in with GitHub from the frontend's login page, set an LLM key, pick a
//         repository of the GitHub App's installations, pick a branch, sign out.
// Fails on any /api answer of 400 or more other than the first-run 404 of GET /api/settings and, in saas mode,
// the 401 of POST /api/authenticate that tells the frontend nobody is signed in yet; or when a step cannot be
// done. Screenshots go to OUT_DIR.
//
//   node tests/browser/openhands-walk.mjs oss FRONTEND_URL PAT OUT_DIR
//   node tests/browser/openhands-walk.mjs saas FRONTEND_URL OUT_DIR
//
// Needs /usr/bin/chromium and this folder's npm packages (`npm ci` here). tests/tests/browser.rs runs both walks
// against a real host behind tools/frontend/serve.mjs; docs/frontend.md says how to start everything by hand.
import { chromium } from "playwright-core";

const mode = process.argv[2];
const [base, pat, out] =
  mode === "saas" ? [process.argv[3], null, process.argv[4]] : process.argv.slice(3);
if (!["oss", "saas"].includes(mode) || !base || !out || (mode === "oss" && !pat)) {
  console.error("usage: node openhands-walk.mjs oss FRONTEND_URL PAT OUT_DIR | saas FRONTEND_URL OUT_DIR");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"],
});
// The SaaS frontend signs in over https only; serve.mjs then runs with a throwaway self-signed certificate.
const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
// The app asks for web fonts and avatars elsewhere: nothing leaves this machine.
await page.route("**/*", (route) => {
  const host = new URL(route.request().url()).hostname;
  return host === "127.0.0.1" || host === "localhost" ? route.continue() : route.abort();
});
const failures = [];
let firstRun = true;
let signedIn = mode === "oss";
page.on("response", (r) => {
  if (!r.url().includes("/api/") || r.status() < 400) return;
  if (firstRun && r.status() === 404 && r.url().endsWith("/api/settings")) return;
  if (!signedIn && r.status() === 401) return;
  failures.push(`${r.status()} ${r.request().method()} ${r.url()}`);
});
const shot = (name) => page.screenshot({ path: `${out}/${name}.png` });
const pause = (ms) => page.waitForTimeout(ms);

const saasShot = (name) => shot(mode === "saas" ? `saas-${name}` : name);

// 0 (saas). The login page; its GitHub button goes through the plugin and the fake GitHub, and back.
if (mode === "saas") {
  await page.goto(base, { waitUntil: "networkidle" });
  await saasShot("0-login");
  await page.getByRole("button", { name: /github/i }).first().click();
  await page.waitForURL((url) => url.href.startsWith(base) && !url.pathname.startsWith("/realms"), {
    timeout: 15000,
  });
  await page.waitForLoadState("networkidle");
  const answer = await page.request.post(`${base}/api/authenticate`);
  if (answer.status() !== 200) failures.push(`POST /api/authenticate after signing in: ${answer.status()}`);
  signedIn = true;
}

// 1. Provider, model, key: oss asks in its first-run pop-up; saas has no such pop-up (a signed-in user is set
// up), the key goes in Settings > LLM.
await page.goto(mode === "oss" ? base : `${base}/settings`, { waitUntil: "networkidle" });
await saasShot(mode === "oss" ? "1-first-run" : "1-signed-in-llm-settings");
if (mode === "oss") {
  for (const [placeholder, text] of [["Select a provider", "Anthropic"], ["Select a model", "claude-sonnet-4-5"]]) {
    await page.getByPlaceholder(placeholder).click();
    await page.getByPlaceholder(placeholder).fill(text);
    await pause(500);
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
  }
} else {
  // With no model stored yet the page opens in its advanced view: the model is typed in.
  await page.getByTestId("llm-custom-model-input").fill("anthropic/claude-sonnet-4-5-20250929");
}
await page.getByTestId("llm-api-key-input").fill("sk-ant-walk-test-key");
await (mode === "oss" ? page.getByRole("button", { name: "Save" }) : page.getByTestId("submit-button")).click();
await pause(2500);
firstRun = false;
const stored = await (await page.request.get(`${base}/api/settings`)).json();
if (stored.llm_api_key_set !== true || !String(stored.llm_model).startsWith("anthropic/")) {
  failures.push(`the LLM settings were not stored: ${JSON.stringify(stored)}`);
}
await saasShot("2-llm-key-saved");

// 2 (oss). Git settings: a GitHub personal access token. (In saas mode the sign-in brought the GitHub token.)
if (mode === "oss") {
  await page.goto(`${base}/settings/integrations`, { waitUntil: "networkidle" });
  await page.getByTestId("github-token-input").fill(pat);
  await page.getByTestId("submit-button").click();
  await pause(2500);
}

// 3 and 4. Home: a repository, then a branch; the launch button becomes usable.
await page.goto(base, { waitUntil: "networkidle" });
await pause(1000);
await page.getByTestId("git-repo-dropdown").click();
await pause(1500);
await saasShot("3-github-connected-repositories");
await page.getByTestId("git-repo-dropdown-menu").getByRole("option").first().click();
await pause(1500);
await page.getByTestId("git-branch-dropdown-input").click();
await pause(1500);
await saasShot("4-branches");
await page.getByRole("option").nth(1).click();
await pause(1000);
const launchable = await page.getByTestId("repo-launch-button").isEnabled();

// 5 (saas). Sign out: the session ends on the server, not only in the browser.
if (mode === "saas") {
  const out = await page.request.post(`${base}/api/logout`);
  const after = await page.request.post(`${base}/api/authenticate`);
  if (out.status() !== 200 || after.status() !== 401) {
    failures.push(`sign-out: POST /api/logout ${out.status()}, then POST /api/authenticate ${after.status()}`);
  }
}
await browser.close();

if (!launchable) failures.push("the launch button stayed disabled after picking a repository and a branch");
if (failures.length) {
  console.error(`failed:\n${failures.join("\n")}`);
  process.exit(1);
}
console.log(`${mode}: every step done, no error from /api`);
