// The admin console's steps in headless Chromium (Debian's, driven by playwright-core; no browser download), for
// tests/tests/browser.rs: sign in (a wrong token first), toggle the header-stamp plugin off and on and see the
// host's answers change, a config the plugin refuses shown in place with nothing changed, a config it takes,
// and the audit rows. Screenshots go to OUT_DIR. Exits 1 naming the step that failed.
//
//   node tests/browser/console.mjs ADMIN_URL TOKEN HOST_URL OUT_DIR
import { chromium } from "playwright-core";

const [admin, token, host, out] = process.argv.slice(2);
if (!admin || !token || !host || !out) {
  console.error("usage: node console.mjs ADMIN_URL TOKEN HOST_URL OUT_DIR");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
const problems = [];
page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
// Chromium logs every answer of 400 and above as "Failed to load resource": the refusals this walk asks for do
// that. Anything else the page logs as an error (a script error, a blocked script or style) is a problem.
page.on("console", (message) => {
  if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
    problems.push(`console: ${message.text()}`);
  }
});
const shot = (name) => page.screenshot({ path: `${out}/${name}.png`, fullPage: true });
let step = "start";
const check = (ok, what) => {
  if (!ok) throw new Error(what);
};
// The header-stamp answer of the host, as a client sees it.
const stamp = async (header) => (await page.request.get(`${host}/healthz`)).headers()[header];
const row = () => page.locator('#plugins tr[data-plugin="header-stamp"]');

try {
  step = "sign in";
  await page.goto(`${admin}/admin/`);
  await page.locator("#token").fill("not-the-token-of-this-server");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#sign-in-error").filter({ hasText: "not an admin token" }).waitFor();
  await shot("1-sign-in-refused");
  await page.locator("#token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await row().waitFor();
  await shot("2-plugins");
  check((await stamp("x-openhost-stamp")) !== undefined, "header-stamp stamps before the toggle");

  step = "toggle off";
  await page.getByLabel("enable header-stamp").uncheck();
  await page.locator("#generation").filter({ hasText: "generation 2" }).waitFor();
  check((await stamp("x-openhost-stamp")) === undefined, "the host still stamps after the toggle off");
  check(!(await page.getByLabel("enable header-stamp").isChecked()), "the box shows the plugin off");

  step = "toggle on";
  await page.getByLabel("enable header-stamp").check();
  await page.locator("#generation").filter({ hasText: "generation 3" }).waitFor();
  check((await stamp("x-openhost-stamp")) !== undefined, "the host does not stamp after the toggle on");

  step = "refused config";
  await page.getByLabel("edit the config of header-stamp").click();
  // The keys header-stamp's schema declares are shown beside the editor, with their types and defaults.
  const key = (name) => page.locator(`#editor-schema tbody tr[data-key="${name}"]`);
  await key("header").waitFor();
  check((await key("header").textContent()).includes("x-openhost-stamp"), "the header key shows no default");
  check((await key("block_paths").textContent()).includes("array of string"), "block_paths shows no item type");
  check((await key("order").textContent()).includes("integer"), "order shows no type");
  await page.locator("#editor-text").fill('{"header": "not a header"}');
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#editor-error").filter({ hasText: "header-stamp" }).waitFor();
  await shot("3-config-refused");
  check((await page.locator("#generation").textContent()).includes("generation 3"), "a refused config changed the generation");
  check((await stamp("x-openhost-stamp")) !== undefined, "a refused config changed the answers");

  step = "accepted config";
  await page.locator("#editor-text").fill('{"header": "x-served-by", "value": "${STAMP_VALUE}"}');
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#generation").filter({ hasText: "generation 4" }).waitFor();
  check(await page.locator("#editor").isHidden(), "the editor closes once saved");
  check((await stamp("x-served-by")) !== undefined, "the new header is not served");

  step = "audit";
  const audit = page.locator("#audit tbody tr");
  await audit.nth(2).waitFor();
  const rows = await audit.allTextContents();
  check(rows.length === 3, `three audit rows, not ${rows.length}: ${rows.join(" | ")}`);
  check(rows[0].includes("ops") && rows[0].includes("config") && rows[0].includes("${STAMP_VALUE}"), `newest row: ${rows[0]}`);
  check(rows[2].includes("enabled") && rows[2].includes("false"), `oldest row: ${rows[2]}`);
  await shot("4-audit");
  check(problems.length === 0, problems.join("; "));
  console.log("console: every step done");
} catch (error) {
  await shot("failed").catch(() => {});
  console.error(`console step "${step}" failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
