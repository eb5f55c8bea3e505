// The base's catalog on the terminal (docs/catalog.md): pages of the sync API applied to the
// CATALOG store, and the keys a scan is looked up by. Pure but for the store's functions
// passed in, so the same code runs in node's tests.
//
// Records, one per key:
//   "p:<id>"      a product: {id, name, article, unit, barcodes: [{barcode, factor, ...}]}
//   "b:<barcode>" a product's barcode: {barcode, product_id, name, article, unit, factor,
//                 characteristic, series}
//   "cell:<id>"   a cell: {id, warehouse, name, barcode}
//   "c:<barcode>" a cell's barcode: {barcode, cell_id, name, warehouse}
//   "w:<id>"      a warehouse: {id, name}

import { weighedProductCodes } from "./barcodes.js";

async function dropProduct(read, drop, id) {
  var old = await read("p:" + id);
  if (!old) return;
  old.barcodes.forEach(function (b) { drop("b:" + b.barcode); });
  drop("p:" + id);
}

async function dropCell(read, drop, id) {
  var old = await read("cell:" + id);
  if (!old) return;
  if (old.barcode) drop("c:" + old.barcode);
  drop("cell:" + id);
}

// One page: upserts replace the item (its old barcodes go), tombstones remove it.
// ``read(key)`` returns a promise of the record; ``write(record)`` and ``drop(key)`` queue.
export async function applyPage(page, read, write, drop) {
  var i;
  for (i = 0; i < page.products.length; i++) {
    var product = page.products[i];
    await dropProduct(read, drop, product.id);
    var barcodes = product.barcodes.map(function (b) {
      return { barcode: b.barcode, factor: String(b.factor || "1"), characteristic: b.characteristic || "", series: b.series || "" };
    });
    write({ key: "p:" + product.id, id: product.id, name: product.name, article: product.article || "", unit: product.unit || "", barcodes: barcodes });
    barcodes.forEach(function (b) {
      write({ key: "b:" + b.barcode, barcode: b.barcode, product_id: product.id, name: product.name, article: product.article || "", unit: product.unit || "", factor: b.factor, characteristic: b.characteristic, series: b.series });
    });
  }
  for (i = 0; i < page.cells.length; i++) {
    var cell = page.cells[i];
    await dropCell(read, drop, cell.id);
    write({ key: "cell:" + cell.id, id: cell.id, warehouse: cell.warehouse || "", name: cell.name || cell.id, barcode: cell.barcode || "" });
    if (cell.barcode) write({ key: "c:" + cell.barcode, barcode: cell.barcode, cell_id: cell.id, name: cell.name || cell.id, warehouse: cell.warehouse || "" });
  }
  for (i = 0; i < page.warehouses.length; i++) {
    var warehouse = page.warehouses[i];
    write({ key: "w:" + warehouse.id, id: warehouse.id, name: warehouse.name });
  }
  for (i = 0; i < page.deleted.length; i++) {
    var gone = page.deleted[i];
    if (gone.kind === "product") await dropProduct(read, drop, gone.id);
    else if (gone.kind === "cell") await dropCell(read, drop, gone.id);
    else if (gone.kind === "warehouse") drop("w:" + gone.id);
  }
}

// The barcodes a scan may be in the catalog as: the code as scanned, and for a marking or
// GS1 code the EAN-13 and GTIN-14 inside it; an EAN-13 also as its GTIN-14 (a catalog may
// keep either).
export function lookupCodes(scan) {
  var codes = [scan.code, scan.code.split("\u001d").join("")];
  if (scan.ean13) codes.push(scan.ean13);
  if (scan.gtin) codes.push(scan.gtin);
  if (/^[0-9]{13}$/.test(scan.code)) codes.push("0" + scan.code);
  if (/^0[0-9]{13}$/.test(scan.code)) codes.push(scan.code.slice(1));
  return codes.filter(function (code, i) { return code && codes.indexOf(code) === i; });
}

// What a scan finds in the catalog: {kind: "product", entry} or {kind: "cell", cell}, or null.
// An in-store weight label whose code is no product's finds its weighed product by the
// product's own code, with the label's weight: {kind: "product", entry, weight}.
export async function findInCatalog(scan, read) {
  var codes = lookupCodes(scan);
  for (var i = 0; i < codes.length; i++) {
    var entry = await read("b:" + codes[i]);
    if (entry) return { kind: "product", entry: entry };
  }
  if (scan.kind === "weight") {
    var weighed = weighedProductCodes(scan);
    for (var j = 0; j < weighed.length; j++) {
      var product = await read("b:" + weighed[j]);
      if (product) return { kind: "product", entry: product, weight: scan.quantity };
    }
  }
  var cell = await read("c:" + scan.code);
  return cell ? { kind: "cell", cell: cell } : null;
}
