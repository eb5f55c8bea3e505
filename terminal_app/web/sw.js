// The app shell for work without a connection. The page and its files come from the network
// when it answers (so an updated tsdx reaches terminals at once) and from this cache when it
// does not. API calls are never cached: the app keeps its own data in IndexedDB.

var CACHE = "tsdx-terminal-v1";
var SHELL = [
  "./",
  "manifest.webmanifest",
  "css/app.css",
  "js/app.js",
  "js/api.js",
  "js/acks.js",
  "js/barcodes.js",
  "js/decimal.js",
  "js/feedback.js",
  "js/i18n.js",
  "js/store.js",
  "js/work.js",
  "js/catalog.js",
  "icons/icon.svg",
  "icons/icon-192.png",
];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  var scope = new URL(self.registration.scope);
  if (url.pathname.indexOf(scope.pathname) !== 0) return;
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request, { ignoreSearch: true }).then(function (hit) {
        if (hit) return hit;
        if (request.mode === "navigate") return caches.match("./");
        return Response.error();
      });
    })
  );
});
