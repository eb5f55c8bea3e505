// The catalog on the terminal (terminal_app/web/js/catalog.js) and what scanning does with it
// (work.js): sync pages applied and deleted, a box barcode counting its factor, a product
// outside the plan added or refused, cells scanned before goods, documents started here.
import { test } from "node:test";
import assert from "node:assert/strict";

import { parseScan } from "../../terminal_app/web/js/barcodes.js";
import { applyPage, findInCatalog } from "../../terminal_app/web/js/catalog.js";
import { multiply } from "../../terminal_app/web/js/decimal.js";
import { applyScan, factLines, newCreatedJob, newJob, undoLast } from "../../terminal_app/web/js/work.js";

const MILK = "4601234567893";
const BOX = "14601234567890";
const KEFIR = "4600000000019";

function memory() {
  const map = new Map();
  return {
    map,
    read: (key) => Promise.resolve(map.get(key)),
    write: (record) => map.set(record.key, record),
    drop: (key) => map.delete(key),
  };
}

function page(changes) {
  return { products: [], cells: [], warehouses: [], deleted: [], ...changes };
}

async function catalog() {
  const db = memory();
  await applyPage(page({
    products: [
      { id: "milk", name: "Молоко", unit: "шт", barcodes: [{ barcode: MILK }, { barcode: BOX, factor: "12" }] },
      { id: "kefir", name: "Кефир", unit: "шт", barcodes: [{ barcode: KEFIR, series: "K-7" }] },
    ],
    warehouses: [{ id: "wh", name: "Склад" }],
    cells: [{ id: "A-01", warehouse: "wh", name: "A-01", barcode: "CELL-A01" }, { id: "B-02", warehouse: "wh", name: "B-02", barcode: "CELL-B02" }],
  }), db.read, db.write, db.drop);
  return db;
}

async function scanWith(job, db, code) {
  const hit = await findInCatalog(parseScan(code), db.read);
  return applyScan(job, code, undefined, undefined, hit);
}

function job(settings, lines) {
  return newJob({ delivery_id: "d", settings: settings || {}, document: { header: { id: "doc" }, lines: lines || [] } });
}

test("decimal multiply is exact", () => {
  assert.equal(multiply("12", "1"), "12");
  assert.equal(multiply("0.5", "1.235"), "0.6175");
  assert.equal(multiply("1", "2.5"), "2.5");
});

test("a page replaces a product's barcodes and a tombstone removes it", async () => {
  const db = await catalog();
  assert.equal((await findInCatalog(parseScan(BOX), db.read)).entry.factor, "12");
  await applyPage(page({ products: [{ id: "milk", name: "Молоко", barcodes: [{ barcode: MILK }] }] }), db.read, db.write, db.drop);
  assert.equal(await findInCatalog(parseScan(BOX), db.read), null);
  await applyPage(page({ deleted: [{ kind: "product", id: "milk", version: 9 }, { kind: "cell", id: "A-01", version: 9 }] }), db.read, db.write, db.drop);
  assert.equal(await findInCatalog(parseScan(MILK), db.read), null);
  assert.equal(await findInCatalog(parseScan("CELL-A01"), db.read), null);
  assert.equal((await findInCatalog(parseScan("CELL-B02"), db.read)).cell.cell_id, "B-02");
});

test("a count without lines: catalog products become lines, a box counts 12, unknown is refused", async () => {
  const db = await catalog();
  const counting = job();
  assert.equal((await scanWith(counting, db, MILK)).ok, true);
  assert.equal((await scanWith(counting, db, BOX)).quantity, "12");
  assert.equal((await scanWith(counting, db, KEFIR)).ok, true);
  assert.equal((await scanWith(counting, db, "4699999999994")).reason, "unknown_barcode");
  assert.deepEqual(factLines(counting).map((f) => [f.line_no, f.product_id, f.barcode, f.quantity, f.series || ""]), [
    [undefined, "milk", MILK, "13", ""],
    [undefined, "kefir", KEFIR, "1", "K-7"],
  ]);
});

test("a box of a planned product counts on its line; outside the plan quantity control refuses", async () => {
  const db = await catalog();
  const picking = job({ quantity_control: true }, [{ line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "24" }]);
  assert.equal((await scanWith(picking, db, BOX)).line, 0);
  assert.equal(picking.counts[0], "12");
  const outside = await scanWith(picking, db, KEFIR);
  assert.equal(outside.reason, "not_in_plan");
  assert.equal(picking.lines.length, 1);
});

test("a box of a product planned on two lines fills the line with room, as a piece does", async () => {
  const db = await catalog();
  const picking = job({ quantity_control: true }, [
    { line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "12", cell: "A-01" },
    { line_no: 2, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "12", cell: "B-02" },
  ]);
  assert.equal((await scanWith(picking, db, BOX)).line, 0);
  assert.equal((await scanWith(picking, db, BOX)).line, 1);
  assert.deepEqual(picking.counts, ["12", "12"]);
  assert.equal((await scanWith(picking, db, BOX)).reason, "over_plan"); // both full
});

test("a cell scanned first holds for the goods after it; quantity control holds the planned cell", async () => {
  const db = await catalog();
  const placing = job({}, [{ line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "3" }]);
  assert.equal((await scanWith(placing, db, "CELL-A01")).cell, "A-01");
  await scanWith(placing, db, MILK);
  await scanWith(placing, db, MILK);
  await scanWith(placing, db, "CELL-B02");
  await scanWith(placing, db, MILK);
  assert.deepEqual(factLines(placing).map((f) => [f.line_no, f.cell, f.quantity]), [[1, "A-01", "2"], [1, "B-02", "1"]]);

  const held = job({ quantity_control: true }, [{ line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK], planned_qty: "3", cell: "A-01" }]);
  await scanWith(held, db, "CELL-B02");
  assert.equal((await scanWith(held, db, MILK)).reason, "cell_mismatch");
  await scanWith(held, db, "CELL-A01");
  assert.equal((await scanWith(held, db, MILK)).ok, true);
});

test("a document started on the terminal takes catalog products as lines of their own", async () => {
  const db = await catalog();
  const made = newCreatedJob({ id: "receipt-here", name: "Приёмка", terminal_type: "Поступление" });
  assert.match(made.delivery_id, /^new-[0-9a-f]{32}$/);
  assert.equal(made.made.document_id, made.delivery_id.slice(4));
  assert.match(made.summary.number, /^[0-9A-F]{8}$/);
  assert.equal(made.made.number, made.summary.number);
  await scanWith(made, db, MILK);
  await scanWith(made, db, BOX);
  assert.equal((await scanWith(made, db, "4699999999994")).reason, "unknown_barcode");
  assert.deepEqual(factLines(made), [{ product_id: "milk", barcode: MILK, quantity: "13" }]);
});

test("a weight label finds its weighed product by the product's own code, counting the weight", async () => {
  const db = memory();
  await applyPage(page({
    products: [
      { id: "cheese", name: "Сыр весовой", unit: "кг", barcodes: [{ barcode: "2200123" }] },
      { id: "ham", name: "Ветчина весовая", unit: "кг", barcodes: [{ barcode: "2200456000007" }] },
      { id: "candles", name: "Свечи", unit: "шт", barcodes: [{ barcode: "2000000012346" }] },
    ],
  }), db.read, db.write, db.drop);
  assert.equal(await findInCatalog(parseScan("2200789012340"), db.read), null); // no such product
  const counting = job();
  assert.equal((await scanWith(counting, db, "2200123012340")).ok, true); // 1.234 kg, by "2200123"
  assert.equal((await scanWith(counting, db, "2200456005002")).ok, true); // 0.5 kg, by its no-weight EAN-13
  // An in-store code 1C gave an ordinary product is that product's, one piece.
  assert.equal((await scanWith(counting, db, "2000000012346")).ok, true);
  assert.deepEqual(factLines(counting).map((f) => [f.product_id, f.barcode, f.quantity]), [
    ["cheese", "2200123012340", "1.234"],
    ["ham", "2200456005002", "0.5"],
    ["candles", "2000000012346", "1"],
  ]);
});

test("a weight label counts its weight on the planned line of its product; a zero weight is refused", async () => {
  const db = memory();
  await applyPage(page({
    products: [{ id: "cheese", name: "Сыр весовой", unit: "кг", barcodes: [{ barcode: "2200123" }] }],
  }), db.read, db.write, db.drop);
  // The plan names the product by another barcode: the catalog finds it, the weight counts there.
  const receipt = job({}, [{ line_no: 1, product_id: "cheese", name: "Сыр весовой", barcodes: ["4600000000019"], planned_qty: "2" }]);
  assert.equal((await scanWith(receipt, db, "2200123012340")).line, 0);
  assert.equal(receipt.counts[0], "1.234");
  const zero = await scanWith(receipt, db, "2200123000002");
  assert.equal(zero.reason, "zero_weight");
  assert.equal(receipt.counts[0], "1.234");
  assert.equal(receipt.lines.length, 1);
});

test("undoing the scan that added a product outside the plan takes its line away", async () => {
  const db = await catalog();
  const counting = job();
  await scanWith(counting, db, MILK);
  await scanWith(counting, db, KEFIR);
  assert.equal(counting.lines.length, 2);
  assert.equal(undoLast(counting).name, "Кефир");
  assert.equal(counting.lines.length, 1);
  assert.equal(counting.summary.lines, 1);
  assert.deepEqual(factLines(counting).map((f) => [f.product_id, f.quantity]), [["milk", "1"]]);
});

test("a refused scan of a product outside the plan leaves no empty line; undo takes back its own", async () => {
  const db = memory();
  await applyPage(page({
    products: [
      { id: "kefir", name: "Кефир", unit: "шт", barcodes: [{ barcode: KEFIR }] },
      { id: "cheese", name: "Сыр весовой", unit: "кг", barcodes: [{ barcode: "2200123" }] },
    ],
  }), db.read, db.write, db.drop);
  const counting = job();
  await scanWith(counting, db, KEFIR);
  assert.equal((await scanWith(counting, db, "2200123000002")).reason, "zero_weight");
  assert.deepEqual(counting.lines.map((l) => l.product_id), ["kefir"]); // no stray cheese line
  assert.equal(undoLast(counting).reason, "nothing_to_undo"); // the refused scan counted nothing
  await scanWith(counting, db, KEFIR);
  assert.equal(counting.counts[0], "2");
  assert.equal(undoLast(counting).name, "Кефир");
  assert.equal(counting.counts[0], "1");
});

test("1C's own 2000000… code of another product is that product's, not grams of a line", async () => {
  const db = memory();
  await applyPage(page({
    products: [{ id: "ketchup", name: "Кетчуп", unit: "шт", barcodes: [{ barcode: "2000000000022" }] }],
  }), db.read, db.write, db.drop);
  const receipt = job({}, [{ line_no: 1, product_id: "sauce", name: "Соус", barcodes: ["2000000000015"], unit: "шт", planned_qty: "2" }]);
  const outcome = await scanWith(receipt, db, "2000000000022");
  assert.equal(outcome.ok, true);
  assert.equal(receipt.counts[0], "0"); // not 0.002 of sauce
  assert.deepEqual(factLines(receipt).map((f) => [f.product_id, f.quantity]), [["ketchup", "1"]]);
});

test("a weighed line's own no-weight code scanned from a zero label is refused, a weight counted", async () => {
  const db = memory();
  const cheese = job({}, [{ line_no: 1, product_id: "cheese", name: "Сыр", barcodes: ["2212345000005"], unit: "кг", planned_qty: "2" }]);
  assert.equal((await scanWith(cheese, db, "2212345000005")).reason, "zero_weight");
  assert.equal((await scanWith(cheese, db, "2212345012350")).ok, true);
  assert.equal(cheese.counts[0], "1.235");
});

test("a box barcode listed on the line itself counts the catalog's factor", async () => {
  const db = await catalog(); // milk's box BOX has factor 12
  const receipt = job({}, [{ line_no: 1, product_id: "milk", name: "Молоко", barcodes: [MILK, BOX], planned_qty: "24" }]);
  assert.equal((await scanWith(receipt, db, BOX)).quantity, "12");
  assert.equal((await scanWith(receipt, db, MILK)).quantity, "1");
  assert.equal(receipt.counts[0], "13");
  // Another product's catalog entry never lends its factor to a line.
  const other = job({}, [{ line_no: 1, product_id: "juice", name: "Сок", barcodes: [BOX], planned_qty: "5" }]);
  assert.equal((await scanWith(other, db, BOX)).quantity, "1");
});
