// Barcodes the terminal understands. A minimal stand-in with the module's agreed API:
// parseScan(raw, settings), matchScan(raw, lines, settings), DEFAULT_SETTINGS.
// Pure: no imports, no I/O.

export const DEFAULT_SETTINGS = {
  weightPrefixes: ["20", "21", "22", "23", "24", "25", "26", "27", "28", "29"],
  itemDigits: 5,
  weightDigits: 5,
  gsSubstitute: "",
};

var GS = "\u001d";

function opts(settings) {
  return Object.assign({}, DEFAULT_SETTINGS, settings || {});
}

function grams(digits) {
  var n = parseInt(digits, 10);
  var whole = Math.floor(n / 1000);
  var rest = String(n % 1000);
  while (rest.length < 3) rest = "0" + rest;
  return whole + "." + rest;
}

export function parseScan(raw, settings) {
  var s = opts(settings);
  var code = String(raw).trim();
  if (s.gsSubstitute) code = code.split(s.gsSubstitute).join(GS);
  var sscc = /^\(?00\)?(\d{18})$/.exec(code);
  if (sscc) return { kind: "sscc", code: code, sscc: sscc[1] };
  var mark = /^\u001d?01(\d{14})21([^\u001d]{1,20})/.exec(code);
  if (mark) {
    var gtin = mark[1];
    var serial = mark[2];
    var weight = null;
    var w = /\u001d3103(\d{6})/.exec(code);
    if (w) weight = grams(w[1]);
    return {
      kind: "marking",
      code: code,
      gtin: gtin,
      serial: serial,
      ean13: gtin.charAt(0) === "0" ? gtin.slice(1) : gtin,
      key: "01" + gtin + "21" + serial,
      weight: weight,
    };
  }
  if (/^\d{13}$/.test(code) && s.weightPrefixes.indexOf(code.slice(0, 2)) >= 0) {
    var item = code.slice(2, 2 + s.itemDigits);
    var digits = code.slice(2 + s.itemDigits, 2 + s.itemDigits + s.weightDigits);
    return { kind: "weight", code: code, item: item, quantity: grams(digits) };
  }
  return { kind: "plain", code: code };
}

function codesOf(line) {
  if (line.barcodes && line.barcodes.length) return line.barcodes;
  return line.barcode ? [line.barcode] : [];
}

function find(lines, test) {
  for (var i = 0; i < lines.length; i++) {
    var codes = codesOf(lines[i]);
    for (var j = 0; j < codes.length; j++) if (test(String(codes[j]))) return i;
  }
  return -1;
}

export function matchScan(raw, lines, settings) {
  var scan = parseScan(raw, settings);
  var whole = find(lines, function (c) { return c === scan.code; });
  if (whole >= 0) return { line: whole, quantity: "1", scan: { kind: "plain", code: scan.code }, reason: null };
  var line = -1;
  var quantity = "1";
  if (scan.kind === "weight") {
    var head = scan.code.slice(0, 2) + scan.item;
    line = find(lines, function (c) { return c.length === 13 && c.slice(0, head.length) === head; });
    quantity = scan.quantity;
  } else if (scan.kind === "marking") {
    line = find(lines, function (c) { return c === scan.ean13 || c === scan.gtin; });
    if (scan.weight) quantity = scan.weight;
  }
  return { line: line, quantity: quantity, scan: scan, reason: line < 0 ? "unknown_barcode" : null };
}
