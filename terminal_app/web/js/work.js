// Counting one document: what a scan or a typed quantity does to its lines. Pure: the job is
// a plain object the app stores in IndexedDB after every change.

import { matchScan } from "./barcodes.js";
import { add, compare, isQuantity, isZero, normalize } from "./decimal.js";

export function newJob(downloaded) {
  var lines = downloaded.document.lines;
  return {
    delivery_id: downloaded.delivery_id,
    summary: summaryOf(downloaded),
    settings: downloaded.settings || {},
    header: downloaded.document.header,
    lines: lines,
    counts: lines.map(function () { return "0"; }),
    scanned: lines.map(function () { return ""; }), // the first barcode scanned per line
    marks: lines.map(function () { return []; }), // raw marking codes per line
    markKeys: {}, // 01+GTIN+21+serial of every marking code counted, to refuse a repeat
    finished: false,
    last_result_id: null,
    opened_at: new Date().toISOString(),
  };
}

export function summaryOf(item) {
  var copy = {};
  ["delivery_id", "document_id", "accounting_type", "terminal_type", "number", "date", "lines",
    "state", "refusal", "taken_by", "mine", "collective", "assigned_to"].forEach(function (k) {
    if (item[k] !== undefined) copy[k] = item[k];
  });
  return copy;
}

// «Поступление № 0000-000123 от 28.11.2026»
export function titleOf(summary) {
  var kind = summary.terminal_type || summary.accounting_type || "";
  var title = kind + " № " + (summary.number || summary.document_id);
  var date = /^(\d{4})-(\d{2})-(\d{2})/.exec(summary.date || "");
  if (date) return title + " от " + date[3] + "." + date[2] + "." + date[1];
  return summary.date ? title + " от " + summary.date : title;
}

function refuse(reason, params) {
  return { ok: false, reason: reason, params: params || {} };
}

// Adds ``quantity`` to line ``index`` unless quantity control forbids it.
function count(job, index, quantity, barcode) {
  var line = job.lines[index];
  var total = add(job.counts[index], quantity);
  if (job.settings.quantity_control && compare(total, String(line.planned_qty)) > 0) {
    return refuse("over_plan", { name: line.name, planned: String(line.planned_qty), total: total });
  }
  job.counts[index] = total;
  if (barcode && !job.scanned[index]) job.scanned[index] = barcode;
  return { ok: true, line: index, quantity: quantity };
}

export function applyScan(job, raw, barcodeSettings) {
  var code = String(raw).trim();
  if (!code) return refuse("empty");
  var found = matchScan(code, job.lines, barcodeSettings);
  if (found.line < 0) return refuse("unknown_barcode", { code: code });
  var scan = found.scan;
  if (scan.kind === "marking") {
    if (job.markKeys[scan.key]) return refuse("mark_repeated", { name: job.lines[found.line].name });
    var counted = count(job, found.line, found.quantity, code);
    if (counted.ok) {
      job.markKeys[scan.key] = true;
      job.marks[found.line].push(code);
      counted.mark = true;
    }
    return counted;
  }
  return count(job, found.line, found.quantity, code);
}

export function applyTyped(job, index, typed) {
  var quantity = normalize(typed);
  if (!isQuantity(quantity) || isZero(quantity)) return refuse("bad_quantity", { value: typed });
  return count(job, index, quantity, "");
}

export function progress(job) {
  var done = 0;
  job.lines.forEach(function (line, i) {
    if (compare(job.counts[i], String(line.planned_qty)) >= 0) done += 1;
  });
  return { done: done, total: job.lines.length };
}

// The result as the server takes it: every counted line, the whole count so far (a later
// send replaces an earlier one), marking codes with the line they count.
export function factLines(job) {
  var facts = [];
  job.lines.forEach(function (line, i) {
    if (isZero(job.counts[i])) return;
    var fact = {
      line_no: line.line_no,
      product_id: line.product_id,
      barcode: job.scanned[i] || (line.barcodes && line.barcodes[0]) || "",
      quantity: job.counts[i],
    };
    if (job.marks[i].length) fact.marks = job.marks[i].slice();
    facts.push(fact);
  });
  return facts;
}

export function newResultId() {
  var bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
}
