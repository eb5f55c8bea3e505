// Where the terminal keeps its work: opened documents and the queue of unsent results in
// IndexedDB (they survive a reload, a crash and a dead battery); small settings in
// localStorage. Without IndexedDB the work is kept in memory and the app says so.

var NAME = "tsdx-terminal";
var VERSION = 2;
export var DOCS = "docs";
export var OUTBOX = "outbox";
// The base's catalog, one record per key: "p:<product id>", "b:<barcode>", "cell:<cell id>",
// "c:<cell barcode>" (see js/catalog.js).
export var CATALOG = "catalog";

function request(r) {
  return new Promise(function (resolve, reject) {
    r.onsuccess = function () { resolve(r.result); };
    r.onerror = function () { reject(r.error); };
  });
}

function done(tx) {
  return new Promise(function (resolve, reject) {
    tx.oncomplete = function () { resolve(); };
    tx.onerror = function () { reject(tx.error); };
    tx.onabort = function () { reject(tx.error); };
  });
}

class DiskStore {
  constructor(db) {
    this.db = db;
    this.durable = true;
  }
  async all(name) {
    var tx = this.db.transaction(name, "readonly");
    return request(tx.objectStore(name).getAll());
  }
  async get(name, key) {
    var tx = this.db.transaction(name, "readonly");
    return request(tx.objectStore(name).get(key));
  }
  // Resolves once the write is on disk (the transaction completed), not merely queued.
  async put(name, value) {
    var tx = this.db.transaction(name, "readwrite");
    tx.objectStore(name).put(value);
    return done(tx);
  }
  async remove(name, key) {
    var tx = this.db.transaction(name, "readwrite");
    tx.objectStore(name).delete(key);
    return done(tx);
  }
  async clear() {
    var tx = this.db.transaction([DOCS, OUTBOX, CATALOG], "readwrite");
    tx.objectStore(DOCS).clear();
    tx.objectStore(OUTBOX).clear();
    tx.objectStore(CATALOG).clear();
    return done(tx);
  }
  // Applies one page of catalog changes in one transaction: ``change(read, write, drop)`` is
  // given the store's get/put/delete; a page is stored whole or not at all.
  async change(name, change) {
    var tx = this.db.transaction(name, "readwrite");
    var store = tx.objectStore(name);
    await change(
      function (key) { return request(store.get(key)); },
      function (value) { store.put(value); },
      function (key) { store.delete(key); }
    );
    return done(tx);
  }
  async wipe(name) {
    var tx = this.db.transaction(name, "readwrite");
    tx.objectStore(name).clear();
    return done(tx);
  }
}

class MemoryStore {
  constructor() {
    this.maps = {};
    this.maps[DOCS] = new Map();
    this.maps[OUTBOX] = new Map();
    this.maps[CATALOG] = new Map();
    this.durable = false;
  }
  async all(name) { return Array.from(this.maps[name].values()); }
  async get(name, key) { return this.maps[name].get(key); }
  async put(name, value) {
    this.maps[name].set(name === DOCS ? value.delivery_id : name === OUTBOX ? value.result_id : value.key, value);
  }
  async remove(name, key) { this.maps[name].delete(key); }
  async clear() { this.maps[DOCS].clear(); this.maps[OUTBOX].clear(); this.maps[CATALOG].clear(); }
  async change(name, change) {
    var map = this.maps[name];
    await change(
      function (key) { return Promise.resolve(map.get(key)); },
      function (value) { map.set(value.key, value); },
      function (key) { map.delete(key); }
    );
  }
  async wipe(name) { this.maps[name].clear(); }
}

export async function openStore() {
  if (!window.indexedDB) return new MemoryStore();
  try {
    var opening = indexedDB.open(NAME, VERSION);
    opening.onupgradeneeded = function () {
      var db = opening.result;
      if (!db.objectStoreNames.contains(DOCS)) db.createObjectStore(DOCS, { keyPath: "delivery_id" });
      if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: "result_id" });
      if (!db.objectStoreNames.contains(CATALOG)) db.createObjectStore(CATALOG, { keyPath: "key" });
    };
    return new DiskStore(await request(opening));
  } catch (error) {
    return new MemoryStore();
  }
}

export var settings = {
  get: function (key, fallback) {
    try {
      var raw = localStorage.getItem("tsdx." + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (error) {
      return fallback;
    }
  },
  set: function (key, value) {
    if (value === null || value === undefined) localStorage.removeItem("tsdx." + key);
    else localStorage.setItem("tsdx." + key, JSON.stringify(value));
  },
};
