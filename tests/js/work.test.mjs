// Counting rules of the terminal app (terminal_app/web/js/work.js and decimal.js): exact
// decimal sums, marking codes counted once, quantity control, the result lines sent.
import { test } from "node:test";
import assert from "node:assert/strict";

import { add, compare, isQuantity } from "../../terminal_app/web/js/decimal.js";
import { quantityShown } from "../../terminal_app/web/js/i18n.js";
import { inLanguage } from "./language.mjs";
import { applyScan, applyTyped, clearLine, countsWhole, documentsByScan, factLines, newJob, progress, scannedIntoQuantity, titleOf, typedKeys, undoLast } from "../../terminal_app/web/js/work.js";

const GS = "\u001d";
const MILK = "4601234567893";

function job(settings) {
  return newJob({
    delivery_id: "d1",
    number: "0000-000123",
    date: "2026-11-28T10:15:00",
    terminal_type: "Поступление",
    lines: 2,
    state: "downloaded",
    settings: settings || {},
    document: {
      header: { id: "doc", number: "0000-000123" },
      lines: [
        { line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "2" },
        { line_no: 2, product_id: "cheese", name: "Сыр", barcodes: ["2212345000003"], planned_qty: "1.5" },
      ],
    },
  });
}

test("decimal sums are exact and quantities are bounded", () => {
  assert.equal(add("0.1", "0.2"), "0.3");
  assert.equal(add("1.235", "0.765"), "2");
  assert.equal(add("0", "1.5"), "1.5");
  assert.equal(compare("1.75", "1.5"), 1);
  assert.equal(compare("1.50", "1.5"), 0);
  assert.equal(isQuantity("0.75"), true);
  assert.equal(isQuantity("1e3"), false);
  assert.equal(isQuantity("-1"), false);
});

test("the title reads as in 1C, and in the app's language", () => {
  assert.equal(titleOf(job().summary), "Поступление № 0000-000123 от 28.11.2026");
  inLanguage("en", () => {
    assert.equal(titleOf(job().summary), "Поступление No. 0000-000123 of 28.11.2026");
  });
});

test("progress tells lines counted to their plan from lines past it", () => {
  const counted = job();
  assert.deepEqual(progress(counted), { done: 0, over: 0, total: 2 });
  applyScan(counted, MILK);
  applyScan(counted, MILK);
  assert.deepEqual(progress(counted), { done: 1, over: 0, total: 2 });
  // A third pack past the plan of two: no longer done, a line to look at again.
  applyScan(counted, MILK);
  assert.deepEqual(progress(counted), { done: 0, over: 1, total: 2 });
  // A product outside the plan has no plan to meet.
  counted.lines[1].unplanned = true;
  assert.equal(applyTyped(counted, 1, "3").ok, true);
  assert.deepEqual(progress(counted), { done: 0, over: 1, total: 1 });
});

test("a typed fraction of pieces is refused; kilograms and units the app does not know take it", () => {
  const counted = job();
  counted.lines[0].unit = "шт";
  counted.lines[1].unit = "кг";
  assert.deepEqual(applyTyped(counted, 0, " 1,5 "), { ok: false, reason: "whole_units", params: { value: "1,5", unit: "шт" } });
  assert.equal(counted.counts[0], "0");
  assert.equal(applyTyped(counted, 0, "2,0").ok, true); // a whole number written with a fraction
  assert.equal(applyTyped(counted, 1, "1,235").ok, true);
  assert.deepEqual(["Шт.", "упак", "PCS", "кг", "м", "", undefined].map(countsWhole), [true, true, true, false, false, false, false]);
});

test("a line cleared takes back its count, its batches and its marking codes", () => {
  const counted = job();
  const mark = `010${MILK}21abcDEF123456${GS}93Ab1x`;
  assert.equal(applyScan(counted, mark).ok, true);
  assert.equal(applyScan(counted, "2212345000003").ok, true);
  clearLine(counted, 0);
  assert.equal(counted.counts[0], "0");
  assert.deepEqual(factLines(counted).map((fact) => fact.product_id), ["cheese"]);
  // The same pack may be scanned again: the line is counted anew.
  assert.equal(applyScan(counted, mark).ok, true);
  assert.equal(counted.counts[0], "1");
});

test("a job stored before lines kept batches apart is cleared too", () => {
  const old = job();
  applyTyped(old, 1, "1.5");
  // As stored by an earlier release: counts only, no boxes, nothing expected.
  delete old.parts;
  delete old.aggregatesScanned;
  delete old.expected;
  clearLine(old, 1);
  assert.equal(old.counts[1], "0");
  assert.deepEqual(factLines(old), []);
});

test("a count past the plan without quantity control is counted and said to be over", () => {
  const counted = job();
  assert.equal(applyTyped(counted, 0, "2").over, false);
  const over = applyTyped(counted, 0, "1");
  assert.equal(over.ok, true);
  assert.equal(over.over, true);
  assert.equal(counted.counts[0], "3");
  const unplanned = job();
  unplanned.lines[0].unplanned = true;
  assert.equal(applyTyped(unplanned, 0, "5").over, false); // no plan to be over
});

test("quantities are shown with a decimal comma in Russian, as they are in English", () => {
  assert.equal(quantityShown("1.235"), "1,235");
  assert.equal(quantityShown("-1.5"), "-1,5");
  assert.equal(quantityShown(undefined), "");
  assert.equal(quantityShown(null), "");
  inLanguage("en", () => assert.equal(quantityShown("1.235"), "1.235"));
});

test("a marking code counts once; the same pack again is refused", () => {
  const counted = job();
  const mark = `010${MILK}21abcDEF123456${GS}93Ab1x`;
  assert.equal(applyScan(counted, mark).ok, true);
  const again = applyScan(counted, mark);
  assert.equal(again.ok, false);
  assert.equal(again.reason, "mark_repeated");
  assert.equal(applyScan(counted, `010${MILK}21otherSerial01`).ok, true);
  assert.deepEqual(factLines(counted), [
    {
      line_no: 1,
      product_id: "milk",
      barcode: mark,
      quantity: "2",
      marks: [mark, `010${MILK}21otherSerial01`],
    },
  ]);
});

test("quantity control refuses more than planned, and only when it is on", () => {
  const controlled = job({ quantity_control: true });
  assert.equal(applyTyped(controlled, 1, "1,5").ok, true);
  const over = applyTyped(controlled, 1, "0.001");
  assert.equal(over.reason, "over_plan");
  assert.equal(controlled.counts[1], "1.5");
  const free = job({ quantity_control: false });
  assert.equal(applyTyped(free, 1, "2").ok, true);
  assert.equal(free.counts[1], "2");
});

test("unknown barcodes and bad quantities are refused and change nothing", () => {
  const counted = job();
  assert.equal(applyScan(counted, "4600000999990").reason, "unknown_barcode");
  assert.equal(applyTyped(counted, 0, "abc").reason, "bad_quantity");
  assert.equal(applyTyped(counted, 0, "0").reason, "bad_quantity");
  assert.deepEqual(factLines(counted), []);
});

test("a marking code scanned in the Russian layout, or without its GS, is sent as it reads", () => {
  const counted = job();
  // «abcDEF123456» and «Ab1x» typed through the Russian layout, and no GS before 93.
  const typed = `010${MILK}21фисВУА123456` + "93Ф" + "и1ч";
  assert.equal(applyScan(counted, typed).ok, true);
  const [line] = factLines(counted);
  const mark = `010${MILK}21abcDEF123456${GS}93Ab1x`;
  assert.deepEqual(line.marks, [mark]);
  assert.equal(line.barcode, mark);
  // The same pack scanned again as it should be: the same code, refused.
  assert.equal(applyScan(counted, mark).reason, "mark_repeated");
});

test("a barcode typed into the open quantity field is a scan, not a quantity", () => {
  assert.equal(scannedIntoQuantity("46009041"), true); // an EAN-8
  assert.equal(scannedIntoQuantity("4601234567893"), true);
  assert.equal(scannedIntoQuantity(`010${MILK}21abc`), true); // a marking code
  assert.equal(scannedIntoQuantity("104512"), true); // six digits: no one counts that by hand
  for (const quantity of ["12", "12345", "12,5", "0.375", "1 200"]) {
    assert.equal(scannedIntoQuantity(quantity), false, quantity);
  }
});

test("a short code typed at a scanner's pace into the quantity field is a scan", () => {
  const at = (gap, n) => Array.from({ length: n }, (_, i) => 1000 + i * gap);
  assert.equal(scannedIntoQuantity("12345", at(8, 5)), true); // a shop's own short code
  assert.equal(scannedIntoQuantity("1234", at(45, 4)), true); // a slow wedge
  assert.equal(scannedIntoQuantity("12345", at(150, 5)), false); // typed by hand
  assert.equal(scannedIntoQuantity("12", at(5, 2)), false); // too short to tell
  assert.equal(scannedIntoQuantity("12345", at(5, 3)), false); // only part of it typed so
  assert.equal(scannedIntoQuantity("12,5", []), false); // filled in, not typed
});

test("a tobacco block's GS after 8005 is kept, and a job counted before sends its marks as read", () => {
  const block = `010${MILK}21-wKdQZ7${GS}8005109000${GS}93abcd`;
  const counted = job();
  assert.equal(applyScan(counted, block).ok, true);
  assert.deepEqual(factLines(counted)[0].marks, [block]);
  // A job stored before marks were kept as read: the typed code goes as it reads.
  const old = job();
  const mark = `010${MILK}21abcDEF123456${GS}93Ab1x`;
  applyScan(old, mark);
  old.parts[0].marks = [`010${MILK}21фисВУА12345693Фи1ч`];
  assert.deepEqual(factLines(old)[0].marks, [mark]);
});

test("a scan on the list names the listed documents with that number or id in 1C", () => {
  const listed = [
    { delivery_id: "d1", document_id: "a1b2-guid", number: "0000-000123" },
    { delivery_id: "d2", document_id: "c3d4-guid", number: "ПТ-00045" },
    { delivery_id: "d3", document_id: "e5f6-guid", number: "0000-000124" },
    { delivery_id: "d4", document_id: "f7a8-guid", number: "ЦБ00-000125" },
  ];
  const named = (code) => documentsByScan(listed, code).map((d) => d.delivery_id);
  assert.deepEqual(named("0000-000123"), ["d1"]);
  assert.deepEqual(named(" 0000000124\n"), ["d3"]); // printed without its separator
  assert.deepEqual(named("пт-00045"), ["d2"]);
  assert.deepEqual(named("C3D4-GUID"), ["d2"]);
  assert.deepEqual(named("с3в4-пгшв"), ["d2"]); // its id typed through the Russian layout
  assert.deepEqual(named("]C10000-000124"), ["d3"]); // a scanner's symbology prefix dropped
  assert.deepEqual(named("ЦБ00-000125"), ["d4"]);
  assert.deepEqual(named("4601234567893"), []); // a product's barcode
  assert.deepEqual(named("00000125"), []); // an EAN-8: a number's letters are not dropped
  // A receipt and a shipment may share a number: both named, neither opened for the other.
  const twins = listed.concat([{ delivery_id: "d5", document_id: "b9c0-guid", number: "0000-000123" }]);
  assert.deepEqual(documentsByScan(twins, "0000-000123").map((d) => d.delivery_id), ["d1", "d5"]);
});

test("the last count is taken back once, its batch, marks and added line with it", () => {
  const counted = newJob({
    delivery_id: "d",
    settings: {},
    document: { header: { id: "doc" }, lines: [{ line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "5" }] },
  });
  applyScan(counted, MILK);
  applyScan(counted, MILK);
  assert.equal(counted.counts[0], "2");
  const undone = undoLast(counted);
  assert.deepEqual([undone.ok, undone.name, undone.quantity], [true, "Молоко", "1"]);
  assert.equal(counted.counts[0], "1");
  assert.deepEqual(factLines(counted).map((f) => f.quantity), ["1"]);
  assert.equal(undoLast(counted).reason, "nothing_to_undo"); // once
  // A marking code taken back may be scanned again; the line's first barcode goes with the count.
  const mark = `010${MILK}21abcDEF123456${GS}93Ab1x`;
  applyScan(counted, mark);
  assert.equal(counted.counts[0], "2");
  undoLast(counted);
  assert.equal(counted.counts[0], "1");
  assert.equal(applyScan(counted, mark).ok, true);
  assert.deepEqual(factLines(counted)[0].marks, [mark]);
  // A typed quantity, then the line cleared: nothing left to take back.
  applyTyped(counted, 0, "2");
  assert.equal(undoLast(counted).quantity, "2");
  applyScan(counted, MILK);
  clearLine(counted, 0);
  assert.equal(undoLast(counted).reason, "nothing_to_undo");
  assert.equal(counted.counts[0], "0");
});

test("the quantity field's typing is timed by what each input adds", () => {
  let times = typedKeys([], 1000, 1);
  times = typedKeys(times, 1100, 1);
  assert.deepEqual(times, [1000, 1100]);
  assert.deepEqual(typedKeys(times, 1200, 0), [1000, 1100]); // a deletion adds nothing
  assert.deepEqual(typedKeys(times, 2500, 1), [2500]); // after a pause: typing starts over
  // A wedge that commits a whole code in one input: every character at once, a scan.
  const committed = typedKeys([], 5000, 6);
  assert.equal(scannedIntoQuantity("123456", committed), true);
  assert.equal(scannedIntoQuantity("12", typedKeys([], 5000, 2)), false);
});

test("a refused scan leaves nothing to undo: the good one before it stays counted", () => {
  const counted = newJob({
    delivery_id: "d",
    settings: { quantity_control: true },
    document: { header: { id: "doc" }, lines: [{ line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "1" }] },
  });
  applyScan(counted, MILK);
  assert.equal(applyScan(counted, MILK).reason, "over_plan");
  assert.equal(undoLast(counted).reason, "nothing_to_undo");
  assert.equal(counted.counts[0], "1");
});
