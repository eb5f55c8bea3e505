// Exact decimal quantities as strings ("1.235"): the server parses them exactly, and a float
// would turn 0.1 + 0.2 into 0.30000000000000004. Scaled BigInt arithmetic (Chrome 67+).

var VALID = /^\d{1,12}(\.\d{1,6})?$/;

export function isQuantity(text) {
  return VALID.test(String(text).trim());
}

export function normalize(text) {
  return String(text).trim().replace(",", ".");
}

function split(text) {
  var parts = String(text).split(".");
  return { whole: parts[0] || "0", fraction: parts[1] || "" };
}

function scaled(text, scale) {
  var p = split(text);
  var fraction = p.fraction;
  while (fraction.length < scale) fraction += "0";
  return BigInt(p.whole + fraction);
}

function scaleOf(a, b) {
  return Math.max(split(a).fraction.length, split(b).fraction.length);
}

function format(value, scale) {
  var digits = value.toString();
  if (scale === 0) return digits;
  while (digits.length <= scale) digits = "0" + digits;
  var whole = digits.slice(0, digits.length - scale);
  var fraction = digits.slice(digits.length - scale).replace(/0+$/, "");
  return fraction ? whole + "." + fraction : whole;
}

export function add(a, b) {
  var scale = scaleOf(a, b);
  return format(scaled(a, scale) + scaled(b, scale), scale);
}

// a − b, exact, for a b not above a (what was added taken back).
export function subtract(a, b) {
  var scale = scaleOf(a, b);
  var difference = scaled(a, scale) - scaled(b, scale);
  return format(difference < BigInt(0) ? BigInt(0) : difference, scale);
}

export function compare(a, b) {
  var scale = scaleOf(a, b);
  var x = scaled(a, scale);
  var y = scaled(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isZero(a) {
  return compare(a, "0") === 0;
}

// a × b, exact: a package factor times what one scan counts ("12" × "1", "0.5" × "1.235").
export function multiply(a, b) {
  var sa = split(a).fraction.length;
  var sb = split(b).fraction.length;
  return format(scaled(a, sa) * scaled(b, sb), sa + sb);
}
