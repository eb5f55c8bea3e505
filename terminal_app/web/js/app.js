// The terminal app: pairing (internet) or signing in (LAN), the document list, counting one
// document by scans, and a queue of results that survives having no connection.
// Chrome 81 is the oldest browser it must run on (see docs/terminal-app.md).

import { acknowledgeAll, acknowledgedNews, toAcknowledge } from "./acks.js";
import { ApiError, InternetApi, LanApi, NetworkError } from "./api.js";
import { DEFAULT_SETTINGS, codeInLink, parseScan } from "./barcodes.js";
import { applyPage, findInCatalog } from "./catalog.js";
import { isZero, subtract } from "./decimal.js";
import { signal, unlockOnFirstTouch } from "./feedback.js";
import { currentLanguage, quantityShown, setLanguage, t } from "./i18n.js";
import { CATALOG, DOCS, OUTBOX, openStore, settings } from "./store.js";
import {
  applyScan, applyTyped, attributesToAsk, clearLine, documentsByScan, expiryOf, factLines, marksCheck, newCreatedJob,
  newJob, newResultId, partsOf, partsOfLine, progress, scannedIntoQuantity, summaryOf, titleOf, typedKeys, undoLast,
} from "./work.js";

var modeMeta = document.querySelector('meta[name="tsdx-mode"]');
var MODE = modeMeta && modeMeta.getAttribute("content") === "lan" ? "lan" : "internet";
var LONG_POLL_SECONDS = 20;
var LAN_POLL_MS = 3000;
var RETRY_MS = 3000;
// A blocked terminal asks again this often: an operator may let it in again at any moment.
var BLOCKED_RETRY_MS = 15000;
// Refusals no waiting undoes: the terminal has to be paired anew. Any other (blocked, or a 401
// without tsdx's code, from a proxy) is asked about again.
var FINAL_REFUSALS = ["device_retired", "device_replaced", "unauthorized"];
var CATALOG_SYNC_MS = 60000; // the catalog is synced in the background this often
var WATCH_MS = 5000; // how often a sent new document is checked for a refusal
var WATCH_FOR_MS = 120000; // how long: routing decides within seconds

var state = {
  store: null,
  jobs: new Map(), // delivery_id -> the document being counted (kept in IndexedDB)
  outbox: [], // results not yet accepted by the server (kept in IndexedDB)
  list: [], // LAN: the user's documents as the server last listed them
  listed: false, // LAN: whether the server listed them since the app started or signed in
  screen: "list",
  current: null,
  online: null, // whether the server answers: not known until it has answered (or not) once
  offlineReady: false,
  offlineChecked: false,
  device: null, // internet: the paired device
  session: null, // LAN: the signed-in user
  dialogOpen: false,
  flushing: null, // the send in progress, if any
  sound: true,
  known: 0,
  startable: [], // processes whose documents this terminal may start (kept for offline)
  syncing: false, // a catalog sync is running
  acks: {}, // how this gateway takes acknowledgements (acks.js: one by one on an older one)
  refused: null, // internet: why the server refuses this terminal ({code, message}), while it does
  refusedResults: {}, // result_id -> the server's refusal, for results it refused for good
};

// DOM helpers ---------------------------------------------------------------------------

function $(selector) {
  return document.querySelector(selector);
}

function h(tag, attrs, children) {
  var el = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (key) {
    var value = attrs[key];
    if (value === null || value === undefined || value === false) return;
    if (key.indexOf("on") === 0) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  });
  (children || []).forEach(function (child) {
    if (child === null || child === undefined || child === false) return;
    el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  });
  return el;
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Waiting that a regained connection cuts short.
var sleepers = [];
function pause(ms) {
  return new Promise(function (resolve) {
    var timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      sleepers = sleepers.filter(function (s) { return s !== done; });
      resolve();
    }
    sleepers.push(done);
  });
}
function wake() {
  sleepers.slice().forEach(function (s) { s(); });
}

// Storage ---------------------------------------------------------------------------------

async function saveJob(job) {
  state.jobs.set(job.delivery_id, job);
  await state.store.put(DOCS, job);
}

async function dropJob(id) {
  state.jobs.delete(id);
  await state.store.remove(DOCS, id);
}

function unsentFor(id) {
  return state.outbox.filter(function (item) { return item.delivery_id === id; }).length;
}

// The API of this mode ----------------------------------------------------------------------

function api() {
  if (MODE === "internet") return state.device ? new InternetApi(state.device.credential, currentLanguage()) : null;
  return state.session ? new LanApi(state.session.token, currentLanguage()) : null;
}

function setOnline(online) {
  if (state.online === online) return;
  state.online = online;
  renderChrome();
  if (online) flush();
}

function failedForNetwork(error) {
  return error instanceof NetworkError || (error instanceof ApiError && error.retryable);
}

// Top bar, status strip, notices ----------------------------------------------------------------

// A refused terminal reaches the server but may not use it: not "online" (the band says why).
function connectionWord() {
  if (state.refused) return t("refused_pill");
  return state.online === null ? t("connecting") : state.online ? t("online") : t("offline");
}

function pillKind() {
  if (state.online === null && !state.refused) return "pill-connecting";
  return state.online && !state.refused ? "pill-online" : "pill-offline";
}

// Whether the server answers, asked once where nothing else asks yet (pairing, logging in).
// Any answer will do: a proxy in front may refuse /healthz to the outside (docs/deploy.md).
async function askServer() {
  try {
    await fetch("/healthz", { cache: "no-store" });
    setOnline(true);
  } catch (error) {
    setOnline(false);
  }
}

function renderChrome() {
  var pill = $("#connection");
  pill.textContent = connectionWord();
  pill.className = "pill " + pillKind();
  pill.setAttribute("data-online", state.online ? "yes" : "no");
  var strip = $("#unsent");
  var n = state.outbox.length;
  // Before pairing or logging in there is nothing that could have been sent.
  strip.hidden = !n && (state.screen === "pair" || state.screen === "login");
  strip.textContent = (n ? "\u2191 " + t("unsent", { n: n }) : "\u2713 " + t("all_sent")) +
    (state.offlineChecked && !state.offlineReady ? " · " + t("offline_strip") : "");
  strip.className = "strip " + (n ? "strip-unsent" : "strip-sent");
  strip.setAttribute("data-unsent", String(n));
  $("#title").textContent = state.screen === "work" && state.current ? titleOf(state.jobs.get(state.current).summary) : "tsdx · " + t(MODE === "lan" ? "lan_mode" : "internet_mode");
  $("#menu-button").setAttribute("aria-label", t("menu"));
  renderRefusal();
  if (!$("#drawer").hidden) renderDrawer();
}

// Why the server refuses this terminal, for as long as it does. A notice would vanish and
// leave a terminal that looks as if it worked: this stays. A blocked terminal keeps asking
// (an operator may let it in again); a retired or replaced one, or one whose key is no longer
// known, can only be paired anew. Built again only when it changes: it is a live region, and
// a button rebuilt under the finger loses the tap.
function renderRefusal() {
  var box = $("#refusal");
  var refused = state.refused;
  var key = refused ? [refused.code, refused.message, currentLanguage()].join("|") : "";
  if (box.getAttribute("data-key") === key) return;
  box.setAttribute("data-key", key);
  clear(box);
  box.hidden = !refused;
  if (!refused) return;
  box.setAttribute("data-code", refused.code);
  // In the app's language when the code is tsdx's own (its words are the server's, shared/i18n.py:
  // they must follow a language switch, which asks the server nothing); else as it was said.
  var known = "refused_" + refused.code;
  var text = t(known, { pin: state.device ? state.device.pin : "" });
  box.appendChild(h("div", { class: "refusal-text", text: text === known ? refused.message : text }));
  if (isFinalRefusal()) {
    box.appendChild(h("button", { class: "button primary wide", id: "pair-anew", type: "button", onclick: unpair, text: t("pair_anew") }));
  } else {
    box.appendChild(h("div", { class: "refusal-hint", text: t("blocked_retry", { seconds: BLOCKED_RETRY_MS / 1000 }) }));
  }
}

function isFinalRefusal() {
  return !!state.refused && FINAL_REFUSALS.indexOf(state.refused.code) >= 0;
}

function setRefused(refused) {
  var was = state.refused;
  if (JSON.stringify(refused) === JSON.stringify(was)) return;
  state.refused = refused;
  renderChrome();
  if (was && !refused) {
    // Let in again: what changed meanwhile (the PIN, the mode, the catalog) is asked for.
    refreshDevice().catch(function () { /* asked again at the next start */ });
    syncCatalog();
  }
}

var noticeTimer = null;
var noticeAbout = null; // what the notice shown is about: "list" for a scan or an open on the list

// Hides the notice; with `about`, only a notice about that ("list": once a document opens).
function hideNotice(about) {
  if (about && noticeAbout !== about) return;
  clearTimeout(noticeTimer);
  $("#notice").hidden = true;
}

// An information notice goes after 8 s; an error stays until it is tapped or another error
// takes its place (an information notice does not): a storekeeper who looked away must still
// see what went wrong.
function notice(text, kind, about) {
  var box = $("#notice");
  var error = kind === "error";
  // A red notice stays until tapped, but for later news of the same thing (a document's
  // result refused, then finished and taken).
  if (!error && !box.hidden && box.classList.contains("notice-error") && !(about && about === noticeAbout)) return;
  box.textContent = text;
  box.className = "notice notice-" + (kind || "info");
  box.hidden = false;
  noticeAbout = about || null;
  clearTimeout(noticeTimer);
  if (!error) noticeTimer = setTimeout(function () { box.hidden = true; }, 8000);
}

// Side menu -----------------------------------------------------------------------------------

function row(label, value, id) {
  return h("div", { class: "menu-row" }, [h("span", { class: "menu-label", text: label }), h("span", { class: "menu-value", id: id, text: value })]);
}

function renderDrawer() {
  var drawer = clear($("#drawer"));
  var rows = [];
  if (MODE === "internet" && state.device) {
    rows.push(h("div", { class: "menu-pin-label", text: t("pin") }));
    rows.push(h("div", { class: "menu-pin", id: "menu-pin", text: state.device.pin }));
    rows.push(row(t("model"), state.device.model || "—", "menu-model"));
    rows.push(row(t("hardware_id"), state.device.hardware_id, "menu-hardware-id"));
    rows.push(row(t("device_mode"), t(state.device.mode === "offline" ? "device_mode_offline" : "device_mode_online"), "menu-mode"));
  }
  if (MODE === "lan" && state.session) {
    rows.push(h("div", { class: "menu-user", id: "menu-user", text: state.session.name || state.session.login }));
    rows.push(row(t("login"), state.session.login));
    rows.push(row(t("groups"), state.session.groups.join(", ") || "—"));
    rows.push(row(t("base"), state.session.tenant));
  }
  rows.push(row(t("connection"), connectionWord(), "menu-connection"));
  rows.push(row(t("unsent", { n: "" }).replace(/[:\s]+$/, ""), String(state.outbox.length), "menu-unsent"));
  rows.push(row(t("offline_work"), state.offlineReady ? t("offline_ready") : t("offline_unavailable"), "menu-offline"));
  rows.push(row(t("catalog_version"), String(settings.get("catalog_version", 0)), "menu-catalog-version"));
  rows.push(row(t("catalog_synced"), syncedText(settings.get("catalog_synced_at", null)), "menu-catalog-synced"));
  var buttons = [
    h("button", { class: "menu-button", id: "language-toggle", type: "button", onclick: toggleLanguage, text: t("language") }),
    h("button", { class: "menu-button", id: "sound-toggle", type: "button", onclick: toggleSound, text: t("sound") + ": " + (state.sound ? t("on") : t("off")) }),
  ];
  if (MODE === "internet" && state.device) buttons.push(h("button", { class: "menu-button danger", id: "unpair", type: "button", onclick: unpair, text: t("unpair") }));
  if (MODE === "lan" && state.session) buttons.push(h("button", { class: "menu-button", id: "logout", type: "button", onclick: logout, text: t("log_out") }));
  buttons.push(h("button", { class: "menu-button", id: "menu-close", type: "button", onclick: closeDrawer, text: t("close") }));
  drawer.appendChild(h("div", { class: "menu-body" }, rows.concat(buttons)));
}

// «05.12 20:14», or «ещё нет» before the first sync.
function syncedText(iso) {
  if (!iso) return t("never");
  var d = new Date(iso);
  var two = function (n) { return (n < 10 ? "0" : "") + n; };
  return two(d.getDate()) + "." + two(d.getMonth() + 1) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
}

// The catalog: every change since the version kept, page by page, each page stored whole
// before its version is kept (a sync cut in the middle goes on from the last stored page).
async function syncCatalog() {
  var client = api();
  if (state.syncing || !client || state.refused) return;
  state.syncing = true;
  try {
    var since = settings.get("catalog_version", 0);
    for (;;) {
      var page = await client.catalog(since);
      if (page.reset) await state.store.wipe(CATALOG);
      await state.store.change(CATALOG, function (read, write, drop) { return applyPage(page, read, write, drop); });
      since = page.version;
      settings.set("catalog_version", since);
      if (page.reset || page.cells.length || page.deleted.length) relearnCellNames();
      if (!page.more) break;
    }
    settings.set("catalog_synced_at", new Date().toISOString());
  } catch (error) {
    // No connection, or the server is busy: the next round tries again.
  } finally {
    state.syncing = false;
    if (!$("#drawer").hidden) renderDrawer();
  }
}

function catalogRead(key) {
  return state.store.get(CATALOG, key);
}

// Cells by the names the catalog gives them (1C's cells are often GUIDs): a line's cell, a
// batch's, a refusal's. Read for a document as it opens; a cell unknown there keeps its id.
var cellNames = {};

function cellName(id) {
  return cellNames[id] || id;
}

// Cells changed in the catalog: read again, for the document open now too.
function relearnCellNames() {
  cellNames = {};
  var job = state.screen === "work" ? state.jobs.get(state.current) : null;
  if (job) learnCellNames(job).catch(function () { /* ids stay shown */ });
}

async function learnCellNames(job) {
  var wanted = {};
  job.lines.forEach(function (line) { if (line.cell) wanted[line.cell] = true; });
  partsOf(job).forEach(function (part) { if (part.cell) wanted[part.cell] = true; });
  var ids = Object.keys(wanted).filter(function (id) { return cellNames[id] === undefined; });
  var learnt = false;
  for (var i = 0; i < ids.length; i++) {
    var cell = await catalogRead("cell:" + ids[i]);
    cellNames[ids[i]] = cell && cell.name ? cell.name : ids[i];
    learnt = learnt || cellNames[ids[i]] !== ids[i];
  }
  if (learnt && state.screen === "work" && state.current === job.delivery_id) renderLines(job, lastLine);
}

function openDrawer() {
  renderDrawer();
  $("#drawer").hidden = false;
  $("#drawer-shade").hidden = false;
}

function closeDrawer() {
  $("#drawer").hidden = true;
  $("#drawer-shade").hidden = true;
  focusScan();
}

function toggleLanguage() {
  var next = currentLanguage() === "ru" ? "en" : "ru";
  settings.set("lang", next);
  setLanguage(next);
  render();
  renderDrawer();
}

function toggleSound() {
  state.sound = !state.sound;
  settings.set("sound", state.sound);
  renderDrawer();
}

// Dialogs (never window.confirm: a terminal's browser may block it) ---------------------------

function dialog(options) {
  return new Promise(function (resolve) {
    var shade = clear($("#dialog-shade"));
    var input = options.input ? h("input", { id: "dialog-input", class: "big-input", type: "text", inputmode: options.inputmode || "decimal", autocomplete: "off", placeholder: options.input }) : null;
    function close(value) {
      shade.hidden = true;
      clear(shade);
      state.dialogOpen = false;
      resolve(value);
      focusScan();
    }
    // When each key of the field's text was pressed: a scanner's pace tells a scan from typing.
    var keyTimes = [];
    // The field's answer: its text, or {scan: text} when `options.isScan` tells it was scanned.
    function answer() {
      return options.isScan && options.isScan(input.value, keyTimes) ? { scan: input.value } : input.value;
    }
    var ok = h("button", { class: options.danger ? "button destructive" : "button primary", id: "dialog-ok", type: "button", text: options.ok || "OK", onclick: function () { close(input ? answer() : true); } });
    // A dialog that only tells (options.info) has one button: Cancel would say the same.
    var cancel = options.info ? null : h("button", { class: "button", id: "dialog-cancel", type: "button", text: t("cancel"), onclick: function () { close(null); } });
    // A third answer, when given: resolves with its value.
    var other = options.other ? h("button", { class: "button danger", id: options.other.id, type: "button", text: options.other.text, onclick: function () { close(options.other.value); } }) : null;
    if (input) {
      input.addEventListener("keydown", function (e) {
        if (!endsScan(e, input.value)) return;
        e.preventDefault();
        close(answer());
      });
      // Timed by what each input adds, not by key events: an Android wedge may commit a whole
      // code in one input, its keydowns "Unidentified".
      var length = 0;
      input.addEventListener("input", function (e) {
        var added = input.value.length - length;
        length = input.value.length;
        keyTimes = e.inputType === "insertFromPaste" ? [] : typedKeys(keyTimes, Date.now(), added);
      });
    }
    var box = h("div", { class: "dialog", id: "dialog", role: "dialog", tabindex: "-1" }, [
      h("p", { class: "dialog-text", text: options.text }), input, h("div", { class: "dialog-actions" }, [cancel, ok]), other,
    ]);
    // Escape answers Cancel, as a keyboard's user expects.
    box.addEventListener("keydown", function (e) {
      if (e.key !== "Escape") return;
      e.preventDefault();
      close(null);
    });
    shade.appendChild(box);
    state.dialogOpen = true;
    shade.hidden = false;
    // A question waits on itself, not on a button: a scan's Enter must not answer it (a tap
    // does); a field takes what is typed.
    (input || box).focus();
  });
}

// Screens -------------------------------------------------------------------------------------

function render() {
  renderChrome();
  var screen = clear($("#screen"));
  screen.setAttribute("data-screen", state.screen);
  if (state.screen === "pair") screen.appendChild(pairScreen());
  else if (state.screen === "login") screen.appendChild(loginScreen());
  else if (state.screen === "work") screen.appendChild(workScreen());
  else screen.appendChild(listScreen());
  focusScan();
}

function go(screen, current) {
  if ((current || null) !== state.current) lastLine = -1;
  if (screen === "work") hideNotice("list"); // a wrong scan or a failed open on the list
  state.screen = screen;
  state.current = current || null;
  settings.set("open", screen === "work" ? state.current : null);
  render();
  var job = screen === "work" ? state.jobs.get(state.current) : null;
  if (job) learnCellNames(job).catch(function () { /* ids stay shown */ });
}

// The connection code as typed or scanned: the code itself, or a link to this app carrying it
// (the server reads a code typed through the Russian layout back through the keys).
function connectionCode(text) {
  return codeInLink(text) || String(text).trim();
}

function pairScreen() {
  var code = h("input", { id: "connection-code", class: "big-input", type: "text", autocomplete: "off", autocapitalize: "characters", placeholder: t("connection_code"), value: codeInLink(location.search + location.hash) });
  var button = h("button", { id: "pair-button", class: "button primary wide", type: "submit", text: t("pair") });
  var form = h("form", { class: "form", onsubmit: function (e) { e.preventDefault(); pair(code.value, button); } }, [
    h("h1", { text: t("pair_title") }), h("p", { class: "hint", text: t("pair_hint") }), code, button,
  ]);
  code.addEventListener("keydown", function (e) {
    if (e.key === "Tab" && endsScan(e, code.value)) { e.preventDefault(); pair(code.value, button); }
  });
  setTimeout(function () { code.focus(); }, 0);
  return form;
}

function loginScreen() {
  var base = h("input", { id: "lan-base", class: "big-input", type: "text", autocomplete: "off", placeholder: t("base"), value: settings.get("lan_base", "") });
  var login = h("input", { id: "lan-login", class: "big-input", type: "text", autocomplete: "username", placeholder: t("login") });
  var password = h("input", { id: "lan-password", class: "big-input", type: "password", autocomplete: "current-password", placeholder: t("password") });
  var badge = h("input", { id: "lan-badge", class: "big-input", type: "text", autocomplete: "off", placeholder: t("badge_hint") });
  var button = h("button", { id: "login-button", class: "button primary wide", type: "submit", text: t("log_in") });
  badge.addEventListener("keydown", function (e) {
    if (endsScan(e, badge.value)) { e.preventDefault(); signIn({ tenant: base.value, barcode: badge.value }, button); }
  });
  var form = h("form", { class: "form", onsubmit: function (e) { e.preventDefault(); signIn({ tenant: base.value, login: login.value, password: password.value }, button); } }, [
    h("h1", { text: t("login_title") }), base, login, password, button, badge,
  ]);
  setTimeout(function () { (base.value ? login : base).focus(); }, 0);
  return form;
}

function stateLabel(summary) {
  if (summary.state === "created") return { text: t("state_created"), kind: "mine" };
  if (MODE === "lan") {
    if (summary.mine) return { text: t("state_mine"), kind: "mine" };
    var holders = summary.taken_by || [];
    if (holders.length && !summary.collective) return { text: t("state_taken", { who: holders.map(function (x) { return x.name || x.login; }).join(", ") }), kind: "taken" };
    if (summary.collective) return { text: t("state_collective"), kind: "free" };
    return { text: t("state_free"), kind: "free" };
  }
  return { text: t("state_" + summary.state) || summary.state, kind: summary.state };
}

function visibleDocuments() {
  var shown = [];
  var seen = {};
  state.jobs.forEach(function (job) {
    if (job.finished || ofAnotherUser(job)) return;
    seen[job.delivery_id] = true;
    var fromServer = state.list.find(function (s) { return s.delivery_id === job.delivery_id; });
    shown.push(fromServer ? Object.assign({}, job.summary, summaryOf(fromServer)) : job.summary);
  });
  state.list.forEach(function (s) {
    // Finished here a moment ago, or its result not sent yet: not offered again from a list
    // read before the server heard of it.
    var here = state.jobs.get(s.delivery_id);
    var justFinished = here && here.finished && (unsentFor(s.delivery_id) || Date.now() - (here.finishedAt || 0) < WATCH_FOR_MS);
    if (!seen[s.delivery_id] && !s.finished_by_me && !justFinished) shown.push(s);
  });
  return shown;
}

// What 1C wrote in the document's comment for the storekeeper («Срочно», «только стеллаж 5»):
// of its header, or of the LAN list's summary of a document not taken yet.
function commentOf(header) {
  return header && header.comment ? String(header.comment).trim() : "";
}

// «ООО «Ромашка» · Основной склад»: whom the goods come from or go to, and where.
function partyOf(header) {
  return [header.counterparty, header.warehouse].filter(Boolean).join(" · ");
}

function listScreen() {
  var documents = visibleDocuments();
  var items = documents.map(function (summary) {
    var label = stateLabel(summary);
    var job = state.jobs.get(summary.delivery_id);
    // Shown once counting began, before any line is complete: «✓ 0 / 3».
    var counted = job && job.counts.some(function (c) { return !isZero(c); }) ? progress(job) : null;
    if (counted && !counted.total) counted = null; // nothing planned: no lines to complete
    return h("li", {}, [h("button", { class: "doc-card", type: "button", "data-delivery-id": summary.delivery_id, onclick: function () { openDocument(summary); } }, [
      h("div", { class: "doc-title", text: titleOf(summary) }),
      partyOf(job ? job.header : summary) ? h("div", { class: "doc-party", text: partyOf(job ? job.header : summary) }) : null,
      commentOf(job ? job.header : summary) ? h("div", { class: "doc-comment", text: commentOf(job ? job.header : summary) }) : null,
      h("div", { class: "doc-meta" }, [
        h("span", {}, [
          t("lines", { n: summary.lines }) + (counted ? " · \u2713 " + counted.done + " / " + counted.total : ""),
          counted && counted.over ? h("span", { class: "doc-over", text: " · " + t("progress_over", { n: counted.over }) }) : null,
        ]),
        h("span", { class: "badge badge-" + label.kind, text: label.text }),
      ]),
      unsentFor(summary.delivery_id) ? h("div", { class: "doc-unsent", text: "\u2191 " + t("unsent_mark") }) : null,
    ])]);
  });
  var start = state.startable.length ? h("button", { id: "new-document", class: "button new-document", type: "button", text: "+ " + t("new_document"), onclick: startDocument }) : null;
  if (items.length) return h("div", {}, [start, h("ul", { class: "doc-list", id: "documents" }, items)]);
  var empty = [start, h("div", { class: "empty-title", text: t("no_documents") })];
  if (MODE === "internet" && state.device) {
    empty.push(h("p", { class: "hint", text: t("waiting_by_pin") }));
    empty.push(h("div", { class: "big-pin", id: "pin", text: state.device.pin }));
  }
  return h("div", { class: "empty", id: "documents-empty" }, empty);
}

// A new document of a process that allows it: chosen from a list when there are several.
async function startDocument() {
  var process = state.startable.length === 1 ? state.startable[0] : await choose(t("new_document"), state.startable);
  if (!process) return;
  var job = newCreatedJob(process);
  markOwner(job);
  await saveJob(job);
  go("work", job.delivery_id);
}

function choose(title, processes) {
  return new Promise(function (resolve) {
    var shade = clear($("#dialog-shade"));
    function close(value) {
      shade.hidden = true;
      clear(shade);
      state.dialogOpen = false;
      resolve(value);
    }
    var buttons = processes.map(function (process) {
      return h("button", { class: "button choice", type: "button", "data-process": process.id, text: process.name, onclick: function () { close(process); } });
    });
    buttons.push(h("button", { class: "button", id: "dialog-cancel", type: "button", text: t("cancel"), onclick: function () { close(null); } }));
    shade.appendChild(h("div", { class: "dialog", id: "dialog", role: "dialog" }, [h("p", { class: "dialog-text", text: title })].concat(buttons)));
    state.dialogOpen = true;
    shade.hidden = false;
  });
}

// «3 / 5», and the lines past their plan when there are any: «3 / 5 · сверх плана: 1».
function progressText(p) {
  return p.done + " / " + p.total + (p.over ? " · " + t("progress_over", { n: p.over }) : "");
}

function lineItem(job, line, i, highlight) {
  var count = job.counts[i];
  var planned = String(line.planned_qty);
  var cmp = compareQuantity(count, planned);
  var kind = cmp === 0 ? "done" : cmp > 0 ? "over" : count === "0" ? "todo" : "partial";
  // A product outside the plan has no plan to pass: counted, in a document without a plan (a
  // count of a shelf) plainly, beside a plan as a product the plan does not hold.
  if (line.unplanned) kind = job.lines.every(function (l) { return l.unplanned; }) ? "counted" : "unplanned";
  var marks = job.marks[i].length;
  var batches = partsOfLine(job, i).filter(function (part) { return part.series || part.expiry || part.cell || part.characteristic; });
  return h("li", { class: "line line-" + kind + (highlight ? " line-last" : ""), "data-line-no": String(line.line_no), onclick: function () { typeQuantity(job, i); } }, [
    h("div", { class: "line-main" }, [
      h("div", { class: "line-name", text: line.name || line.product_id }),
      h("div", { class: "line-meta", text: [line.article ? t("article") + " " + line.article : "", line.unit, line.cell ? t("cell") + " " + cellName(line.cell) : "", marks ? t("marks_count", { n: marks }) : ""].filter(Boolean).join(" · ") }),
      batches.length ? h("div", { class: "line-batches" }, batches.map(function (part) { return h("div", { class: "line-batch", text: batchText(part) }); })) : null,
    ]),
    h("div", { class: "line-qty" }, [
      h("span", { class: "qty-count", text: quantityShown(count) }),
      line.unplanned ? null : h("span", { class: "qty-plan", text: " / " + quantityShown(planned) }),
    ]),
  ]);
}

// «ячейка A-01 · серия L042 · до 31.03.2027: 2»
function batchText(part) {
  var date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(part.expiry || "");
  return [
    part.cell ? t("cell") + " " + cellName(part.cell) : "",
    part.characteristic,
    part.series ? t("series") + " " + part.series : "",
    date ? t("expiry_until") + " " + date[3] + "." + date[2] + "." + date[1] : "",
  ].filter(Boolean).join(" · ") + ": " + quantityShown(part.quantity);
}

function showCell(job) {
  var box = $("#current-cell");
  if (!box) return;
  box.hidden = !job.cell;
  box.textContent = job.cell ? t("current_cell", { name: job.cellName || job.cell }) : "";
}

function marksCheckText(job) {
  var check = marksCheck(job);
  if (!check) return "";
  return t("marks_check", { expected: check.expected, found: check.found, surplus: check.surplus.length, missing: check.missing.length });
}

// Which codes are missing and which are surplus, to look for them on the pallet.
function showMarksCheck(job) {
  var check = marksCheck(job);
  var list = function (keys) { return keys.length ? keys.map(function (k) { return "\u2022 " + k; }).join("\n") : "\u2014"; };
  dialog({ text: t("marks_missing") + "\n" + list(check.missing) + "\n\n" + t("marks_surplus") + "\n" + list(check.surplus), ok: t("close"), info: true });
}

function compareQuantity(a, b) {
  var x = Number(a);
  var y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0; // for colour only; counting itself is exact (decimal.js)
}

var lastLine = -1;

function workScreen() {
  var job = state.jobs.get(state.current);
  var scan = h("input", { id: "scan", class: "scan-input", type: "text", inputmode: "none", autocomplete: "off", autocorrect: "off", spellcheck: "false", placeholder: t("scan_here") });
  scan.addEventListener("keydown", function (e) {
    if (!endsScan(e, scan.value)) return;
    e.preventDefault();
    var raw = scan.value;
    scan.value = "";
    queueScan(raw);
    // A code typed on the on-screen keyboard is in: the keyboard goes, the scanner is back.
    if (scan.getAttribute("inputmode") !== "none") {
      scan.setAttribute("inputmode", "none");
      scan.blur();
    }
  });
  scan.addEventListener("blur", function () { setTimeout(focusScan, 0); });
  var keyboard = h("button", { id: "keyboard", class: "icon-button tool", type: "button", title: t("keyboard"), text: "\u2328", onclick: function () {
    scan.setAttribute("inputmode", scan.getAttribute("inputmode") === "none" ? "text" : "none");
    scan.blur();
    scan.focus();
  } });
  var camera = "BarcodeDetector" in window ? h("button", { id: "camera", class: "icon-button tool", type: "button", title: t("camera"), text: "\u25a3", onclick: scanWithCamera }) : null;
  var undo = h("button", { id: "undo", class: "icon-button tool", type: "button", title: t("undo_last"), "aria-label": t("undo_last"), text: "\u21b6", disabled: !job.lastCount, onclick: undoScan });
  var p = progress(job);
  var actions = [h("button", { id: "back", class: "button", type: "button", text: t("back"), onclick: function () { go("list"); } })];
  if (MODE === "lan") actions.push(h("button", { id: "release", class: "button", type: "button", text: t("release"), onclick: function () { release(job); } }));
  if (job.settings.collective) actions.push(h("button", { id: "partial", class: "button", type: "button", text: t("partial"), onclick: function () { sendPartial(job); } }));
  actions.push(h("button", { id: "finish", class: "button primary", type: "button", text: t("finish"), onclick: function () { finish(job); } }));
  return h("div", { class: "work" }, [
    h("div", { class: "work-head" }, [
      h("div", { class: "work-title", id: "work-title", text: partyOf(job.header) || titleOf(job.summary) }),
      h("div", { class: "work-progress", id: "progress", "data-over": p.over ? "true" : "false", text: progressText(p) }),
    ]),
    commentOf(job.header) ? h("div", { class: "work-comment", id: "work-comment", text: commentOf(job.header) }) : null,
    h("div", { class: "scan-row" }, [scan, undo, keyboard, camera]),
    h("div", { id: "message", class: "message", "data-kind": job.summary.refusal ? "error" : "idle", text: job.summary.refusal ? t("result_refused", { message: job.summary.refusal.message }) : "" }),
    marksCheck(job) ? h("button", { id: "marks-check", class: "marks-check", type: "button", text: marksCheckText(job), onclick: function () { showMarksCheck(job); } }) : null,
    h("div", { id: "current-cell", class: "current-cell", hidden: !job.cell, text: job.cell ? t("current_cell", { name: job.cellName || job.cell }) : "" }),
    h("ul", { id: "lines", class: "lines" }, job.lines.map(function (line, i) { return lineItem(job, line, i, i === lastLine); })),
    h("div", { class: "actions" }, actions),
  ]);
}

function renderLines(job, highlight) {
  lastLine = highlight;
  var list = $("#lines");
  if (!list) return;
  clear(list);
  job.lines.forEach(function (line, i) { list.appendChild(lineItem(job, line, i, i === highlight)); });
  var p = progress(job);
  $("#progress").textContent = progressText(p);
  $("#progress").setAttribute("data-over", p.over ? "true" : "false");
  var check = $("#marks-check");
  if (check) check.textContent = marksCheckText(job);
  var undo = $("#undo");
  if (undo) undo.disabled = !job.lastCount;
  var last = list.querySelector(".line-last");
  if (last && last.scrollIntoView) last.scrollIntoView({ block: "nearest" });
}

function message(kind, text) {
  var box = $("#message");
  if (!box) return notice(text, kind === "error" ? "error" : "info");
  box.textContent = text;
  box.setAttribute("data-kind", kind);
}

function focusScan() {
  if (state.dialogOpen || !$("#drawer").hidden) return;
  var scan = $("#scan");
  if (scan && document.activeElement !== scan) scan.focus();
}

// Counting ------------------------------------------------------------------------------------

function barcodeSettings(job) {
  var owner = state.device || state.session;
  var own = (job.settings && job.settings.barcodes) || (owner && owner.barcodes) || {};
  return Object.assign({}, DEFAULT_SETTINGS, own);
}

// Scans are handled one at a time in the order they were made: a wedge scanner can fire the
// next code while the last one is still being written, and its answer must not overtake.
var scansDone = Promise.resolve();

function queueScan(raw) {
  scansDone = scansDone.then(function () { return handleScan(raw); }).catch(scanFailed);
  return scansDone;
}

// A scan (or an undo) that failed on its way (the store): said, and the next one goes on.
function scanFailed(error) {
  message("error", String(error && error.message || error));
  signal("error", state.sound);
}

// A scan changes the job, the job goes to disk, and only then does the terminal beep "ok":
// an accepted beep means the count survives a reload or a dead battery.
async function handleScan(raw) {
  var job = state.jobs.get(state.current);
  // A stray Enter (an empty scan field) is no scan: nothing to refuse.
  if (!job || !String(raw).trim()) return;
  var scanSettings = barcodeSettings(job);
  // What the catalog knows of the code: a product or a cell when no line has it, a box's factor
  // or a series when a line does.
  var hit = await findInCatalog(parseScan(raw, scanSettings), catalogRead);
  var typed = await askAttributes(attributesToAsk(job, raw, scanSettings, hit));
  if (typed === null || !stillOpen(job)) return;
  var outcome = applyScan(job, raw, scanSettings, typed, hit);
  await reportCount(job, outcome);
}

// The series, expiry or characteristic the process asks for and the scan did not carry.
// Null when the storekeeper cancels: nothing is counted.
async function askAttributes(names) {
  var typed = {};
  for (var i = 0; i < names.length; i++) {
    var name = names[i];
    var value = await dialog({ text: t("ask_" + name), input: t(name), inputmode: "text", ok: "OK" });
    if (value === null || value === undefined) return null;
    value = String(value).trim();
    if (name === "expiry" && value) {
      var date = expiryOf(value);
      if (!date) {
        message("error", t("bad_expiry", { value: value }));
        signal("error", state.sound);
        return null;
      }
      value = date;
    }
    typed[name] = value;
  }
  return typed;
}

// Whether the job is still the terminal's to count: a withdrawal (or Finish) while a question
// was open drops it, and a count made after must not bring it back by saving it.
function stillOpen(job) {
  return state.jobs.get(job.delivery_id) === job && !job.finished;
}

async function reportCount(job, outcome) {
  if (!stillOpen(job)) return; // its withdrawal was said; nothing is saved or heard as counted
  if (!outcome.ok) {
    message("error", t(outcome.reason, paramsShown(outcome.params)));
    signal("error", state.sound);
    return;
  }
  await saveJob(job);
  if (outcome.cell) {
    cellNames[outcome.cell] = outcome.name;
    message("ok", t("cell_entered", { name: outcome.name }));
    signal("ok", state.sound);
    showCell(job);
    return;
  }
  var line = job.lines[outcome.line];
  var said = outcome.aggregate ? "aggregate_ok" : outcome.surplus ? "mark_surplus" : outcome.over ? "scanned_over_plan" : outcome.mark ? "mark_ok" : "scanned_ok";
  var total = job.counts[outcome.line];
  var params = quantitiesShown({ name: line.name || line.product_id, qty: outcome.quantity, planned: line.planned_qty, total: total, surplus: outcome.over ? subtract(total, String(line.planned_qty)) : "0" });
  // A quantity counted is said with its unit («+1,235 кг»); a box says how many codes it held.
  if (line.unit && (said === "scanned_ok" || said === "scanned_over_plan")) params.qty += " " + line.unit;
  // Counted past the plan, a product the plan does not hold, a code 1C did not send: counted,
  // and said as a warning, seen and heard apart from a plain accept.
  var warn = outcome.over || outcome.surplus || Boolean(line.unplanned);
  message(warn ? "warn" : "ok", t(said, params));
  signal(warn ? "warn" : "ok", state.sound);
  renderLines(job, outcome.line);
}

// The last count taken back (a scan counted twice, the wrong product), after the scans before it
// were handled: it is the last one the storekeeper heard.
function undoScan() {
  scansDone = scansDone.then(async function () {
    // The document open now: withdrawn or finished while the undo waited, there is none.
    var job = state.screen === "work" ? state.jobs.get(state.current) : null;
    if (!job || job.finished) return;
    var outcome = undoLast(job);
    if (!outcome.ok) {
      message("error", t(outcome.reason));
      signal("error", state.sound);
      return;
    }
    await saveJob(job);
    var line = outcome.line >= 0 ? job.lines[outcome.line] : null;
    var qty = quantityShown(outcome.quantity) + (line && line.unit && !outcome.box ? " " + line.unit : "");
    message("warn", t(outcome.box ? "undone_box" : "undone", { name: outcome.name, qty: qty }));
    signal("warn", state.sound);
    renderLines(job, outcome.line);
  }).catch(scanFailed);
  return scansDone;
}

// The quantities among a message's words, as the reader writes them.
var QUANTITY_WORDS = ["qty", "planned", "total", "fact", "surplus"];

// A refusal's words as the storekeeper reads them: quantities written as they are typed,
// cells by their names.
function paramsShown(params) {
  var shown = quantitiesShown(params);
  ["cell", "planned_cell"].forEach(function (word) {
    if (shown[word]) shown[word] = cellName(shown[word]);
  });
  return shown;
}

function quantitiesShown(params) {
  var shown = Object.assign({}, params);
  QUANTITY_WORDS.forEach(function (word) {
    if (shown[word] !== undefined) shown[word] = quantityShown(shown[word]);
  });
  return shown;
}

// What the quantity dialog answers when the storekeeper asks to count the line again.
var CLEAR_LINE = {};

async function typeQuantity(job, index) {
  var line = job.lines[index];
  var name = line.name || line.product_id;
  var counted = !isZero(job.counts[index]);
  var other = counted ? { id: "dialog-clear", text: t("clear_line"), value: CLEAR_LINE } : null;
  var typed = await dialog({ text: t("add_quantity") + ": " + name + (line.unit ? ", " + line.unit : ""), input: t("quantity"), ok: t("add"), other: other, isScan: scannedIntoQuantity });
  if (typed === null || typed === undefined || !stillOpen(job)) return;
  if (typed === CLEAR_LINE) return clearCount(job, index);
  if (typed.scan !== undefined) return queueScan(typed.scan); // counted as the scan it is
  var attributes = await askAttributes((job.settings.ask_for || []).filter(function (name) { return !line[name]; }));
  if (attributes === null || !stillOpen(job)) return;
  await reportCount(job, applyTyped(job, index, typed, attributes));
}

async function clearCount(job, index) {
  var name = job.lines[index].name || job.lines[index].product_id;
  var unit = job.lines[index].unit ? " " + job.lines[index].unit : "";
  if (!(await dialog({ text: t("confirm_clear_line", { name: name, qty: quantityShown(job.counts[index]) + unit }), ok: t("clear_line"), danger: true }))) return;
  if (!stillOpen(job)) return;
  clearLine(job, index);
  await saveJob(job);
  message("ok", t("line_cleared", { name: name }));
  renderLines(job, index);
}

async function scanWithCamera() {
  var shade = clear($("#dialog-shade"));
  var video = h("video", { class: "camera", autoplay: true, playsinline: true, muted: true });
  var stream = null;
  var stopped = false;
  function stop() {
    stopped = true;
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    shade.hidden = true;
    clear(shade);
    state.dialogOpen = false;
    focusScan();
  }
  shade.appendChild(h("div", { class: "dialog" }, [video, h("div", { class: "dialog-actions" }, [h("button", { class: "button", type: "button", text: t("cancel"), onclick: stop })])]));
  state.dialogOpen = true;
  shade.hidden = false;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    var detector = new window.BarcodeDetector();
    while (!stopped) {
      var found = await detector.detect(video).catch(function () { return []; });
      if (found.length) {
        stop();
        await queueScan(found[0].rawValue);
        return;
      }
      await pause(250);
    }
  } catch (error) {
    stop();
    message("error", String(error.message || error));
  }
}

// Results ---------------------------------------------------------------------------------------

async function queueResult(job, final) {
  var item = {
    result_id: newResultId(), // stable across resends: the server applies it once
    delivery_id: job.delivery_id,
    final: final,
    lines: factLines(job),
    created: Date.now(),
  };
  if (job.made) item.made = job.made; // a document started here: it goes as a new one
  markOwner(item);
  job.last_result_id = item.result_id;
  if (final) {
    job.finished = true;
    job.finishedAt = Date.now(); // kept a while for the server's word on it (pruneJobs)
  }
  await state.store.put(OUTBOX, item);
  await saveJob(job);
  state.outbox.push(item);
  renderChrome();
  return item;
}

async function finish(job) {
  var p = progress(job);
  var short = p.total - p.done - p.over;
  var question = t(short && p.over ? "confirm_finish_short_over" : short ? "confirm_finish_short" : p.over ? "confirm_finish_over" : "confirm_finish", Object.assign({ short: short }, p));
  // Not as planned: a scan's Enter must not finish it (focus on Cancel).
  var unlike = short > 0 || p.over > 0;
  if (!(await dialog({ text: question, ok: t("finish"), danger: unlike }))) return;
  var item = await queueResult(job, true);
  go("list");
  var sent = await sendNow(item);
  if (refusedResult(item)) return; // said by refusedForGood
  var how = sent ? "finished_sent" : isFinalRefusal() ? "finished_lost" : state.refused ? "finished_held" : "finished_queued";
  notice(t("finished", { how: t(how) }), "info", job.delivery_id);
}

async function sendPartial(job) {
  var item = await queueResult(job, false);
  var sent = await sendNow(item);
  if (refusedResult(item)) return; // said by refusedForGood
  // Said as it is: sent, kept until the server can take it, or never to go (a retired terminal).
  var lost = !sent && isFinalRefusal();
  message(lost ? "error" : "ok", t(sent ? "partial_queued" : lost ? "partial_lost" : "partial_kept"));
}

// A result the server refused for good: said, never as sent. A final one refused for what it
// holds (422) brings its document back to the list, counted as it was, to be put right and
// finished again; any other refusal (withdrawn, a LAN lock lost) means the copy is no longer
// this terminal's to finish.
async function refusedForGood(item, error) {
  var message = error.message;
  state.refusedResults[item.result_id] = message;
  var job = state.jobs.get(item.delivery_id);
  var ours = job && job.finished && job.last_result_id === item.result_id;
  var back = error.status === 422 && item.final && ours;
  if (back) {
    job.finished = false;
    await saveJob(job);
  } else if (ours) {
    // Withdrawn, or a LAN lock lost: no longer this terminal's to finish; the list shows the
    // document as the server has it now.
    await dropJob(item.delivery_id);
  }
  var title = job ? titleOf(job.summary) : item.delivery_id;
  notice(t(back ? "result_dropped_back" : "result_dropped", { title: title, message: message }), "error", item.delivery_id);
  signal("error", state.sound);
}

// Whether the server refused this result for good; asked once, by what said it was sent.
function refusedResult(item) {
  var refused = state.refusedResults[item.result_id] !== undefined;
  delete state.refusedResults[item.result_id];
  return refused;
}

// Sends what is queued until this result was tried; whether it left the outbox (sent, or
// refused for good). The send that was running may have ended before this result came.
async function sendNow(item) {
  var waiting = function () { return state.outbox.some(function (x) { return x.result_id === item.result_id; }); };
  await flush();
  if (waiting()) await flush();
  return !waiting();
}

// A final result just taken: its document is kept from now, not from when it was finished
// (perhaps offline an hour ago), for routing's word on it (pruneJobs).
async function keptForTheWord(item) {
  var job = state.jobs.get(item.delivery_id);
  if (!job || !job.finished || job.last_result_id !== item.result_id) return;
  job.finishedAt = Date.now();
  await saveJob(job);
}

async function removeSent(item) {
  state.outbox = state.outbox.filter(function (x) { return x.result_id !== item.result_id; });
  await state.store.remove(OUTBOX, item.result_id);
}

// What waits to be sent, one line a result, with the document it is for: a finished document
// has left the list, and this is where the storekeeper sees it is still on the terminal.
async function showUnsent() {
  if (!state.outbox.length || state.dialogOpen) return;
  var lines = state.outbox.map(function (item) {
    var job = state.jobs.get(item.delivery_id);
    var title = job ? titleOf(job.summary) : item.delivery_id;
    var line = t("unsent_item", { title: title, kind: t(item.final ? "unsent_final" : "unsent_partial"), lines: item.lines.length, time: queuedAt(item.created) });
    return ofAnotherUser(item) ? line + " " + t("unsent_of", { login: item.login }) : line;
  });
  // Refused, or signed out of the LAN base: nothing goes until that ends, so nothing to press.
  var held = state.refused || !api();
  var text = t(held ? "unsent_held" : "unsent_list", { n: state.outbox.length }) + "\n\n" + lines.join("\n");
  if (held) await dialog({ text: text, ok: t("close") });
  else if (await dialog({ text: text, ok: t("send_now") })) flush();
}

// When a result was queued: the time today, else the day and the time.
function queuedAt(created) {
  var at = new Date(created);
  var locale = currentLanguage() === "en" ? "en-GB" : "ru-RU";
  var time = at.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  if (at.toDateString() === new Date().toDateString()) return time;
  return at.toLocaleDateString(locale, { day: "2-digit", month: "2-digit" }) + " " + time;
}

// Sends queued results oldest first; stops at the first one the network did not carry so
// results keep their order. A result the server refuses for good is dropped with a notice.
// One send at a time: a call while one runs waits for it, and the running one also takes
// results queued meanwhile, so after ``await flush()`` every result was tried.
function flush() {
  if (!state.flushing) {
    var done = function () {
      state.flushing = null;
      renderChrome();
      if (state.screen === "list") render();
    };
    state.flushing = sendQueued().then(done, done);
  }
  return state.flushing;
}

// A document started here is taken or refused by routing a moment after the server took it:
// it is watched for a while, and a refusal brings it back to the list with the reason.
function watchCreated(item) {
  var watch = settings.get("watch", []);
  watch.push({ delivery_id: item.delivery_id, made: item.made, result_id: item.result_id, until: Date.now() + WATCH_FOR_MS });
  settings.set("watch", watch);
}

async function checkWatched() {
  var watch = settings.get("watch", []);
  var client = api();
  if (!watch.length || !client || state.refused) return;
  var left = [];
  for (var i = 0; i < watch.length; i++) {
    var item = watch[i];
    var status = null;
    try {
      status = await client.createdStatus(item.made, item.result_id);
    } catch (error) {
      if (Date.now() < item.until) left.push(item);
      continue;
    }
    var job = state.jobs.get(item.delivery_id);
    if (status.status === "refused" && job) {
      job.finished = false;
      job.summary.refusal = status.refusal;
      await saveJob(job);
      notice(t("result_dropped_back", { title: titleOf(job.summary), message: status.refusal.message }), "error", job.delivery_id);
      signal("error", state.sound);
      if (state.screen === "list") render();
    } else if (Date.now() < item.until) {
      left.push(item);
    }
  }
  settings.set("watch", left);
}

function watched(deliveryId) {
  return settings.get("watch", []).some(function (item) { return item.delivery_id === deliveryId; });
}

// On the LAN a result, and the document it counts, are the user's who counted them: a result
// goes under that user's session only (another's would be refused for the lock, and dropped
// with the count), and the document is neither listed nor opened for anyone else.
function markOwner(thing) {
  if (MODE === "lan" && state.session) thing.login = state.session.login;
}

// Marked by a user other than the one signed in: it waits for that user.
function ofAnotherUser(thing) {
  return Boolean(thing.login && state.session && thing.login !== state.session.login);
}

function oldestUntried(tried) {
  var left = state.outbox.filter(function (item) { return !tried[item.result_id] && !ofAnotherUser(item); });
  left.sort(function (a, b) { return a.created - b.created; });
  return left[0];
}

async function sendQueued() {
  // The device says it has no network: nothing is tried. The "online" event flushes again.
  // A refused terminal's results wait until it is let in (its poll then flushes them).
  if (navigator.onLine === false || state.refused) return;
  var client = api();
  var tried = {};
  var item = client && oldestUntried(tried);
  while (item) {
    tried[item.result_id] = true;
    try {
      await client.sendResult(item);
      setOnline(true);
      if (item.made) watchCreated(item);
      await keptForTheWord(item);
      await removeSent(item);
    } catch (error) {
      if (failedForNetwork(error)) {
        if (error instanceof NetworkError) setOnline(false);
        return;
      }
      if (error instanceof ApiError && error.status === 401) {
        setOnline(true); // the server answered; the poll tells why it refuses
        return;
      }
      await removeSent(item);
      if (error.code !== "document_already_finished") await refusedForGood(item, error);
    }
    item = oldestUntried(tried);
  }
}

// Internet mode -------------------------------------------------------------------------------

function hardwareId() {
  var id = settings.get("hardware_id", null);
  if (!id) {
    id = "@TSDX-WEB-" + newResultId().slice(0, 10).toUpperCase();
    settings.set("hardware_id", id);
  }
  return id;
}

function deviceModel() {
  var found = /;\s*([^;()]+?)\s+Build\//.exec(navigator.userAgent);
  return found ? found[1] : "Browser";
}

async function pair(typed, button) {
  var code = connectionCode(typed);
  if (!code) return pairingRefused(t("connection_code_empty"));
  button.disabled = true;
  button.textContent = t("pairing");
  var model = deviceModel();
  var hardware = hardwareId();
  try {
    var paired = await new InternetApi(null, currentLanguage()).pair({ connection_code: code, hardware_id: hardware, model: model, name: model });
    state.device = { device_id: paired.device_id, tenant: paired.tenant, pin: paired.pin, mode: paired.mode, credential: paired.credential, model: model, hardware_id: hardware };
    settings.set("device", state.device);
    signal("ok", state.sound);
    hideNotice(); // a refusal of an earlier try no longer holds
    setOnline(true);
    go("list");
    openDrawer(); // the PIN is what the storekeeper needs next: tell it to the 1C operator
    internetLoop();
  } catch (error) {
    button.disabled = false;
    button.textContent = t("pair");
    pairingRefused(error instanceof NetworkError ? t("network_error") : error.message);
  }
}

// Said, and the code field ready again with its text selected: the next scan (a wedge types
// into the focused field) replaces it.
function pairingRefused(text) {
  signal("error", state.sound);
  notice(text, "error");
  var field = $("#connection-code");
  if (field) {
    field.focus();
    field.select();
  }
}

async function unpair() {
  if (!(await dialog({ text: t("confirm_unpair"), ok: t("unpair"), danger: true }))) return;
  state.device = null;
  settings.set("device", null);
  state.refused = null;
  state.startable = [];
  settings.set("startable", []);
  await forgetWork();
  closeDrawer();
  go("pair");
}

// ``kept``: the results (and their documents) that stay, another LAN user's unsent ones.
async function forgetWork(kept) {
  kept = kept || [];
  var keptJobs = kept.map(function (item) { return state.jobs.get(item.delivery_id); }).filter(Boolean);
  state.jobs.clear();
  state.known = 0; // holding nothing: the next poll answers at once with what the server has
  state.outbox = [];
  state.list = [];
  state.listed = false;
  await state.store.clear();
  settings.set("catalog_version", null);
  settings.set("catalog_synced_at", null);
  settings.set("watch", null);
  for (var i = 0; i < kept.length; i++) {
    await state.store.put(OUTBOX, kept[i]);
    state.outbox.push(kept[i]);
  }
  for (var j = 0; j < keptJobs.length; j++) await saveJob(keptJobs[j]);
}

// The server's word on this device wins (an operator may change its PIN or mode), and the
// base's barcode settings (weight prefixes, digits, group separator) come with it.
async function refreshDevice() {
  var me = await api().me();
  state.device = Object.assign(state.device, { pin: me.pin, mode: me.mode, barcodes: me.barcodes || state.device.barcodes });
  settings.set("device", state.device);
  renderChrome();
  await refreshStartable();
}

// The processes this terminal may start documents of, kept for work without a connection.
async function refreshStartable() {
  var startable = (await api().processes()).processes;
  var changed = JSON.stringify(startable) !== JSON.stringify(state.startable);
  state.startable = startable;
  settings.set("startable", startable);
  if (changed && state.screen === "list") render();
}

async function internetLoop() {
  var device = state.device;
  refreshDevice().catch(function () { /* offline: the device as remembered */ });
  syncCatalog();
  while (state.device === device) {
    try {
      // A refused terminal asks without waiting: its answer is whether it is let in.
      var wait = state.online && !state.refused ? LONG_POLL_SECONDS : 0;
      var inbox = await api().inbox(wait, state.known);
      if (state.device !== device) return; // disconnected meanwhile: the answer is another's
      setOnline(true);
      setRefused(null);
      state.known = inbox.documents.length;
      await applyInbox(inbox);
      flush();
      await pause(200);
    } catch (error) {
      if (state.device !== device) return; // disconnected meanwhile: the answer is another's
      if (error instanceof ApiError && error.status === 401) {
        setOnline(true); // the server answered: the network is fine
        setRefused({ code: error.code, message: error.message });
        if (isFinalRefusal()) return;
        await pause(BLOCKED_RETRY_MS);
        continue;
      }
      setOnline(false);
      await pause(RETRY_MS);
    }
  }
}

async function applyInbox(inbox) {
  var client = api();
  var changed = false;
  for (var i = 0; i < inbox.withdrawn.length; i++) {
    changed = (await dropWithdrawn(inbox.withdrawn[i].delivery_id, inbox.withdrawn[i].reason)) || changed;
  }
  var listed = {};
  var arrived = false;
  for (var j = 0; j < inbox.documents.length; j++) {
    var summary = inbox.documents[j];
    listed[summary.delivery_id] = true;
    var known = state.jobs.get(summary.delivery_id);
    if (!known) {
      var downloaded = await client.download(summary.delivery_id);
      await saveJob(newJob(downloaded));
      arrived = true;
      changed = true;
      continue;
    }
    known.summary = Object.assign({}, known.summary, summaryOf(summary));
    backAfterRefusal(known, summary.refusal);
    await saveJob(known);
    changed = true;
  }
  // Acknowledged once the documents are kept: a document lost before its acknowledgement is
  // still waiting, so it is listed (and acknowledged) again.
  changed = (await keepAcknowledged(await acknowledgeAll(client, toAcknowledge(inbox), state.acks))) || changed;
  changed = (await pruneJobs(listed)) || changed;
  if (changed && state.screen === "list") render();
  // Heard wherever the storekeeper is in the app: once a poll, however many came (those that
  // came while the app was closed too).
  if (arrived) signal("arrived", state.sound);
}

// A withdrawn document leaves the terminal, and the user is told why when the server said:
// replaced by a new version from 1C (it comes as another document), or taken back.
async function dropWithdrawn(id, reason) {
  var job = state.jobs.get(id);
  if (!job) return false;
  await dropJob(id);
  var why = reason === "replaced" || reason === "recalled" ? "withdrawn_" + reason : "withdrawn";
  notice(t(why, { title: titleOf(job.summary) }), "error");
  signal("error", state.sound);
  if (state.current === id) go("list");
  return true;
}

// The state each acknowledged document now has on the server, kept with it where its card
// shows it; a document withdrawn since the poll is dropped as a withdrawal is.
async function keepAcknowledged(answers) {
  var news = acknowledgedNews(answers);
  var changed = false;
  for (var w = 0; w < news.withdrawn.length; w++) {
    changed = (await dropWithdrawn(news.withdrawn[w])) || changed;
  }
  var ids = Object.keys(news.states);
  for (var i = 0; i < ids.length; i++) {
    var job = state.jobs.get(ids[i]);
    if (!job || job.summary.state === news.states[ids[i]]) continue;
    job.summary = Object.assign({}, job.summary, { state: news.states[ids[i]] });
    await saveJob(job);
    changed = true;
  }
  return changed;
}

// Documents the server no longer lists and with nothing left to send are gone for good.
async function pruneJobs(listed) {
  var dropped = false;
  var ids = Array.from(state.jobs.keys());
  for (var i = 0; i < ids.length; i++) {
    var job = state.jobs.get(ids[i]);
    if (listed[job.delivery_id] || unsentFor(job.delivery_id) || state.current === job.delivery_id) continue;
    if (job.made && (!job.finished || watched(job.delivery_id))) continue; // started here: kept until taken
    // A finished document leaves the server's list once its result is taken, and routing's
    // refusal of that result may come after: kept as long as a result is watched, to come
    // back with its counts (not downloaded anew, counted from nothing).
    if (job.finished && Date.now() - (job.finishedAt || 0) < WATCH_FOR_MS) continue;
    if (!job.finished) notice(t("withdrawn", { title: titleOf(job.summary) }), "error");
    await dropJob(job.delivery_id);
    dropped = true;
  }
  return dropped;
}

// LAN mode --------------------------------------------------------------------------------------

async function signIn(body, button) {
  if (!body.tenant.trim()) return;
  button.disabled = true;
  try {
    var session = await new LanApi(null, currentLanguage()).login(body);
    state.session = { token: session.token, login: session.login, name: session.name, groups: session.groups, tenant: session.tenant };
    settings.set("lan_base", body.tenant.trim());
    settings.set("lan_session", state.session);
    signal("ok", state.sound);
    hideNotice(); // a refusal of an earlier try no longer holds
    setOnline(true);
    go("list");
    var others = state.outbox.filter(ofAnotherUser).map(function (item) { return item.login; });
    if (others.length) notice(t("unsent_of_others", { logins: Array.from(new Set(others)).join(", ") }), "info");
    lanLoop();
  } catch (error) {
    setOnline(!(error instanceof NetworkError)); // a refusal is an answer
    signal("error", state.sound);
    notice(error instanceof NetworkError ? t("network_error") : error.message, "error");
    button.disabled = false;
  }
}

async function logout() {
  // Results another user counted stay, to go when that user signs in.
  var theirs = state.outbox.filter(ofAnotherUser);
  var mine = state.outbox.length - theirs.length;
  if (mine && !(await dialog({ text: t("confirm_logout_unsent", { n: mine }), ok: t("log_out"), danger: true }))) return;
  try {
    await api().logout();
  } catch (error) {
    // Signing out works without a connection: the session simply expires on the server.
  }
  state.session = null;
  settings.set("lan_session", null);
  state.startable = [];
  settings.set("startable", []);
  await forgetWork(theirs);
  closeDrawer();
  go("login");
}

async function lanLoop() {
  var session = state.session;
  refreshStartable().catch(function () { /* offline: the processes as remembered */ });
  syncCatalog();
  while (state.session === session) {
    try {
      await refreshLan();
      flush();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        setOnline(true); // the server answered: the session is what is gone
        state.session = null;
        settings.set("lan_session", null);
        notice(error.message, "error");
        go("login");
        return;
      }
      setOnline(false);
    }
    await pause(LAN_POLL_MS);
  }
}

// The server refused the final result this terminal sent (the list says so, for that very
// result): the document comes back with its counts, to be put right and finished again.
function backAfterRefusal(job, refusal) {
  if (!refusal || refusal.result_id !== job.last_result_id) return false;
  if (!job.finished) return partRefused(job, refusal);
  job.finished = false;
  job.refusalSaid = refusal.result_id; // the lists go on naming it until the next result
  notice(t("result_dropped_back", { title: titleOf(job.summary), message: refusal.message }), "error", job.delivery_id);
  signal("error", state.sound);
  return true;
}

// A part sent (Send part) that the server refused after taking it: said once, in red, where
// the storekeeper is, not left as «sent». In a collective document the quantities it names
// are everyone's together.
function partRefused(job, refusal) {
  if (job.refusalSaid === refusal.result_id) return false;
  job.refusalSaid = refusal.result_id;
  var text = t(job.settings.collective ? "part_refused_collective" : "part_refused", { message: refusal.message });
  if (state.screen === "work" && state.current === job.delivery_id) message("error", text);
  else notice(titleOf(job.summary) + ": " + text, "error", job.delivery_id);
  signal("error", state.sound);
  return true;
}

async function refreshLan() {
  var answer = await api().documents();
  setOnline(true);
  var before = {};
  state.list.forEach(function (s) { before[s.delivery_id] = true; });
  var first = !state.listed; // the first list after signing in: nothing "arrives"
  state.listed = true;
  state.list = answer.documents;
  var arrived = state.list.some(function (s) {
    return !before[s.delivery_id] && !s.finished_by_me && !state.jobs.has(s.delivery_id);
  });
  if (!first && arrived) {
    signal("arrived", state.sound);
  }
  var listed = {};
  var back = [];
  state.list.forEach(function (s) {
    // Kept while the server lists it, finished or not: a final result it refuses brings it back.
    listed[s.delivery_id] = true;
    var job = state.jobs.get(s.delivery_id);
    if (!job) return;
    job.summary = Object.assign({}, job.summary, summaryOf(s));
    if (backAfterRefusal(job, s.refusal)) back.push(job);
  });
  for (var i = 0; i < back.length; i++) await saveJob(back[i]);
  await pruneJobs(listed);
  if (state.screen === "list") render();
}

// A scanner ends its code with Enter, or with Tab where it is set up so: a Tab after some
// text ends a scan, a Tab of its own moves the focus as usual.
function endsScan(e, text) {
  return e.key === "Enter" || (e.key === "Tab" && String(text).trim() !== "");
}

// A wedge scanner's keys outside a field, gathered until its Enter: keys further apart than a
// scanner types them start again (a person's presses are not a scan).
var keyScan = { text: "", lastKeyAt: 0 };
var SCAN_KEY_GAP_MS = 300;

// The code a key ends, or null: not the end of a scan, or an Enter of its own (a button's).
function scannedKeys(e) {
  var now = Date.now();
  if (now - keyScan.lastKeyAt > SCAN_KEY_GAP_MS) keyScan.text = "";
  keyScan.lastKeyAt = now;
  if (!endsScan(e, keyScan.text)) {
    if (e.key.length === 1) keyScan.text += e.key;
    return null;
  }
  var raw = keyScan.text.trim();
  keyScan.text = "";
  return raw.length >= 3 ? raw : null;
}

// A scan while a question is open answers nothing and counts nothing: refused out loud, the
// question stays for a tap.
function dialogKey(e) {
  if (scannedKeys(e) === null) return;
  e.preventDefault();
  signal("error", state.sound);
}

function listKey(e) {
  var raw = scannedKeys(e);
  if (raw === null) return;
  e.preventDefault();
  var named = documentsByScan(visibleDocuments(), raw);
  if (named.length === 1) {
    closeDrawer();
    return openDocument(named[0]);
  }
  signal("error", state.sound);
  notice(t(named.length ? "scan_several_documents" : "scan_open_first", { code: raw }), "error", "list");
}

async function openDocument(summary) {
  var id = summary.delivery_id;
  var job = state.jobs.get(id);
  if (job && !job.finished && !ofAnotherUser(job)) return go("work", id);
  if (MODE === "internet") return;
  try {
    if (!summary.mine) await api().take(id);
    var downloaded = await api().download(id);
    job = newJob(downloaded);
    markOwner(job);
    await saveJob(job);
    signal("ok", state.sound);
    go("work", id);
  } catch (error) {
    signal("error", state.sound);
    notice(error instanceof NetworkError ? t("network_error") : error.message, "error", "list");
    refreshLan().catch(function () { /* shown by the loop */ });
  }
}

async function release(job) {
  // What was counted here goes with the release: asked first (focus on Cancel), as a line's
  // clearing is.
  var counted = job.counts.filter(function (c) { return !isZero(c); }).length;
  if (counted && !(await dialog({ text: t("confirm_release", { lines: counted }), ok: t("release"), danger: true }))) return;
  if (!stillOpen(job)) return;
  try {
    await api().release(job.delivery_id);
    await dropJob(job.delivery_id);
    go("list");
    await refreshLan();
  } catch (error) {
    signal("error", state.sound);
    message("error", error instanceof NetworkError ? t("network_error") : error.message);
  }
}

// Start -----------------------------------------------------------------------------------------

async function registerWorker() {
  state.offlineChecked = true;
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return renderChrome();
  try {
    await navigator.serviceWorker.register("sw.js");
    state.offlineReady = true;
  } catch (error) {
    state.offlineReady = false;
  }
  // Unsent work must not be evicted when the device runs short of space.
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
  renderChrome();
}

function bindChrome() {
  $("#menu-button").addEventListener("click", openDrawer);
  $("#drawer-shade").addEventListener("click", closeDrawer);
  $("#unsent").addEventListener("click", showUnsent);
  $("#notice").addEventListener("click", function () { hideNotice(); });
  window.addEventListener("online", function () {
    wake();
    flush();
    syncCatalog();
    if (!state.device && !state.session) askServer(); // nothing else asks before pairing
  });
  window.addEventListener("offline", function () { setOnline(false); });
  // The scanner types wherever focus is: send stray keys to the scan field; on the list, a
  // scan opens the document it names.
  document.addEventListener("keydown", function (e) {
    var target = e.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
    if (state.dialogOpen) dialogKey(e);
    else if (state.screen === "work") {
      // A scan with the side menu open: the storekeeper is counting, the menu goes.
      if (!$("#drawer").hidden) closeDrawer();
      focusScan();
    }
    else if (state.screen === "list") listKey(e); // the side menu open too: it has no field
  }, true);
  unlockOnFirstTouch();
}

async function start() {
  setLanguage(settings.get("lang", "ru"));
  state.sound = settings.get("sound", true);
  bindChrome();
  state.store = await openStore();
  setInterval(function () { syncCatalog(); }, CATALOG_SYNC_MS);
  setInterval(function () { checkWatched(); }, WATCH_MS);
  (await state.store.all(DOCS)).forEach(function (job) { state.jobs.set(job.delivery_id, job); });
  state.outbox = await state.store.all(OUTBOX);
  var open = settings.get("open", null);
  if (MODE === "internet") {
    state.device = settings.get("device", null);
    state.startable = settings.get("startable", []);
    if (!state.device) {
      go("pair");
      askServer();
    } else {
      var job = open && state.jobs.get(open);
      if (job && !job.finished) go("work", open);
      else go("list");
      internetLoop();
    }
  } else {
    state.session = settings.get("lan_session", null);
    state.startable = settings.get("startable", []);
    if (!state.session) {
      go("login");
      askServer();
    } else {
      var lanJob = open && state.jobs.get(open);
      if (lanJob && !lanJob.finished) go("work", open);
      else go("list");
      lanLoop();
    }
  }
  registerWorker();
  setInterval(flush, 5000);
}

start();
