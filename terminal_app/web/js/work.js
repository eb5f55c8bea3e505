// Counting one document: what a scan or a typed quantity does to its lines. Pure: the job is
// a plain object the app stores in IndexedDB after every change.

import { matchScan, parseScan } from "./barcodes.js";
import { add, compare, isQuantity, isZero, multiply, normalize, subtract } from "./decimal.js";
import { t } from "./i18n.js";

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
    // What was counted, kept apart per line and batch/cell: the result's lines.
    parts: [],
    expected: expectedIndex(downloaded.document.expected_marks || []),
    aggregatesScanned: {},
    finished: false,
    last_result_id: null,
    opened_at: new Date().toISOString(),
  };
}

// A document the storekeeper starts on the terminal, of a process that allows it: no plan,
// every product scanned becomes a line. Its id is made here; the server takes it once.
export function newCreatedJob(process, now) {
  var id = newResultId();
  var date = (now || new Date()).toISOString().slice(0, 19);
  var number = id.slice(0, 8).toUpperCase(); // short, for people; the id is the whole
  var job = newJob({
    delivery_id: "new-" + id,
    document_id: id,
    terminal_type: process.terminal_type,
    number: number,
    date: date,
    lines: 0,
    state: "created",
    settings: { terminal_type: process.terminal_type, ask_for: process.ask_for || [] },
    document: { header: { id: id, accounting_type: process.terminal_type, number: number, date: date }, lines: [] },
  });
  job.lines = [];
  job.made = { process: process.id, document_id: id, number: number, date: date };
  return job;
}

export function summaryOf(item) {
  var copy = {};
  ["delivery_id", "document_id", "accounting_type", "terminal_type", "number", "date", "lines",
    "state", "refusal", "taken_by", "mine", "collective", "assigned_to"].forEach(function (k) {
    if (item[k] !== undefined) copy[k] = item[k];
  });
  return copy;
}

// «Поступление № 0000-000123 от 28.11.2026», in the app's language (the kind is 1C's word).
export function titleOf(summary) {
  var words = { kind: summary.terminal_type || summary.accounting_type || "", number: summary.number || summary.document_id };
  var date = /^(\d{4})-(\d{2})-(\d{2})/.exec(summary.date || "");
  words.date = date ? date[3] + "." + date[2] + "." + date[1] : summary.date;
  return t(words.date ? "title_dated" : "title", words).trim();
}

// The listed documents a scan on the list names: by the number printed on the paper
// («0000-000123», read as it is or without its separators, «0000000123») or by the id in 1C;
// the code read as it came and as a scan is read (keyboard layout undone, a symbology prefix
// dropped). Two documents of different kinds may share a number: both are named.
export function documentsByScan(summaries, raw) {
  var codes = [String(raw).trim(), parseScan(raw).code].map(function (code) { return code.toUpperCase(); });
  var plain = function (text) { return text.replace(/[\s\-\/.]/g, ""); };
  return summaries.filter(function (summary) {
    var number = String(summary.number || "").toUpperCase();
    var id = String(summary.document_id || "").toUpperCase();
    return codes.some(function (code) {
      return (number && (number === code || plain(number) === plain(code))) || (id && id === code);
    });
  });
}

function refuse(reason, params) {
  return { ok: false, reason: reason, params: params || {} };
}

// A marking code as compared: 01 + GTIN + 21 + serial; any other code as it is.
function markKey(code) {
  var scan = parseScan(code);
  return scan.kind === "marking" ? scan.key : scan.code;
}

// The marking codes 1C expects: each item's key with the aggregation code it comes in ("" for
// none), and each aggregation code's contents.
export function expectedIndex(expectedMarks) {
  var index = { keys: {}, aggregates: {}, total: 0 };
  expectedMarks.forEach(function (item) {
    var contents = item.contents || [];
    if (contents.length) index.aggregates[parseScan(item.code).code] = contents.slice();
    (contents.length ? contents : [item.code]).forEach(function (code) {
      var key = markKey(code);
      if (index.keys[key] === undefined) index.total += 1;
      index.keys[key] = contents.length ? item.code : "";
    });
  });
  return index;
}

var ATTRIBUTES = ["characteristic", "series", "expiry", "cell"];

// Jobs stored before lines kept batches apart have no parts: one per counted line.
export function partsOf(job) {
  if (!job.parts) {
    job.parts = [];
    job.lines.forEach(function (line, i) {
      if (isZero(job.counts[i])) return;
      job.parts.push({ line: i, characteristic: "", series: "", expiry: "", cell: "", quantity: job.counts[i], barcode: job.scanned[i], marks: job.marks[i].slice() });
    });
  }
  return job.parts;
}

// The batch and cell a count goes to: what the scan carried, else what was typed, else what
// the plan names.
function attributesOf(job, index, scan, typed, entry) {
  var line = job.lines[index];
  var given = typed || {};
  var fromScan = { series: scan && scan.batch ? scan.batch : "", expiry: scan && scan.expiry ? scan.expiry : "" };
  if (entry) { // a catalog barcode of one characteristic or series
    fromScan.series = fromScan.series || entry.series || "";
    fromScan.characteristic = entry.characteristic || "";
  }
  var attrs = {};
  ATTRIBUTES.forEach(function (name) {
    attrs[name] = fromScan[name] || given[name] || line[name] || "";
  });
  if (job.cell) attrs.cell = job.cell;
  return attrs;
}

// Whether ``total`` on ``line`` is more than its plan (a line not in the plan has none to pass).
function pastPlan(line, total) {
  return !line.unplanned && line.planned_qty != null && compare(total, String(line.planned_qty)) > 0;
}

// Why ``quantity`` may not be added to line ``index`` (``total`` once added, ``attrs`` its
// batch and cell), or null: a zero weight, and under quantity control past the plan or
// outside the planned cell.
function countRefused(job, index, quantity, total, attrs) {
  var line = job.lines[index];
  // A weight label (or a GS1 weight) that says 0: nothing to count, and not to be heard as one.
  if (isZero(quantity)) return refuse("zero_weight", { name: line.name });
  if (!job.settings.quantity_control) return null;
  if (pastPlan(line, total)) {
    return refuse("over_plan", { name: line.name, planned: String(line.planned_qty), total: total });
  }
  if (line.cell && attrs.cell && attrs.cell !== line.cell) {
    return refuse("cell_mismatch", { name: line.name, cell: attrs.cell, planned_cell: line.cell });
  }
  return null;
}

// Adds ``quantity`` to line ``index`` unless countRefused says why not.
function count(job, index, quantity, barcode, attrs, marks) {
  var line = job.lines[index];
  var total = add(job.counts[index], quantity);
  var refused = countRefused(job, index, quantity, total, attrs);
  if (refused) return refused;
  // Past the plan without quantity control: counted, and said so.
  var over = pastPlan(line, total);
  var parts = partsOf(job); // a job stored before parts: made from the counts before this one
  var firstScan = Boolean(barcode) && !job.scanned[index];
  job.counts[index] = total;
  if (firstScan) job.scanned[index] = barcode;
  var part = parts.find(function (p) {
    return p.line === index && ATTRIBUTES.every(function (name) { return p[name] === attrs[name]; });
  });
  if (!part) {
    part = Object.assign({ line: index, quantity: "0", barcode: barcode, marks: [] }, attrs);
    parts.push(part);
  }
  part.quantity = add(part.quantity, quantity);
  var partBarcode = Boolean(barcode) && !part.barcode;
  if (partBarcode) part.barcode = barcode;
  (marks || []).forEach(function (code) {
    part.marks.push(code);
    job.marks[index].push(code);
    job.markKeys[markKey(code)] = true;
  });
  // What undoLast takes back of this count.
  var undo = { line: index, quantity: quantity, attrs: attrs, marks: (marks || []).slice(), firstScan: firstScan, partBarcode: partBarcode };
  return { ok: true, line: index, quantity: quantity, attrs: attrs, over: over, undo: [undo] };
}

// Takes back everything counted on line ``index``, its batches, cells and marking codes, so
// that a line counted wrong is put right by counting it again (the last count alone is taken
// back by undoLast; a count is never lowered by a negative quantity: each scan stays a whole
// item). The next result sent replaces the
// earlier ones, so the line's count goes back to 1C as it now is. A box (aggregation code)
// counted stays counted on its other lines; scanned again, it counts only what was cleared.
export function clearLine(job, index) {
  job.parts = partsOf(job).filter(function (part) { return part.line !== index; });
  var cleared = {};
  job.marks[index].forEach(function (code) {
    cleared[markKey(code)] = true;
    delete job.markKeys[markKey(code)];
  });
  // Jobs stored before boxes were counted have neither.
  var boxes = job.aggregatesScanned || {};
  var expected = (job.expected && job.expected.aggregates) || {};
  Object.keys(boxes).forEach(function (box) {
    var contents = expected[box] || [];
    if (contents.some(function (code) { return cleared[markKey(code)]; })) delete boxes[box];
  });
  job.marks[index] = [];
  job.counts[index] = "0";
  job.scanned[index] = "";
  job.lastCount = null; // what it would take back is gone
}

// The last count of the job (a scan, a box of codes, a typed quantity), to be taken back by
// undoLast: what each of its counts added, the box it opened, whether it added a line.
// A scan that counted nothing (refused, or a cell entered) leaves nothing to undo: undo takes
// back the last scan when it counted, never one before it the storekeeper did not mean.
function rememberCount(job, outcome, linesBefore) {
  var added = job.lines.length > linesBefore ? linesBefore : -1;
  if (!outcome.ok && added >= 0) dropLine(job, added); // outside the plan, its count refused
  job.lastCount = outcome.ok && outcome.undo ? { counts: outcome.undo, box: outcome.box || "", addedLine: added } : null;
  return outcome;
}

// A line added for a product outside the plan, taken away again (it is the last line).
function dropLine(job, index) {
  [job.lines, job.counts, job.scanned, job.marks].forEach(function (list) { list.splice(index, 1); });
  job.summary.lines = job.lines.length;
}

// Takes back the job's last count, once: its quantity, batch and cell, its marking codes, the
// box it opened and the line it added for a product outside the plan. A mistaken scan on a
// line of 48 is put right without counting the 47 again.
export function undoLast(job) {
  var last = job.lastCount;
  if (!last) return refuse("nothing_to_undo");
  var first = last.counts[0];
  var line = job.lines[first.line];
  var total = "0";
  last.counts.slice().reverse().forEach(function (c) {
    total = add(total, c.quantity);
    job.counts[c.line] = subtract(job.counts[c.line], c.quantity);
    var parts = partsOf(job);
    var part = parts.find(function (p) {
      return p.line === c.line && ATTRIBUTES.every(function (name) { return p[name] === c.attrs[name]; });
    });
    c.marks.forEach(function (code) {
      if (part) dropOne(part.marks, code);
      dropOne(job.marks[c.line], code);
      delete job.markKeys[markKey(code)];
    });
    if (part) {
      part.quantity = subtract(part.quantity, c.quantity);
      if (c.partBarcode) part.barcode = "";
      if (isZero(part.quantity)) parts.splice(parts.indexOf(part), 1);
    }
    if (c.firstScan) job.scanned[c.line] = "";
  });
  if (last.box) delete job.aggregatesScanned[last.box];
  var added = last.addedLine;
  if (typeof added === "number" && added >= 0 && isZero(job.counts[added])) dropLine(job, added);
  job.lastCount = null;
  return { ok: true, undone: true, line: first.line < job.lines.length ? first.line : -1, name: line.name || line.product_id, quantity: total, box: Boolean(last.box) };
}

function dropOne(list, item) {
  var at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}

// Which of the process's asked-for attributes a scan leaves open (neither the scan nor the
// plan gives them): the app asks the storekeeper to type them before counting.
export function attributesToAsk(job, raw, barcodeSettings, hit) {
  var asked = (job.settings && job.settings.ask_for) || [];
  if (!asked.length) return [];
  var found = lineOf(job, String(raw).trim(), barcodeSettings, hit);
  // The catalog's entry as the count will take it: the line's own product's, or the product
  // a line-less scan adds.
  var entry = found.line >= 0 ? found.entry || null : hit && hit.kind === "product" ? hit.entry : null;
  if (found.line < 0 && !entry) return [];
  if (found.scan.kind === "sscc") return [];
  var line = found.line >= 0 ? found.line : -1;
  var attrs = line >= 0 ? attributesOf(job, line, found.scan, {}, entry) : { series: found.scan.batch || (entry && entry.series) || "", expiry: found.scan.expiry || "", characteristic: (entry && entry.characteristic) || "" };
  return asked.filter(function (name) { return !attrs[name]; });
}

// An expected aggregation code counts as all its contents, each on the line its GTIN finds;
// all of it or nothing (an unknown item, or quantity control, refuses the whole box).
function applyAggregate(job, scan, contents, barcodeSettings, typed) {
  if (job.aggregatesScanned[scan.code]) return refuse("aggregate_repeated", { code: scan.code });
  var planned = [];
  var adds = {};
  for (var i = 0; i < contents.length; i++) {
    var key = markKey(contents[i]);
    if (job.markKeys[key]) continue; // scanned by itself before: counted once
    var found = matchScan(contents[i], job.lines, barcodeSettings);
    if (found.line < 0) return refuse("unknown_barcode", { code: contents[i] });
    planned.push({ line: found.line, quantity: found.quantity, code: contents[i], scan: found.scan });
    adds[found.line] = add(adds[found.line] || "0", found.quantity);
  }
  if (!planned.length) return refuse("aggregate_repeated", { code: scan.code });
  // All or nothing: every code checked (its line's total with the whole box) before any counts.
  var over = false;
  for (var j = 0; j < planned.length; j++) {
    var item = planned[j];
    item.attrs = attributesOf(job, item.line, item.scan, typed);
    var total = add(job.counts[item.line], adds[item.line]);
    var refused = countRefused(job, item.line, item.quantity, total, item.attrs);
    if (refused) return refused;
    over = over || pastPlan(job.lines[item.line], total);
  }
  var last = null;
  var undo = [];
  planned.forEach(function (each) {
    last = count(job, each.line, each.quantity, each.code, each.attrs, [each.code]);
    undo = undo.concat(last.undo);
  });
  job.aggregatesScanned[scan.code] = true;
  return { ok: true, line: last.line, quantity: String(planned.length), aggregate: true, attrs: last.attrs, over: over, undo: undo, box: scan.code };
}

// The same product may be planned on several lines (two cells to pick from): a scan goes to
// the first of them, as the plan lists them, that still has room and is in the cell entered
// (when one is); when none has, to the line the barcode found.
function lineWithRoom(job, found) {
  var index = found.line;
  var product = job.lines[index].product_id;
  // What the scan says of itself: its batch (a GS1 code's, a catalog barcode's) and character.
  var series = found.scan.batch || (found.entry && found.entry.series) || "";
  var characteristic = (found.entry && found.entry.characteristic) || "";
  function compatible(i) {
    var line = job.lines[i];
    return line.product_id === product && !line.unplanned &&
      (!series || !line.series || line.series === series) &&
      (!characteristic || !line.characteristic || line.characteristic === characteristic) &&
      (!job.cell || !line.cell || line.cell === job.cell);
  }
  function room(i) {
    return compatible(i) && compare(job.counts[i], String(job.lines[i].planned_qty)) < 0;
  }
  var lines = job.lines.map(function (line, i) { return i; });
  // A line planned for the scan's own batch first, then any line that takes it, with room; else
  // the first line that takes it (its refusal says why), else the line the barcode found.
  var exact = lines.filter(function (i) { return series && job.lines[i].series === series && room(i); });
  var free = lines.filter(room);
  var taking = lines.filter(compatible);
  if (exact.length) return exact[0];
  if (room(index)) return index;
  if (free.length) return free[0];
  return compatible(index) || !taking.length ? index : taking[0];
}

// The line a scan counts on, as the count and the questions before it both see it: the line
// the barcode finds (the catalog lending its factor, series and character), moved to the line
// of the same product that has room.
function lineOf(job, code, barcodeSettings, hit) {
  var found = ofCatalog(job, matchScan(code, job.lines, barcodeSettings), hit);
  if (found.line >= 0) found.line = lineWithRoom(job, found);
  return found;
}

// A line found by a barcode the catalog also knows as that line's product: a box's barcode
// listed on the line itself (1C's barcode register holds packages too) counts its factor, a
// barcode of one series or characteristic gives it.
function ofCatalog(job, found, hit) {
  if (found.line < 0 || !hit || hit.kind !== "product") return found;
  var entry = hit.entry;
  if (entry.product_id !== job.lines[found.line].product_id) return found;
  return Object.assign({}, found, { quantity: multiply(entry.factor || "1", found.quantity), entry: entry });
}

// A product the document's lines do not name by this barcode, found in the catalog: a box's
// barcode counts its factor on the product's line; a product the document has no line for
// becomes an unplanned line, unless quantity control holds the document to its plan.
function fromCatalog(job, found, hit) {
  var entry = hit.entry;
  var quantity = multiply(entry.factor || "1", hit.weight || found.scan.weight || "1");
  var index = -1;
  for (var i = 0; i < job.lines.length && index < 0; i++) {
    var line = job.lines[i];
    if (line.product_id === entry.product_id && (!entry.characteristic || !line.characteristic || line.characteristic === entry.characteristic)) index = i;
  }
  if (index < 0) {
    if (job.settings.quantity_control) return { refused: refuse("not_in_plan", { name: entry.name }) };
    var shown = job.lines.reduce(function (most, l) { return Math.max(most, l.line_no || 0); }, 0) + 1;
    job.lines.push({ line_no: shown, product_id: entry.product_id, name: entry.name, article: entry.article, unit: entry.unit, barcodes: [entry.barcode], planned_qty: "0", unplanned: true });
    job.counts.push("0");
    job.scanned.push("");
    job.marks.push([]);
    job.summary.lines = job.lines.length;
    index = job.lines.length - 1;
  }
  var counted = { line: index, quantity: quantity, scan: found.scan, reason: null, entry: entry };
  // A box of a product planned on two lines fills the one with room, as its piece would.
  if (!job.lines[index].unplanned) counted.line = lineWithRoom(job, counted);
  return counted;
}

// A cell's barcode: the goods scanned next are in this cell, until another cell is scanned.
function enterCell(job, cell) {
  job.cell = cell.cell_id;
  job.cellName = cell.name;
  return { ok: true, cell: cell.cell_id, name: cell.name, line: -1 };
}

// ``typed``: attributes the storekeeper typed for this scan ({series, expiry, characteristic}).
// ``hit``: what the scan is in the catalog when no line has it (js/catalog.js findInCatalog).
export function applyScan(job, raw, barcodeSettings, typed, hit) {
  var linesBefore = job.lines.length; // a product outside the plan may add one
  return rememberCount(job, scanInto(job, raw, barcodeSettings, typed, hit), linesBefore);
}

function scanInto(job, raw, barcodeSettings, typed, hit) {
  var code = String(raw).trim();
  if (!code) return refuse("empty");
  var whole = parseScan(code, barcodeSettings);
  if (whole.kind === "sscc" && job.expected && job.expected.aggregates[whole.code]) {
    return applyAggregate(job, whole, job.expected.aggregates[whole.code], barcodeSettings, typed);
  }
  var found = lineOf(job, code, barcodeSettings, hit);
  if (found.line < 0 && hit && hit.kind === "cell") return enterCell(job, hit.cell);
  if (found.line < 0 && hit && hit.kind === "product") {
    found = fromCatalog(job, found, hit);
    if (found.refused) return found.refused;
  }
  if (found.line < 0) return refuse("unknown_barcode", { code: code });
  // The code as read (keyboard layout undone, GS separators back in place) is what is kept and
  // sent: what 1C and «Честный ЗНАК» know, not the keys the scanner typed.
  var scan = found.scan;
  var attrs = attributesOf(job, found.line, scan, typed, found.entry);
  if (scan.kind === "marking") {
    if (job.markKeys[scan.key]) return refuse("mark_repeated", { name: job.lines[found.line].name });
    var counted = count(job, found.line, found.quantity, scan.code, attrs, [scan.code]);
    if (counted.ok) {
      counted.mark = true;
      counted.surplus = marksExpected(job) && job.expected.keys[scan.key] === undefined;
    }
    return counted;
  }
  return count(job, found.line, found.quantity, scan.code, attrs);
}

// A scanner types a code's keys a few milliseconds apart (a slow wedge some 45 ms); no one
// types four keys in a row this fast by hand.
var SCANNER_KEY_GAP_MS = 60;
// A pause this long starts the field's typing over: what came before is no part of a scan.
var TYPING_RESTARTS_MS = 1000;

// When the field's characters came (`times`, ms), with `added` more at `now`: one input may
// add several (a wedge that commits a whole code at once); a deletion adds none.
export function typedKeys(times, now, added) {
  var kept = times.length && now - times[times.length - 1] > TYPING_RESTARTS_MS ? [] : times.slice();
  for (var i = 0; i < added; i++) kept.push(now);
  return kept;
}

// A wedge scanner typing into the quantity field while it is open: six digits or more (no one
// types a hundred thousand pieces by hand), eight characters or more that are no quantity, or
// a shorter code whose keys (`keyTimes`, when each was pressed, in ms) came at a scanner's
// pace, is a scan.
export function scannedIntoQuantity(text, keyTimes) {
  var value = String(text).trim();
  if (/^\d{6,}$/.test(value) || (value.length >= 8 && !isQuantity(normalize(value)))) return true;
  var times = keyTimes || [];
  var n = times.length;
  return n >= 4 && n >= value.length && (times[n - 1] - times[0]) / (n - 1) < SCANNER_KEY_GAP_MS;
}

// Units counted in whole pieces (1C's «шт», a pack, a box, …): a typed «1,5» of them is a slip
// of the finger, not a count. Any other unit (kg, m, l, one this list lacks) takes fractions.
var WHOLE_UNITS = ["шт", "штука", "штук", "штуки", "уп", "упак", "упаковка", "кор", "коробка",
  "пач", "пачка", "бут", "бутылка", "рул", "рулон", "пара", "компл", "комплект", "pcs", "pc",
  "piece", "pieces", "ea", "each", "pack", "box"];

export function countsWhole(unit) {
  return WHOLE_UNITS.indexOf(String(unit || "").trim().toLowerCase().replace(/\.$/, "")) >= 0;
}

export function applyTyped(job, index, typed, attributes) {
  var quantity = normalize(typed);
  if (!isQuantity(quantity) || isZero(quantity)) return refuse("bad_quantity", { value: typed });
  var unit = job.lines[index].unit;
  if (countsWhole(unit) && /\.\d*[1-9]/.test(quantity)) return refuse("whole_units", { value: String(typed).trim(), unit: unit });
  var linesBefore = job.lines.length;
  return rememberCount(job, count(job, index, quantity, "", attributesOf(job, index, null, attributes)), linesBefore);
}

// An expiry date typed by hand: 31.03.2027, 31.03.27 or 2027-03-31, as "2027-03-31"; else null.
export function expiryOf(text) {
  var value = String(text).trim();
  var m = /^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})$/.exec(value);
  var iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  var y, mo, d;
  if (m) {
    y = Number(m[3].length === 2 ? "20" + m[3] : m[3]);
    mo = Number(m[2]);
    d = Number(m[1]);
  } else if (iso) {
    y = Number(iso[1]);
    mo = Number(iso[2]);
    d = Number(iso[3]);
  } else {
    return null;
  }
  var date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return date.toISOString().slice(0, 10);
}

function marksExpected(job) {
  return Boolean(job.expected && job.expected.total);
}

// Marking codes against what 1C expects: expected, scanned, found among them, surplus
// (scanned, not expected) and missing (expected, not scanned); null when 1C sent none.
export function marksCheck(job) {
  if (!marksExpected(job)) return null;
  var found = 0;
  var surplus = [];
  Object.keys(job.markKeys).forEach(function (key) {
    if (job.expected.keys[key] !== undefined) found += 1;
    else surplus.push(key);
  });
  var missing = Object.keys(job.expected.keys).filter(function (key) { return !job.markKeys[key]; });
  return { expected: job.expected.total, scanned: found + surplus.length, found: found, surplus: surplus, missing: missing };
}

// What was counted on line ``index`` in each batch or cell: [{series, expiry, cell, characteristic, quantity}].
export function partsOfLine(job, index) {
  return partsOf(job).filter(function (p) { return p.line === index; });
}

// Planned lines counted to their plan (done), past it (over: a line the storekeeper must look
// at again, not a complete one) and in all; products outside the plan have no plan to meet.
export function progress(job) {
  var done = 0;
  var over = 0;
  var total = 0;
  job.lines.forEach(function (line, i) {
    if (line.unplanned) return;
    total += 1;
    var cmp = compare(job.counts[i], String(line.planned_qty));
    if (cmp === 0) done += 1;
    else if (cmp > 0) over += 1;
  });
  return { done: done, over: over, total: total };
}

// The result as the server takes it: every counted line, per batch and cell, the whole
// count so far (a later send replaces an earlier one), marking codes with the line they count.
export function factLines(job) {
  var barcodes = job.settings && job.settings.barcodes;
  var parts = partsOf(job).slice();
  parts.sort(function (a, b) { return a.line - b.line; }); // stable: first counted first
  return parts.filter(function (part) { return !isZero(part.quantity); }).map(function (part) {
    var line = job.lines[part.line];
    var fact = {
      line_no: line.unplanned ? undefined : line.line_no, // an unplanned product has no line
      product_id: line.product_id,
      barcode: part.barcode || (line.barcodes && line.barcodes[0]) || "",
      quantity: part.quantity,
    };
    if (fact.line_no === undefined) delete fact.line_no;
    // A job counted before marks were kept as read may still hold typed ones: sent as read.
    if (part.marks.length) fact.marks = part.marks.map(function (mark) { return parseScan(mark, barcodes).code; });
    ATTRIBUTES.forEach(function (name) {
      if (part[name]) fact[name] = part[name];
    });
    return fact;
  });
}

export function newResultId() {
  var bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
}
