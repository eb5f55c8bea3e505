// Barcodes the terminal understands: a pure module (no DOM, no imports, no I/O), written for
// Chrome 81 (the last browser of Android 4.4 terminals): nothing newer than ES2017 is used.
//
// parseScan(raw, settings) says what a scanned text is:
//   {kind: "plain", code}                      EAN-13/EAN-8/UPC-A/Code 128... as it came
//   {kind: "weight", code, item, prefix, quantity}
//                                              in-store weight code (EAN-13, prefix 20-29)
//   {kind: "marking", code, gtin, serial, ean13, key, weight}
//                                              «Честный ЗНАК» marking code (GS1 DataMatrix)
//   {kind: "sscc", code, sscc}                 aggregation code (AI 00, 18 digits)
//   {kind: "gs1", code, gtin, ean13, batch, expiry, weight}
//                                              a GS1 code of a product (01 GTIN) with its batch
//                                              (AI 10), expiry (AI 17, as "YYYY-MM-DD") and net
//                                              weight in kg (AI 3103); "" / null when absent
// matchScan(raw, lines, settings) finds the document line a scan belongs to:
//   {line: index or -1, quantity: decimal string, scan, reason: null | "unknown_barcode"}
//
// settings: DEFAULT_SETTINGS's shape, or the "barcodes" object of the terminal APIs' /me
// (the same fields in snake_case); omitted parts take the defaults.
// Weight codes (settings.weightPrefixes / itemDigits / weightDigits): 13 digits =
//   2-digit prefix + itemDigits item code + weightDigits weight in GRAMS + EAN check digit,
//   itemDigits + weightDigits = 10; the check digit must be right, else the code is plain.
//   "2212345012343" with the defaults: prefix "22", item "12345", 1234 g, quantity "1.234".
// Quantities are exact decimal strings in kg without trailing zeros ("1.234", "0.5", "2").
//
// Group separator (GS, 0x1D) between variable-length GS1 fields: keyboard-wedge input often
// loses it, so codes are parsed by the known lengths of «Честный ЗНАК» fields; where it does
// arrive it may come as the real 0x1D character, as settings.gsSubstitute (one character the
// scanner is programmed to send instead; it must not occur in the codes themselves), or as
// the texts "<GS>" and "\u001d" that some scanner profiles type.
// A scan's code keeps the separators as the real 0x1D character, so one physical code always
// gives the same text; marking codes are compared on key = "01" + GTIN + "21" + serial.

export const DEFAULT_SETTINGS = {
  weightPrefixes: ["20", "21", "22", "23", "24", "25", "26", "27", "28", "29"],
  itemDigits: 5,
  weightDigits: 5,
  gsSubstitute: "",
};

var GS = "\u001d";

// A wedge typing through the Russian keyboard layout turns Latin letters into Cyrillic ones
// and moves some signs. GS1 codes are ASCII only, so a text holding Cyrillic was typed in that
// layout: every character is put back to the key it was typed with (ЙЦУКЕН -> QWERTY).
var RU = "йцукенгшщзхъфывапролджэячсмитьбюёЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ.,\";:?/№";
var EN = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>~/?@$^&|#";

// A text as the keys it was typed with on a QWERTY layout, when it holds Cyrillic (a wedge
// typing through the Russian layout); any other text as it is.
export function latinKeys(text) {
  if (!/[\u0400-\u04ff]/.test(text)) return text;
  var out = "";
  for (var i = 0; i < text.length; i++) {
    var at = RU.indexOf(text.charAt(i));
    out += at >= 0 ? EN.charAt(at) : text.charAt(i);
  }
  return out;
}

// The connection code in a link to the app (``…/tsd/?code=MEHY-FJ2E-JPPK``, what a QR code on
// the pairing sheet holds), scanned through either keyboard layout; "" when there is none.
export function codeInLink(text) {
  var pattern = /[?#&]code=([^&#\s]+)/;
  var found = pattern.exec(String(text)) || pattern.exec(latinKeys(String(text)));
  return found ? decodeURIComponent(found[1]).trim() : "";
}

// Settings as DEFAULT_SETTINGS names them, or as the terminal APIs serve them (the
// "barcodes" of /me: weight_prefixes, item_digits, weight_digits, gs_substitute); a missing or
// inconsistent part takes the default.
function settingsOf(settings) {
  var s = settings || {};
  var d = DEFAULT_SETTINGS;
  var pick = function (camel, snake) {
    return s[camel] !== undefined ? s[camel] : s[snake];
  };
  var prefixes = pick("weightPrefixes", "weight_prefixes");
  var item = pick("itemDigits", "item_digits");
  var weight = pick("weightDigits", "weight_digits");
  var substitute = pick("gsSubstitute", "gs_substitute");
  if (typeof item !== "number" || typeof weight !== "number" || item + weight !== 10 || item < 1 || weight < 1) {
    item = d.itemDigits;
    weight = d.weightDigits;
  }
  return {
    weightPrefixes: Array.isArray(prefixes) ? prefixes : d.weightPrefixes,
    itemDigits: item,
    weightDigits: weight,
    gsSubstitute: typeof substitute === "string" ? substitute : d.gsSubstitute,
  };
}

function isDigits(text) {
  return /^[0-9]+$/.test(text);
}

// GS1 mod-10 check digit over every digit but the last.
function checkDigitOk(digits) {
  if (!isDigits(digits) || digits.length < 2) return false;
  return checkDigitOf(digits.slice(0, -1)) === digits.charAt(digits.length - 1);
}

// The GS1 mod-10 check digit that follows these digits.
function checkDigitOf(body) {
  var sum = 0;
  var n = body.length;
  for (var i = 0; i < n; i++) {
    var weight = (n - i) % 2 === 1 ? 3 : 1;
    sum += weight * (body.charCodeAt(i) - 48);
  }
  return String((10 - (sum % 10)) % 10);
}

function splitAll(text, part) {
  return text.split(part).join(GS);
}

function normalize(raw, s) {
  var text = String(raw === undefined || raw === null ? "" : raw);
  text = text.replace(/^[\r\n\t ]+|[\r\n\t ]+$/g, "");
  // A symbology identifier ("]d2" DataMatrix, "]C1" GS1-128, "]E0" EAN, "]Q3" QR...).
  text = text.replace(/^\][A-Za-z][0-9A-Za-z]/, "");
  text = latinKeys(text);
  text = splitAll(text, "<GS>");
  text = splitAll(text, "\\u001d");
  text = splitAll(text, "\\u001D");
  if (s.gsSubstitute) text = splitAll(text, s.gsSubstitute);
  // A separator in front of the first field (FNC1 typed as GS) means nothing.
  return text.replace(/^\u001d+/, "").replace(/\u001d+$/, "");
}

// Grams (a digit string) as kg, exact: "01234" -> "1.234".
function gramsToKg(digits) {
  var grams = digits.replace(/^0+/, "");
  while (grams.length < 4) grams = "0" + grams;
  return trimDecimal(grams.slice(0, -3) + "." + grams.slice(-3));
}

function trimDecimal(text) {
  if (text.indexOf(".") < 0) return text;
  return text.replace(/0+$/, "").replace(/\.$/, "");
}

// ---------------------------------------------------------------- GS1 element strings

// Fixed-length AIs by their data length; the rest are variable (ends at GS or the end).
var FIXED = { "00": 18, "01": 14, "02": 14, 11: 6, 13: 6, 15: 6, 16: 6, 17: 6, 3103: 6, 8005: 6, 7003: 10 };
// Variable-length AIs with their maximum, and the lengths «Честный ЗНАК» gives them, tried
// in this order when no separator tells where the field ends.
var VARIABLE = {
  10: { max: 20, usual: [] },
  21: { max: 20, usual: [] },
  91: { max: 90, usual: [4] },
  92: { max: 90, usual: [44, 88] },
  93: { max: 90, usual: [4] },
  240: { max: 30, usual: [] },
};

function aiAt(segment, pos) {
  var two = segment.substr(pos, 2);
  var three = segment.substr(pos, 3);
  var four = segment.substr(pos, 4);
  if (Object.prototype.hasOwnProperty.call(FIXED, four) && four.length === 4) return four;
  if (Object.prototype.hasOwnProperty.call(VARIABLE, three) && three.length === 3) return three;
  if (Object.prototype.hasOwnProperty.call(FIXED, two) || Object.prototype.hasOwnProperty.call(VARIABLE, two)) {
    return two;
  }
  return null;
}

// Parses one GS-free segment into [{ai, value}], or null. Where a variable field is not the
// last of its segment, its usual lengths are tried and the first that lets the rest parse wins.
function parseSegment(segment, pos) {
  if (pos === segment.length) return [];
  var ai = aiAt(segment, pos);
  if (ai === null) return null;
  var start = pos + ai.length;
  if (Object.prototype.hasOwnProperty.call(FIXED, ai)) {
    var value = segment.substr(start, FIXED[ai]);
    if (value.length !== FIXED[ai] || !isDigits(value)) return null;
    var rest = parseSegment(segment, start + FIXED[ai]);
    return rest === null ? null : [{ ai: ai, value: value }].concat(rest);
  }
  var spec = VARIABLE[ai];
  var left = segment.length - start;
  for (var i = 0; i < spec.usual.length; i++) {
    var len = spec.usual[i];
    if (len >= left) continue;
    var tail = parseSegment(segment, start + len);
    if (tail !== null) return [{ ai: ai, value: segment.substr(start, len) }].concat(tail);
  }
  if (left < 1 || left > spec.max) return null;
  return [{ ai: ai, value: segment.substr(start) }];
}

function parseElements(text) {
  var segments = text.split(GS);
  var fields = [];
  for (var i = 0; i < segments.length; i++) {
    if (segments[i] === "") continue;
    var parsed = parseSegment(segments[i], 0);
    if (parsed === null) return null;
    fields = fields.concat(parsed);
  }
  return fields.length ? fields : null;
}

// AIs whose length GS1 predefines by their first two digits: no separator follows them. Any
// other field that is not the last is closed by a GS, a fixed-length one too (8005, 7003).
var PREDEFINED = ["00", "01", "02", "03", "04", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "31", "32", "33", "34", "35", "36", "41"];

// The canonical text of parsed fields: a GS after each field GS1 does not predefine the length
// of, but the last.
function elementText(fields) {
  var out = "";
  for (var i = 0; i < fields.length; i++) {
    out += fields[i].ai + fields[i].value;
    if (PREDEFINED.indexOf(fields[i].ai.slice(0, 2)) < 0 && i < fields.length - 1) out += GS;
  }
  return out;
}

function field(fields, ai) {
  for (var i = 0; i < fields.length; i++) if (fields[i].ai === ai) return fields[i].value;
  return null;
}

function marking(code, gtin, serial, weightDigits) {
  return {
    kind: "marking",
    code: code,
    gtin: gtin,
    serial: serial,
    ean13: gtin.charAt(0) === "0" ? gtin.slice(1) : null,
    key: "01" + gtin + "21" + serial,
    weight: weightDigits === null ? null : gramsToKg(weightDigits),
  };
}

// What may follow a serial when no separator says where it ends: the tails «Честный ЗНАК»
// prints (91 key + 92 crypto for light industry and pharma; 93 crypto for dairy, water, beer;
// 3103 weight of weighed dairy; 8005 price of tobacco blocks). Nothing else is guessed.
var TAIL = new RegExp(
  "^(?:91[\\x21-\\x7e]{4}92(?:[\\x21-\\x7e]{44}|[\\x21-\\x7e]{88})" +
    "|93[\\x21-\\x7e]{4}(?:3103[0-9]{6})?" +
    "|3103[0-9]{6}(?:93[\\x21-\\x7e]{4})?" +
    "|8005[0-9]{6}93[\\x21-\\x7e]{4}(?:240[\\x21-\\x7e]{1,30})?)$"
);
// Serial lengths in the order they are tried: 13 (shoes, clothes, water, pharma), 6 (dairy),
// 7 (tobacco, beer), then the rest of GS1's 6-20.
var SERIAL_LENGTHS = [13, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20];
var SERIAL = /^[\x21-\x7e]{6,20}$/;

function markingFromParts(gtin, serial, tail) {
  var fields = tail === "" ? [] : parseElements(tail);
  var code = "01" + gtin + "21" + serial;
  if (fields === null) return marking(code + GS + tail, gtin, serial, null);
  if (fields.length) code += GS + elementText(fields);
  return marking(code, gtin, serial, field(fields, "3103"));
}

function parseMarking(text) {
  var head = /^01([0-9]{14})21/.exec(text);
  if (head && checkDigitOk(head[1])) {
    var rest = text.slice(head[0].length);
    var gs = rest.indexOf(GS);
    if (gs >= 0) {
      if (SERIAL.test(rest.slice(0, gs))) return markingFromParts(head[1], rest.slice(0, gs), rest.slice(gs + 1));
    } else {
      for (var i = 0; i < SERIAL_LENGTHS.length; i++) {
        var len = SERIAL_LENGTHS[i];
        if (len < rest.length && TAIL.test(rest.slice(len))) {
          return markingFromParts(head[1], rest.slice(0, len), rest.slice(len));
        }
      }
      if (SERIAL.test(rest)) return markingFromParts(head[1], rest, "");
    }
  }
  // A cigarette pack: 29 characters without AIs, GTIN-14 + 7-character serial + 8-character
  // tail (maximum retail price code and crypto check).
  if (text.length === 29 && /^[0-9]{14}[\x21-\x7e]{15}$/.test(text) && checkDigitOk(text.slice(0, 14))) {
    return marking(text, text.slice(0, 14), text.slice(14, 21), null);
  }
  return null;
}

function parseSscc(text) {
  var match = /^00([0-9]{18})$/.exec(text);
  return match && checkDigitOk(match[1]) ? { kind: "sscc", code: text, sscc: match[1] } : null;
}

// AI 17 is YYMMDD; day 00 means the last day of the month. Years are 20YY (GS1's window
// reaches back 49 years, but no goods on a shelf today expire last century).
function expiryDate(yymmdd) {
  var year = 2000 + Number(yymmdd.slice(0, 2));
  var month = Number(yymmdd.slice(2, 4));
  var day = yymmdd.slice(4, 6);
  if (month < 1 || month > 12) return null;
  if (day === "00") day = String(new Date(Date.UTC(year, month, 0)).getUTCDate());
  if (Number(day) < 1 || Number(day) > 31) return null;
  return year + "-" + yymmdd.slice(2, 4) + "-" + (day.length < 2 ? "0" + day : day);
}

// A product's GS1 code (GS1-128 or DataMatrix) with other AIs than a marking code's: a
// variable field (the batch, AI 10) ends at a GS or at the end of the code.
function parseGs1(text) {
  if (text.slice(0, 2) !== "01") return null;
  var fields = parseElements(text);
  if (fields === null || fields.length < 2) return null;
  var gtin = field(fields, "01");
  // A code with a serial (AI 21) is a marking code or nothing: never counted as plain goods.
  if (gtin === null || !checkDigitOk(gtin) || field(fields, "21") !== null) return null;
  var expiry = field(fields, "17");
  var date = expiry === null ? "" : expiryDate(expiry);
  if (date === null) return null;
  var weight = field(fields, "3103");
  return {
    kind: "gs1",
    code: elementText(fields),
    gtin: gtin,
    ean13: gtin.charAt(0) === "0" ? gtin.slice(1) : null,
    batch: field(fields, "10") || "",
    expiry: date,
    weight: weight === null ? null : gramsToKg(weight),
  };
}

function parseWeight(text, s) {
  if (text.length !== 13 || !isDigits(text) || !checkDigitOk(text)) return null;
  var prefix = text.slice(0, 2);
  if (s.weightPrefixes.indexOf(prefix) < 0) return null;
  var item = text.substr(2, s.itemDigits);
  var grams = text.substr(2 + s.itemDigits, s.weightDigits);
  return { kind: "weight", code: text, item: item, prefix: prefix, quantity: gramsToKg(grams) };
}

// The product part of an in-store weight label: its prefix and item code ("2200123").
function weightKey(scan) {
  return scan.prefix + scan.item;
}

// The codes the weighed product of an in-store weight label may be kept under (in the
// catalog): its product part ("2200123"), or the EAN-13 that carries no weight
// ("2200123000002"), as 1C's scales exchange writes either.
export function weighedProductCodes(scan) {
  var key = weightKey(scan);
  var noWeight = key + "0000000000".slice(scan.item.length);
  return [key, noWeight + checkDigitOf(noWeight)];
}

export function parseScan(raw, settings) {
  var s = settingsOf(settings);
  var text = normalize(raw, s);
  return (
    parseSscc(text) ||
    parseMarking(text) ||
    parseGs1(text) ||
    parseWeight(text, s) || { kind: "plain", code: text.split(GS).join("") }
  );
}

// ---------------------------------------------------------------- matching to lines

function lineBarcodes(line) {
  if (!line) return [];
  if (Array.isArray(line.barcodes)) return line.barcodes.map(String);
  if (line.barcode !== undefined && line.barcode !== null && line.barcode !== "") return [String(line.barcode)];
  return [];
}

// A numeric EAN-8/UPC-A/EAN-13/GTIN-14 as GTIN-14, else null: the same product by any of them.
function asGtin14(code) {
  if (!isDigits(code)) return null;
  var n = code.length;
  if (n !== 8 && n !== 12 && n !== 13 && n !== 14) return null;
  while (code.length < 14) code = "0" + code;
  return code;
}

function findLine(lines, accepts) {
  for (var i = 0; i < lines.length; i++) {
    var codes = lineBarcodes(lines[i]);
    for (var j = 0; j < codes.length; j++) if (accepts(codes[j])) return i;
  }
  return -1;
}

// A line's barcode as a weighed product's code: the product part of an EAN-13 that carries no
// weight ("2200123000002" -> "2200123"). Any other code (1C's own 2000000000015 of an ordinary
// product, whose "weight" digits are not zero) is no weighed product's.
function itemKey(code, s) {
  if (code.length !== 13 || !isDigits(code)) return null;
  var weight = code.substr(2 + s.itemDigits, s.weightDigits);
  return /^0+$/.test(weight) ? code.slice(0, 2 + s.itemDigits) : null;
}

// Units a weighed product is counted in: a weight label's own code on such a line is the
// product with its weight (zero, when the label says so), not one piece.
var WEIGHT_UNITS = ["кг", "kg", "г", "g"];

function weighedLine(line) {
  return Boolean(line) && WEIGHT_UNITS.indexOf(String(line.unit || "").trim().toLowerCase().replace(/\.$/, "")) >= 0;
}

export function matchScan(raw, lines, settings) {
  var s = settingsOf(settings);
  var list = Array.isArray(lines) ? lines : [];
  var scan = parseScan(raw, s);
  var found = function (line, quantity) {
    return { line: line, quantity: quantity, scan: scan, reason: null };
  };
  if (scan.code === "") return { line: -1, quantity: "0", scan: scan, reason: "unknown_barcode" };
  var whole = scan.code;
  var plainText = whole.split(GS).join("");
  // 1. The whole code, as it came (1C gives ordinary goods 2000000... codes too).
  var line = findLine(list, function (b) {
    return b === whole || b === plainText;
  });
  var gtin = asGtin14(whole);
  if (line < 0 && gtin !== null) {
    line = findLine(list, function (b) {
      return asGtin14(b) === gtin;
    });
  }
  if (line >= 0) {
    // A weighed line's own no-weight code, from a label that weighed nothing: zero, refused
    // (a code 1C made up for a product, 2000000001234, counts one as any code does).
    if (scan.kind === "weight" && weighedLine(list[line]) && itemKey(whole, s) !== null) {
      return found(line, scan.quantity);
    }
    return found(line, scan.weight ? scan.weight : "1");
  }
  // 2. An in-store weight code: its prefix and item part against the lines' codes.
  if (scan.kind === "weight") {
    var key = weightKey(scan);
    line = findLine(list, function (b) {
      return b === key || itemKey(b, s) === key;
    });
    if (line >= 0) return found(line, scan.quantity);
  }
  // 3. A marking or GS1 code by its GTIN (the EAN-13 inside "0" + EAN-13, or the GTIN-14).
  if (scan.kind === "marking" || scan.kind === "gs1") {
    line = findLine(list, function (b) {
      return asGtin14(b) === scan.gtin;
    });
    if (line >= 0) return found(line, scan.weight ? scan.weight : "1");
  }
  // An aggregation code matches only a line that names that very SSCC.
  if (scan.kind === "sscc") {
    line = findLine(list, function (b) {
      return b === scan.sscc;
    });
    if (line >= 0) return found(line, "1");
  }
  return { line: -1, quantity: "0", scan: scan, reason: "unknown_barcode" };
}
