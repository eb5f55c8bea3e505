// Batches and marking codes as the floor counts them (terminal_app/web/js/work.js and
// barcodes.js): a GS1 code's batch and expiry, lines kept apart per batch, attributes the
// process asks for, marking codes checked against what 1C expects (aggregation codes too).
import { test } from "node:test";
import assert from "node:assert/strict";

import { parseScan } from "../../terminal_app/web/js/barcodes.js";
import { applyScan, applyTyped, attributesToAsk, clearLine, factLines, marksCheck, newJob, undoLast } from "../../terminal_app/web/js/work.js";

const GS = "\u001d";
const MILK = "4601234567893";
const code = (serial) => `010${MILK}21${serial}${GS}93Ab1x`;
const SSCC = "00146012345678901236";

function job(settings, expected, lines) {
  return newJob({
    delivery_id: "d1",
    settings: settings || {},
    document: {
      header: { id: "doc" },
      lines: lines || [{ line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "5" }],
      expected_marks: expected || [],
    },
  });
}

test("a GS1 code gives its batch, expiry (day 00 is the month's last) and net weight", () => {
  const scan = parseScan(`010${MILK}17270200${GS}10L042${GS}3103001250`);
  assert.equal(scan.kind, "gs1");
  assert.deepEqual([scan.ean13, scan.batch, scan.expiry, scan.weight], [MILK, "L042", "2027-02-28", "1.25"]);
  assert.equal(parseScan(`010${MILK}1727013110L042`).expiry, "2027-01-31");
  assert.equal(parseScan(`010${MILK}17271301`).kind, "plain"); // month 13 is not a date
});

test("batches of one line stay apart in the result, with their expiry", () => {
  const counted = job();
  assert.equal(applyScan(counted, `010${MILK}1727033110L1`).ok, true);
  assert.equal(applyScan(counted, `010${MILK}1727033110L1`).ok, true);
  assert.equal(applyScan(counted, `010${MILK}1727043010L2`).ok, true);
  assert.deepEqual(factLines(counted).map((f) => [f.line_no, f.series, f.expiry, f.quantity]), [
    [1, "L1", "2027-03-31", "2"],
    [1, "L2", "2027-04-30", "1"],
  ]);
  assert.equal(counted.counts[0], "3");
});

test("what the process asks for is asked when the scan does not carry it, and typed in", () => {
  const counted = job({ ask_for: ["series", "expiry"] });
  assert.deepEqual(attributesToAsk(counted, MILK), ["series", "expiry"]);
  assert.deepEqual(attributesToAsk(counted, `010${MILK}1727033110L1`), []);
  assert.deepEqual(attributesToAsk(counted, "999"), []); // unknown: refused, nothing asked
  applyScan(counted, MILK, undefined, { series: "HAND-1", expiry: "2027-05-01" });
  applyTyped(counted, 0, "2", { series: "HAND-2" });
  assert.deepEqual(factLines(counted).map((f) => [f.series, f.expiry || "", f.quantity]), [
    ["HAND-1", "2027-05-01", "1"],
    ["HAND-2", "", "2"],
  ]);
});

test("a line counted by a box, cleared, is counted again by the box", () => {
  const counted = job({}, [{ code: SSCC, contents: [code("AAAAAA"), code("BBBBBB")] }]);
  assert.equal(applyScan(counted, SSCC).ok, true);
  assert.equal(counted.counts[0], "2");
  clearLine(counted, 0);
  assert.equal(counted.counts[0], "0");
  const again = applyScan(counted, SSCC);
  assert.equal(again.ok, true, JSON.stringify(again));
  assert.equal(counted.counts[0], "2");
  assert.equal(applyScan(counted, SSCC).reason, "aggregate_repeated");
});

test("a box that takes a line past its plan, without quantity control, is counted and said to be over", () => {
  const counted = job({}, [{ code: SSCC, contents: [code("AAAAAA"), code("BBBBBB")] }]);
  applyTyped(counted, 0, "4");
  const box = applyScan(counted, SSCC);
  assert.equal(box.ok, true);
  assert.equal(box.over, true);
  assert.equal(counted.counts[0], "6");
});

test("an aggregation code counts as all its contents; surplus and missing are told apart", () => {
  const expected = [{ code: SSCC, contents: [code("AAAAAA"), code("BBBBBB")] }, { code: code("CCCCCC") }];
  const counted = job({}, expected);
  const box = applyScan(counted, SSCC);
  assert.equal(box.ok, true);
  assert.equal(box.quantity, "2");
  assert.equal(applyScan(counted, SSCC).reason, "aggregate_repeated");
  assert.equal(applyScan(counted, code("AAAAAA").replace(GS, "")).reason, "mark_repeated");
  const extra = applyScan(counted, code("DDDDDD"));
  assert.equal(extra.ok, true);
  assert.equal(extra.surplus, true);
  const check = marksCheck(counted);
  assert.deepEqual([check.expected, check.scanned, check.found, check.surplus.length, check.missing.length], [3, 3, 2, 1, 1]);
  assert.deepEqual(factLines(counted)[0].marks, [code("AAAAAA"), code("BBBBBB"), code("DDDDDD")]);
  assert.equal(counted.counts[0], "3");
});

test("an aggregation code is all or nothing under quantity control", () => {
  const expected = [{ code: SSCC, contents: [code("AAAAAA"), code("BBBBBB")] }];
  const lines = [{ line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "1" }];
  const counted = job({ quantity_control: true }, expected, lines);
  assert.equal(applyScan(counted, SSCC).reason, "over_plan");
  assert.equal(counted.counts[0], "0");
  assert.deepEqual(factLines(counted), []);
});

test("without expected codes nothing is checked and an SSCC of no line is unknown", () => {
  const counted = job();
  assert.equal(marksCheck(counted), null);
  assert.equal(applyScan(counted, SSCC).reason, "unknown_barcode");
});

test("a job stored before batches were kept apart still sends its count", () => {
  const old = job();
  delete old.parts;
  old.counts[0] = "2";
  old.scanned[0] = MILK;
  assert.deepEqual(factLines(old), [{ line_no: 1, product_id: "milk", barcode: MILK, quantity: "2" }]);
  applyScan(old, MILK);
  assert.equal(factLines(old)[0].quantity, "3");
});

test("an expiry typed by hand is read in the Russian and ISO ways, and checked", async () => {
  const { expiryOf } = await import("../../terminal_app/web/js/work.js");
  assert.equal(expiryOf("31.03.2027"), "2027-03-31");
  assert.equal(expiryOf("1.4.27"), "2027-04-01");
  assert.equal(expiryOf("2027-02-28"), "2027-02-28");
  assert.equal(expiryOf("30.02.2027"), null);
  assert.equal(expiryOf("завтра"), null);
});


test("a box undone takes back every code it counted, and may be scanned again", () => {
  const counted = job({}, [{ code: SSCC, contents: [code("AAAAAA"), code("BBBBBB")] }]);
  applyScan(counted, code("CCCCCC"));
  assert.equal(applyScan(counted, SSCC).ok, true);
  assert.equal(counted.counts[0], "3");
  const undone = undoLast(counted);
  assert.deepEqual([undone.box, undone.quantity], [true, "2"]);
  assert.equal(counted.counts[0], "1");
  assert.deepEqual(factLines(counted)[0].marks, [code("CCCCCC")]);
  assert.equal(applyScan(counted, SSCC).ok, true); // the box and its codes, counted anew
  assert.equal(counted.counts[0], "3");
});

test("a box whose codes the planned cell refuses counts none of them, and leaves nothing to undo", () => {
  const lines = [{ line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "5", cell: "A-01" }];
  const counted = job({ quantity_control: true }, [{ code: SSCC, contents: [code("AAAAAA"), code("BBBBBB")] }], lines);
  counted.cell = "B-02"; // the storekeeper is in another cell
  assert.equal(applyScan(counted, SSCC).reason, "cell_mismatch");
  assert.equal(counted.counts[0], "0");
  assert.deepEqual(counted.aggregatesScanned, {});
  assert.equal(undoLast(counted).reason, "nothing_to_undo");
});

test("a job stored before lines kept batches apart sends what it counts, once", () => {
  const counted = job();
  counted.counts[0] = "1"; // as a job of the release before: counts without parts
  counted.scanned[0] = MILK;
  delete counted.parts;
  applyScan(counted, MILK);
  assert.equal(counted.counts[0], "2");
  assert.deepEqual(factLines(counted).map((f) => f.quantity), ["2"]);
});

test("undo gives a part back the barcode it had: none, after a typed quantity", () => {
  const counted = job();
  applyTyped(counted, 0, "2");
  applyScan(counted, MILK);
  undoLast(counted);
  assert.deepEqual(factLines(counted).map((f) => [f.quantity, f.barcode]), [["2", MILK]]);
  assert.equal(counted.parts[0].barcode, "");
});

test("one product planned on two lines: a scan goes to the line with room, in the cell entered", () => {
  const lines = [
    { line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "3", cell: "A-01" },
    { line_no: 2, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "2", cell: "B-02" },
  ];
  const picking = job({ quantity_control: true }, [], lines);
  for (let i = 0; i < 4; i++) assert.equal(applyScan(picking, MILK).ok, true, `scan ${i + 1}`);
  assert.deepEqual(picking.counts, ["3", "1"]);
  picking.cell = "B-02"; // the storekeeper scanned cell B-02
  assert.equal(applyScan(picking, MILK).line, 1);
  assert.deepEqual(picking.counts, ["3", "2"]);
  assert.equal(applyScan(picking, MILK).reason, "over_plan"); // both full: the found line says why
});

test("a code 1C made up for a product counted in kg counts one, not its digits as grams", () => {
  const lines = [{ line_no: 1, product_id: "apples", name: "Яблоки", barcodes: ["2000000001234"], unit: "кг", planned_qty: "5" }];
  const counted = job({}, [], lines);
  assert.equal(applyScan(counted, "2000000001234").quantity, "1");
});

test("a GS1 code's batch picks the line planned for that batch, and the questions ask for that line", () => {
  const lines = [
    { line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "3", series: "S1" },
    { line_no: 2, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "3", series: "S2" },
  ];
  const counted = job({ quantity_control: true }, [], lines);
  const s2 = `010${MILK}10S2`;
  assert.equal(applyScan(counted, s2).line, 1);
  assert.deepEqual(factLines(counted).map((f) => [f.line_no, f.series]), [[2, "S2"]]);
  // Line 1 full and planned in a cell with an expiry; line 2 neither: the questions are line 2's.
  const full = job({ quantity_control: true, ask_for: ["expiry"] }, [], [
    { line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "1", expiry: "2027-01-31" },
    { line_no: 2, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "2" },
  ]);
  applyScan(full, MILK);
  assert.deepEqual(attributesToAsk(full, MILK), ["expiry"]);
});
