// CARE Offline service worker. Served by the server with VERSION, CRITICAL, OPTIONAL and
// ROUTES filled in. It keeps the app shell (pages, /pkg assets, icons) so a visited route
// reloads offline. It never touches /api/: patient data lives only in the per-user
// IndexedDB cache.
const VERSION = "__VERSION__";
// What the app cannot open offline without: "/", the wasm, its js and css. All or nothing.
const CRITICAL = __CRITICAL__;
// Nice to have (icons, manifest): a missing one never blocks an update.
const OPTIONAL = __OPTIONAL__;
// The app's route patterns: one shell each is precached (the server renders no record
// data into a shell, so one serves every record). Critical too.
const ROUTES = __ROUTES__;
const PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000";
const CACHE = `care-offline-shell-${VERSION}`;
// `name.<hash>.ext`, as the build names the app's files.
const HASHED = /\.[A-Za-z0-9_-]{16,}\.(js|wasm|css)$/;

async function fetchOk(url) {
  // A hashed file the page just loaded is in the HTTP cache, immutable: taking it from there
  // spares a second download of the app over a slow line. Anything else is fetched fresh.
  const cache = HASHED.test(url) ? "default" : "reload";
  const response = await fetch(new Request(url, { cache, credentials: "same-origin" }));
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response;
}

// A new version is installed only complete: every critical file is fetched first, and
// only then written to the new cache. If one is missing (a half-finished deploy, the line
// dropped mid-install) the install fails, the new cache is removed, and the old version
// keeps serving everything it had.
self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      await caches.delete(CACHE); // what an earlier failed attempt may have left
      try {
        const shells = ROUTES.filter((r) => /[:{]/.test(r)).map(
          (route) => new URL(route.replace(/\{[^}]+\}|:[A-Za-z_]+/g, PLACEHOLDER_ID), self.location.origin),
        );
        const [critical, shaped] = await Promise.all([
          Promise.all(CRITICAL.map(async (url) => [pageKey(new URL(url, self.location.origin)), await fetchOk(url)])),
          Promise.all(shells.map(async (url) => [shapeKey(url), await fetchOk(url.href)])),
        ]);
        const cache = await caches.open(CACHE);
        for (const [key, response] of [...critical, ...shaped]) await cache.put(key, response);
        await Promise.all(
          OPTIONAL.map((url) => cache.add(new Request(url, { cache: "reload" })).catch(() => undefined)),
        );
      } catch (err) {
        await caches.delete(CACHE);
        throw err;
      }
      // The first install takes over at once. An update waits: the page asks the person,
      // and says "skip-waiting" only after its sync pass (nothing queued is lost to a
      // reload in the middle of a send).
      if (!self.registration.active) await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((n) => n.startsWith("care-offline-shell-") && n !== CACHE)
          .map((n) => caches.delete(n)),
      );
      await self.clients.claim();
    })(),
  );
});

function isShellRequest(url) {
  return (
    url.origin === self.location.origin &&
    !url.pathname.startsWith("/api/") &&
    url.pathname !== "/health" &&
    url.pathname !== "/sw.js"
  );
}

// Pages are keyed by path only: the query string can carry a phone number.
function pageKey(url) {
  return new Request(url.origin + url.pathname);
}

// The same page for any record: ids replaced, so a patient page visited once lets every
// patient page open offline (the server renders no record data into the shell; the app
// then shows what IndexedDB has, or says plainly that it is not available offline).
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
function shapeKey(url) {
  return new Request(url.origin + "/__page-shape__" + url.pathname.replace(UUID, ":id"));
}

function markFromCache(response) {
  const headers = new Headers(response.headers);
  headers.set("x-sw-cache", "hit");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

const OFFLINE_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Offline · CARE Offline</title>
<link rel="stylesheet" href="__CSS__"></head><body><main class="offline-page">
<h1>This page is not available offline</h1>
<p>It was not opened on this device while online. Pages you have visited work without a network.</p>
<p><a href="/">Go to the home page</a></p></main></body></html>`;

// The app reports routes opened by client-side navigation (no page load went through
// this worker), so that reloading them offline works too.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "skip-waiting") {
    event.waitUntil(self.skipWaiting());
    return;
  }
  if (data.type !== "cache-page" || typeof data.url !== "string") return;
  const url = new URL(data.url, self.location.origin);
  if (!isShellRequest(url)) return;
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      if (await cache.match(pageKey(url))) return;
      try {
        const response = await fetch(url.origin + url.pathname, { credentials: "same-origin" });
        if (response.ok) {
          await cache.put(pageKey(url), response.clone());
          await cache.put(shapeKey(url), response);
        }
      } catch (err) {
        // Offline: it will be cached on the next visit.
      }
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (!isShellRequest(url)) return;

  if (request.mode === "navigate") {
    event.respondWith(
      (async () => {
        const cache = await caches.open(CACHE);
        try {
          const response = await fetch(request);
          if (response.ok) {
            await cache.put(pageKey(url), response.clone());
            await cache.put(shapeKey(url), response.clone());
          }
          return response;
        } catch (err) {
          const cached = (await cache.match(pageKey(url))) || (await cache.match(shapeKey(url)));
          if (cached) return markFromCache(cached);
          return new Response(OFFLINE_PAGE, {
            status: 503,
            headers: { "content-type": "text/html; charset=utf-8", "x-sw-cache": "offline-page" },
          });
        }
      })(),
    );
    return;
  }

  // A content-hashed file never changes under its name: from the cache when there.
  if (url.pathname.startsWith("/pkg/") && HASHED.test(url.pathname)) {
    event.respondWith(
      (async () => {
        const cache = await caches.open(CACHE);
        const cached = await cache.match(pageKey(url));
        if (cached) return markFromCache(cached);
        const response = await fetch(request);
        if (response.ok) await cache.put(pageKey(url), response.clone());
        return response;
      })(),
    );
    return;
  }

  // Other static files: network first so an unhashed file is never stale, cache when offline.
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await fetch(request);
        if (response.ok) {
          await cache.put(pageKey(url), response.clone());
          return response;
        }
        // A file the server lost (a half-finished deploy): the working copy, if any.
        const kept = await cache.match(pageKey(url));
        return kept ? markFromCache(kept) : response;
      } catch (err) {
        const cached = await cache.match(pageKey(url));
        if (cached) return markFromCache(cached);
        throw err;
      }
    })(),
  );
});
