// The admin console: a page of the admin listener that uses the admin API like any client, with the token the
// operator signs in with (kept in this tab's sessionStorage, sent as a bearer; never in a cookie, so no other
// site can make the browser use it).
"use strict";

const TOKEN = "openhost-admin-token";
const $ = (id) => document.getElementById(id);
let etag = null;
let plugins = [];
let editing = null;

function token() {
  return sessionStorage.getItem(TOKEN);
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Authorization: `Bearer ${token()}`, ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let json = null;
  try {
    json = await response.json();
  } catch (_) {
    json = null;
  }
  return { status: response.status, etag: response.headers.get("ETag"), json };
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function showSignIn(message) {
  $("console").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message || "";
}

async function load() {
  const answer = await api("GET", "/admin/api/plugins");
  if (answer.status === 401) {
    sessionStorage.removeItem(TOKEN);
    showSignIn(answer.json ? answer.json.error : "not signed in");
    return false;
  }
  if (answer.status !== 200) {
    $("reload-message").textContent = answer.json ? answer.json.error : `error ${answer.status}`;
    return false;
  }
  etag = answer.etag;
  plugins = answer.json.plugins;
  $("generation").textContent = `generation ${answer.json.generation}`;
  renderPlugins();
  await loadAudit();
  $("sign-in").hidden = true;
  $("console").hidden = false;
  $("sign-out").hidden = false;
  return true;
}

function renderPlugins() {
  const body = $("plugins").querySelector("tbody");
  body.replaceChildren();
  for (const plugin of plugins) {
    const row = document.createElement("tr");
    row.dataset.plugin = plugin.name;
    cell(row, plugin.name);
    cell(row, plugin.kind);
    cell(row, plugin.version);
    cell(row, plugin.signature ? plugin.signature.status : "");
    cell(row, plugin.loaded ? plugin.generation : "");
    const status = plugin.error ? plugin.error : plugin.loaded ? "loaded" : "disabled";
    cell(row, status, plugin.error ? "status-error" : "");
    const calls = plugin.calls || {};
    cell(row, calls.calls, "number");
    cell(row, calls.errors, "number");
    cell(row, calls.timeouts, "number");
    cell(row, calls.p99_ms === null || calls.p99_ms === undefined ? "" : `${calls.p99_ms} ms`, "number");
    const toggle = document.createElement("input");
    toggle.type = "checkbox";
    toggle.checked = plugin.settings.enabled !== false;
    toggle.setAttribute("aria-label", `enable ${plugin.name}`);
    toggle.addEventListener("change", () => change(plugin.name, { enabled: toggle.checked }, toggle));
    cell(row, "").appendChild(toggle);
    const edit = document.createElement("button");
    edit.textContent = "Edit";
    edit.setAttribute("aria-label", `edit the config of ${plugin.name}`);
    edit.addEventListener("click", () => openEditor(plugin));
    cell(row, "").appendChild(edit);
    body.appendChild(row);
  }
}

async function loadAudit() {
  const answer = await api("GET", "/admin/api/audit?limit=50");
  const body = $("audit").querySelector("tbody");
  body.replaceChildren();
  for (const entry of answer.json || []) {
    const row = document.createElement("tr");
    cell(row, entry.at);
    cell(row, entry.who);
    cell(row, entry.plugin);
    cell(row, entry.change);
    cell(row, JSON.stringify(entry.before));
    cell(row, JSON.stringify(entry.after));
    body.appendChild(row);
  }
}

// Sends a change with the ETag read; a refusal is shown where the change was asked for.
async function change(name, fields, control) {
  const answer = await api("PATCH", `/admin/api/plugins/${encodeURIComponent(name)}`, fields, { "If-Match": etag });
  if (answer.status === 200) {
    $("reload-message").textContent = `${name}: ${answer.json.message}`;
    await load();
    return null;
  }
  const why = answer.json ? answer.json.error : `error ${answer.status}`;
  if (answer.status === 412) await load();
  if (control && control.type === "checkbox") {
    control.checked = !control.checked;
    $("reload-message").textContent = why;
  }
  return why;
}

// What a schema says a value is: its type (an array's items too), "one of" its allowed values.
function typeOf(schema) {
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  const type = Array.isArray(schema.type) ? schema.type.join(" or ") : schema.type || "any";
  if (type === "array" && schema.items && typeof schema.items === "object") return `array of ${typeOf(schema.items)}`;
  return type;
}

// The keys the plugin's config schema declares (top-level properties), beside the editor: the schema is the
// plugin's own word on what its config takes; the host checks the config against it on save.
function renderSchema(schema) {
  const table = $("editor-schema");
  const body = table.querySelector("tbody");
  body.replaceChildren();
  const properties = schema && typeof schema.properties === "object" ? schema.properties : {};
  const required = new Set(Array.isArray(schema && schema.required) ? schema.required : []);
  for (const [key, property] of Object.entries(properties)) {
    const row = document.createElement("tr");
    row.dataset.key = key;
    cell(row, required.has(key) ? `${key} (required)` : key);
    cell(row, property && typeof property === "object" ? typeOf(property) : "any");
    cell(row, property && property.default !== undefined ? JSON.stringify(property.default) : "");
    cell(row, property && property.description ? property.description : "");
    body.appendChild(row);
  }
  table.hidden = body.children.length === 0;
}

function openEditor(plugin) {
  editing = plugin.name;
  $("editor-plugin").textContent = plugin.name;
  renderSchema(plugin.config_schema);
  const config = plugin.settings.config === undefined ? {} : plugin.settings.config;
  $("editor-text").value = JSON.stringify(config, null, 2);
  $("editor-error").textContent = "";
  $("editor").hidden = false;
  $("editor-text").focus();
}

async function saveEditor() {
  let config;
  try {
    config = JSON.parse($("editor-text").value);
  } catch (error) {
    $("editor-error").textContent = `not JSON: ${error.message}`;
    return;
  }
  const why = await change(editing, { config });
  if (why) {
    $("editor-error").textContent = why;
  } else {
    $("editor").hidden = true;
  }
}

async function reload() {
  const answer = await api("POST", "/admin/api/reload");
  $("reload-message").textContent = answer.json ? answer.json.message || answer.json.error : `error ${answer.status}`;
  await load();
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN, $("token").value);
    $("token").value = "";
    await load();
  });
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN);
    showSignIn("");
  });
  $("reload").addEventListener("click", reload);
  $("editor-save").addEventListener("click", saveEditor);
  $("editor-cancel").addEventListener("click", () => {
    $("editor").hidden = true;
  });
  if (token()) {
    load();
  } else {
    showSignIn("");
  }
});
