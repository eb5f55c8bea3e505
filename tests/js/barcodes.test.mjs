// Table tests of the terminal app's barcode module (node --test tests/js/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_SETTINGS, codeInLink, latinKeys, matchScan, parseScan } from "../../terminal_app/web/js/barcodes.js";

const GS = "\u001d";

// Appends the GS1 mod-10 check digit.
function withCheck(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const weight = (digits.length - i) % 2 === 1 ? 3 : 1;
    sum += weight * Number(digits[i]);
  }
  return digits + String((10 - (sum % 10)) % 10);
}

function breakCheck(code) {
  const last = Number(code[code.length - 1]);
  return code.slice(0, -1) + String((last + 1) % 10);
}

const SHOES_EAN = withCheck("460123456789"); // 13 digits
const SHOES_GTIN = "0" + SHOES_EAN;
const MILK_EAN = withCheck("460700000042");
const MILK_GTIN = "0" + MILK_EAN;
const WATER_GTIN = "0" + withCheck("460999000123");
const CIG_GTIN = "0" + withCheck("460006630181");
const CRYPTO44 = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/=abcde";
assert.equal(CRYPTO44.length, 44);

const shoes = `01${SHOES_GTIN}21a5Yz8JkL0pQ2w${GS}91EE06${GS}92${CRYPTO44}`;
const shoesNoGs = shoes.split(GS).join("");
const clothes = `01${SHOES_GTIN}21"N&%t-0.K_3?x${GS}91FFD0${GS}92${CRYPTO44}`;
const milk = `01${MILK_GTIN}215Nq+g/${GS}93dGVz`;
const milkWeighed = `01${MILK_GTIN}21Xk!7aQ${GS}93Ab3F${GS}3103001235`;
const water = `01${WATER_GTIN}21JgXJ5.T0a1Bc${GS}93a9Z+`;
const cigarettePack = `${CIG_GTIN}-5RsTuV` + "AAAA" + "cR/z";

const lines = [
  { barcodes: ["2000000012345"] }, // 0: an ordinary good with a 1C "2000000..." code
  { barcodes: [SHOES_EAN] }, // 1: shoes by EAN-13
  { barcode: MILK_GTIN }, // 2: milk by GTIN-14, single field
  { barcodes: ["2212345000000".slice(0, 12) + withCheck("221234500000").slice(-1)] }, // 3: weighed cheese
  { barcodes: ["96385074"] }, // 4: EAN-8
  { barcodes: ["036000291452"] }, // 5: UPC-A
  { barcodes: ["ABC-128-xyz"] }, // 6: Code 128 shop code
  { barcodes: [WATER_GTIN.slice(1)] }, // 7: water
  { barcodes: [CIG_GTIN.slice(1)] }, // 8: cigarettes
  { barcodes: ["246810"] }, // 9: a short shop code
  { barcodes: ["2512345"] }, // 10: weighed good stored as prefix + item code
];

test("defaults: prefixes 20-29, 5 item digits, 5 weight digits, no substitute", () => {
  assert.deepEqual(DEFAULT_SETTINGS, {
    weightPrefixes: ["20", "21", "22", "23", "24", "25", "26", "27", "28", "29"],
    itemDigits: 5,
    weightDigits: 5,
    gsSubstitute: "",
  });
});

const parseCases = [
  ["EAN-13 as it comes", "4600123456787", { kind: "plain", code: "4600123456787" }],
  ["EAN-8", "96385074", { kind: "plain", code: "96385074" }],
  ["UPC-A", "036000291452", { kind: "plain", code: "036000291452" }],
  ["Code 128 with letters", "ABC-128-xyz", { kind: "plain", code: "ABC-128-xyz" }],
  ["trailing Enter and spaces are dropped", " 96385074\r\n", { kind: "plain", code: "96385074" }],
  ["EAN symbology identifier stripped", "]E096385074", { kind: "plain", code: "96385074" }],
  ["empty input", "", { kind: "plain", code: "" }],
  ["undefined input", undefined, { kind: "plain", code: "" }],
  ["weight code with a wrong check digit stays plain", breakCheck(withCheck("221234501235")), null],
  ["SSCC with AI 00", "00" + withCheck("14600123400000001"), { kind: "sscc", code: "00" + withCheck("14600123400000001"), sscc: withCheck("14600123400000001") }],
  ["SSCC after ]C1", "]C100" + withCheck("14600123400000001"), { kind: "sscc", code: "00" + withCheck("14600123400000001"), sscc: withCheck("14600123400000001") }],
  ["SSCC with a wrong check digit is plain", "00" + breakCheck(withCheck("14600123400000001")), { kind: "plain", code: "00" + breakCheck(withCheck("14600123400000001")) }],
];

for (const [name, raw, expected] of parseCases) {
  test(`parseScan: ${name}`, () => {
    const got = parseScan(raw, DEFAULT_SETTINGS);
    if (expected === null) assert.equal(got.kind, "plain");
    else assert.deepEqual(got, expected);
  });
}

for (let prefix = 20; prefix <= 29; prefix++) {
  test(`parseScan: weight code with prefix ${prefix}`, () => {
    const code = withCheck(`${prefix}1234501235`);
    assert.deepEqual(parseScan(code, DEFAULT_SETTINGS), {
      kind: "weight",
      code,
      item: "12345",
      prefix: String(prefix),
      quantity: "1.235",
    });
  });
}

const weightCases = [
  ["500 g", withCheck("220000100500"), DEFAULT_SETTINGS, "00001", "0.5"],
  ["2 kg exactly", withCheck("220000102000"), DEFAULT_SETTINGS, "00001", "2"],
  ["7 g", withCheck("220000100007"), DEFAULT_SETTINGS, "00001", "0.007"],
  ["99.999 kg", withCheck("220000199999"), DEFAULT_SETTINGS, "00001", "99.999"],
  ["zero", withCheck("220000100000"), DEFAULT_SETTINGS, "00001", "0"],
  ["6 item + 4 weight digits", withCheck("221234561235"), { ...DEFAULT_SETTINGS, itemDigits: 6, weightDigits: 4 }, "123456", "1.235"],
  ["4 item + 6 weight digits", withCheck("221234012345"), { ...DEFAULT_SETTINGS, itemDigits: 4, weightDigits: 6 }, "1234", "12.345"],
  ["an inconsistent layout falls back to 5 + 5", withCheck("221234501235"), { ...DEFAULT_SETTINGS, itemDigits: 6, weightDigits: 6 }, "12345", "1.235"],
];
for (const [name, code, settings, item, quantity] of weightCases) {
  test(`parseScan: weight ${name}`, () => {
    const got = parseScan(code, settings);
    assert.equal(got.kind, "weight");
    assert.equal(got.item, item);
    assert.equal(got.quantity, quantity);
  });
}

test("parseScan: settings as the terminal APIs serve them (snake_case) work alike", () => {
  const served = { weight_prefixes: ["27"], item_digits: 6, weight_digits: 4, gs_substitute: "~" };
  const weight = parseScan(withCheck("271234560750"), served);
  assert.equal(weight.kind, "weight");
  assert.equal(weight.item, "123456");
  assert.equal(weight.quantity, "0.75");
  assert.equal(parseScan(withCheck("221234560750"), served).kind, "plain");
  assert.equal(parseScan(milk.split(GS).join("~"), served).code, milk);
});

test("parseScan: a prefix not configured is an ordinary code", () => {
  const code = withCheck("231234501235");
  assert.equal(parseScan(code, { ...DEFAULT_SETTINGS, weightPrefixes: ["21", "22"] }).kind, "plain");
  assert.equal(parseScan(code).kind, "weight"); // settings omitted: defaults
});

const markingCases = [
  ["shoes with GS (01 21 91 92)", shoes, SHOES_GTIN, "a5Yz8JkL0pQ2w", null, shoes],
  ["shoes without GS", shoesNoGs, SHOES_GTIN, "a5Yz8JkL0pQ2w", null, shoes],
  ["shoes after ]d2 with FNC1 as a leading GS", `]d2${GS}${shoes}`, SHOES_GTIN, "a5Yz8JkL0pQ2w", null, shoes],
  ["shoes with <GS> text", shoes.split(GS).join("<GS>"), SHOES_GTIN, "a5Yz8JkL0pQ2w", null, shoes],
  ["shoes with \\u001d text", shoes.split(GS).join("\\u001d"), SHOES_GTIN, "a5Yz8JkL0pQ2w", null, shoes],
  ["clothes: serial with punctuation", clothes, SHOES_GTIN, '"N&%t-0.K_3?x', null, clothes],
  ["clothes without GS", clothes.split(GS).join(""), SHOES_GTIN, '"N&%t-0.K_3?x', null, clothes],
  ["milk (6-char serial, 93)", milk, MILK_GTIN, "5Nq+g/", null, milk],
  ["milk without GS", milk.split(GS).join(""), MILK_GTIN, "5Nq+g/", null, milk],
  ["weighed milk (93 + 3103)", milkWeighed, MILK_GTIN, "Xk!7aQ", "1.235", milkWeighed],
  ["weighed milk without GS", milkWeighed.split(GS).join(""), MILK_GTIN, "Xk!7aQ", "1.235", milkWeighed],
  ["water (13-char serial, 93)", water, WATER_GTIN, "JgXJ5.T0a1Bc", null, water],
  ["water without GS", water.split(GS).join(""), WATER_GTIN, "JgXJ5.T0a1Bc", null, water],
  ["cigarette pack, 29 characters without AIs", cigarettePack, CIG_GTIN, "-5RsTuV", null, cigarettePack],
  ["identification code only (01 + 21)", `01${SHOES_GTIN}21a5Yz8JkL0pQ2w`, SHOES_GTIN, "a5Yz8JkL0pQ2w", null, `01${SHOES_GTIN}21a5Yz8JkL0pQ2w`],
];
for (const [name, raw, gtin, serial, weight, code] of markingCases) {
  test(`parseScan: marking, ${name}`, () => {
    const got = parseScan(raw, DEFAULT_SETTINGS);
    assert.deepEqual(got, {
      kind: "marking",
      code,
      gtin,
      serial,
      ean13: gtin.slice(1),
      key: `01${gtin}21${serial}`,
      weight,
    });
  });
}

test("parseScan: the configured substitute stands for GS", () => {
  const settings = { ...DEFAULT_SETTINGS, gsSubstitute: "~" };
  const got = parseScan(shoes.split(GS).join("~"), settings);
  assert.equal(got.kind, "marking");
  assert.equal(got.serial, "a5Yz8JkL0pQ2w");
  assert.equal(got.code, shoes);
  // Without the setting "~" is just a character: the serial would swallow it.
  assert.notEqual(parseScan(milk.split(GS).join("~")).serial, "5Nq+g/");
});

// What a wedge types when the terminal's keyboard layout is Russian: the same keys, ЙЦУКЕН.
const QWERTY = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>~/?@$^&|#";
const JCUKEN = "йцукенгшщзхъфывапролджэячсмитьбюёЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ.,\";:?/№";
function typedInRussian(text) {
  return [...text].map((c) => (QWERTY.includes(c) ? JCUKEN[QWERTY.indexOf(c)] : c)).join("");
}

test("parseScan: a code typed through a Russian keyboard layout is read as printed", () => {
  for (const code of [milk, shoes, clothes, shoesNoGs]) {
    const typed = typedInRussian(code);
    assert.notEqual(typed, code);
    assert.deepEqual(parseScan(typed), parseScan(code));
  }
  assert.equal(typedInRussian("5Nq+g/"), "5Тй+п.");
});

test("parseScan: a 29-character code with a wrong GTIN check digit is not a pack", () => {
  assert.equal(parseScan(breakCheck(CIG_GTIN) + "-5RsTuVAAAAcR/z").kind, "plain");
});

test("parseScan: a GTIN with a wrong check digit is not a marking code", () => {
  assert.equal(parseScan(`01${breakCheck(SHOES_GTIN)}21a5Yz8JkL0pQ2w`).kind, "plain");
});

test("parseScan: a serial shorter than 6 characters is not a marking code", () => {
  assert.equal(parseScan(`01${SHOES_GTIN}21abc${GS}93dGVz`).kind, "plain");
});

test("parseScan: the same physical code gives the same key with and without GS or substitute", () => {
  const keys = new Set([
    parseScan(water).key,
    parseScan(water.split(GS).join("")).key,
    parseScan(water.split(GS).join("|"), { gsSubstitute: "|" }).key,
    parseScan(`]d2${water}`).key,
  ]);
  assert.deepEqual([...keys], [`01${WATER_GTIN}21JgXJ5.T0a1Bc`]);
});

const matchCases = [
  ["1C's 2000000... code matches whole, not as a weight", "2000000012345", 0, "1"],
  ["EAN-13 of shoes", SHOES_EAN, 1, "1"],
  ["milk's EAN-13 against a GTIN-14 line", MILK_EAN, 2, "1"],
  ["EAN-8", "96385074", 4, "1"],
  ["UPC-A", "036000291452", 5, "1"],
  ["UPC-A read as EAN-13 with a leading 0", "0036000291452", 5, "1"],
  ["Code 128", "ABC-128-xyz", 6, "1"],
  ["weight code: prefix + item finds the line, grams become kg", withCheck("221234501235"), 3, "1.235"],
  ["weight code against a prefix + item line code", withCheck("251234500750"), 10, "0.75"],
  ["weight code with an item no line has", withCheck("229999901235"), -1, "0"],
  ["shoes marking code by EAN-13 in the GTIN", shoes, 1, "1"],
  ["shoes marking code without GS", shoesNoGs, 1, "1"],
  ["milk marking code by GTIN-14", milk, 2, "1"],
  ["weighed milk counts its weight", milkWeighed, 2, "1.235"],
  ["water", water, 7, "1"],
  ["cigarette pack", cigarettePack, 8, "1"],
  ["unknown EAN", withCheck("460000000000"), -1, "0"],
  ["SSCC no line names", "00" + withCheck("14600123400000001"), -1, "0"],
  ["empty scan", "", -1, "0"],
  ["only whitespace", "  \r\n", -1, "0"],
  ["garbage", "%%%", -1, "0"],
];
for (const [name, raw, line, quantity] of matchCases) {
  test(`matchScan: ${name}`, () => {
    const got = matchScan(raw, lines, DEFAULT_SETTINGS);
    assert.equal(got.line, line);
    assert.equal(got.quantity, quantity);
    assert.equal(got.reason, line < 0 ? "unknown_barcode" : null);
    assert.equal(got.scan.kind, parseScan(raw, DEFAULT_SETTINGS).kind);
  });
}

test("matchScan: a whole-code match wins over the weight layout", () => {
  const code = withCheck("220000101000"); // would be 1 kg of item 00001
  const got = matchScan(code, [{ barcodes: [withCheck("220000100000")] }, { barcodes: [code] }]);
  assert.equal(got.line, 1);
  assert.equal(got.quantity, "1");
  assert.equal(got.scan.kind, "weight");
});

test("matchScan: an SSCC matches a line that names it", () => {
  const sscc = withCheck("14600123400000001");
  assert.equal(matchScan("00" + sscc, [{ barcodes: ["x"] }, { barcodes: [sscc] }]).line, 1);
});

test("matchScan: lines without barcodes and bad arguments are tolerated", () => {
  assert.equal(matchScan(SHOES_EAN, [{}, { barcodes: [] }, null, { barcode: SHOES_EAN }]).line, 3);
  assert.equal(matchScan(SHOES_EAN, undefined).line, -1);
});

test("the pairing sheet's QR link gives its connection code through either keyboard layout", () => {
  assert.equal(codeInLink("https://tsd.example.ru:8443/tsd/?code=MEHY-FJ2E-JPPK"), "MEHY-FJ2E-JPPK");
  // The same link typed by a wedge scanner while the terminal's keyboard is in Russian.
  const typedInRussian = "реезыЖ..еывюучфьздуюкгЖ8443.еыв.,сщву=ЬУРН-АО2У-ОЗЗЛ";
  assert.equal(latinKeys(typedInRussian), "https://tsd.example.ru:8443/tsd/?code=MEHY-FJ2E-JPPK");
  assert.equal(codeInLink(typedInRussian), "MEHY-FJ2E-JPPK");
  assert.equal(codeInLink("MEHY-FJ2E-JPPK"), ""); // a code alone is no link
  assert.equal(latinKeys("4601234567893"), "4601234567893");
});
