// Walks the four first steps of a new user through the real OpenHands web frontend against openhost, in headless
// Chromium (Debian's, driven by playwright-core; no browser download), everything on loopback: set an LLM key,
// connect GitHub with a personal access token, pick a repository, pick a branch. Fails on any /api answer of 400 or
// more other than the first-run 404 of GET /api/settings, or when a step cannot be done. Screenshots go to OUT_DIR.
//
//   node tools/frontend/walk.mjs FRONTEND_URL PAT OUT_DIR
//
// Needs /usr/bin/chromium and `playwright-core` next to the script (ES modules ignore NODE_PATH): copy it into a
// scratch folder with `npm install playwright-core` there. docs/frontend.md says how to start everything.
import { chromium } from "playwright-core";

const [base, pat, out] = process.argv.slice(2);
if (!base || !pat || !out) {
  console.error("usage: node walk.mjs FRONTEND_URL PAT OUT_DIR");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
// The app asks for web fonts and avatars elsewhere: nothing leaves this machine.
await page.route("**/*", (route) => {
  const host = new URL(route.request().url()).hostname;
  return host === "127.0.0.1" || host === "localhost" ? route.continue() : route.abort();
});
const failures = [];
let firstRun = true;
page.on("response", (r) => {
  if (!r.url().includes("/api/") || r.status() < 400) return;
  if (firstRun && r.status() === 404 && r.url().endsWith("/api/settings")) return;
  failures.push(`${r.status()} ${r.request().method()} ${r.url()}`);
});
const shot = (name) => page.screenshot({ path: `${out}/${name}.png` });
const pause = (ms) => page.waitForTimeout(ms);

// 1. The first-run pop-up: provider, model, key.
await page.goto(base, { waitUntil: "networkidle" });
await shot("1-first-run");
for (const [placeholder, text] of [["Select a provider", "Anthropic"], ["Select a model", "claude-sonnet-4-5"]]) {
  await page.getByPlaceholder(placeholder).click();
  await page.getByPlaceholder(placeholder).fill(text);
  await pause(500);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
}
await page.getByTestId("llm-api-key-input").fill("sk-ant-walk-test-key");
await page.getByRole("button", { name: "Save" }).click();
await pause(2500);
firstRun = false;
await shot("2-llm-key-saved");

// 2. Git settings: a GitHub personal access token.
await page.goto(`${base}/settings/integrations`, { waitUntil: "networkidle" });
await page.getByTestId("github-token-input").fill(pat);
await page.getByTestId("submit-button").click();
await pause(2500);

// 3 and 4. Home: a repository, then a branch; the launch button becomes usable.
await page.goto(base, { waitUntil: "networkidle" });
await pause(1000);
await page.getByTestId("git-repo-dropdown").click();
await pause(1500);
await shot("3-github-connected-repositories");
await page.getByTestId("git-repo-dropdown-menu").getByRole("option").first().click();
await pause(1500);
await page.getByTestId("git-branch-dropdown-input").click();
await pause(1500);
await shot("4-branches");
await page.getByRole("option").nth(1).click();
await pause(1000);
const launchable = await page.getByTestId("repo-launch-button").isEnabled();
await browser.close();

if (!launchable) failures.push("the launch button stayed disabled after picking a repository and a branch");
if (failures.length) {
  console.error(`failed:\n${failures.join("\n")}`);
  process.exit(1);
}
console.log("4 steps done, no error from /api");
