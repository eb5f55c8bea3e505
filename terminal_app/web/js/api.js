// The tsdx terminal APIs as the app calls them: the internet one (a paired device with its
// credential) and the LAN one (a user's session). Same origin as the page.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || "HTTP " + status);
    this.status = status;
    this.code = (body && body.code) || "http_" + status;
    this.body = body || {};
  }
  // Worth sending again later: the server is busy or restarting, not refusing the request.
  get retryable() {
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

export class NetworkError extends Error {}

async function call(method, path, options) {
  var headers = { Accept: "application/json", "Accept-Language": options.language || "ru" };
  if (options.token) headers.Authorization = "Bearer " + options.token;
  var init = { method: method, headers: headers, cache: "no-store", signal: options.signal };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  var response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new NetworkError(String(error));
  }
  var body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function query(params) {
  return Object.keys(params)
    .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); })
    .join("&");
}

export class InternetApi {
  constructor(credential, language) {
    this.token = credential;
    this.language = language;
  }
  opts(extra) {
    return Object.assign({ token: this.token, language: this.language }, extra || {});
  }
  pair(body) {
    return call("POST", "/api/v1/terminal/pair", this.opts({ body: body }));
  }
  me() {
    return call("GET", "/api/v1/terminal/me", this.opts());
  }
  inbox(wait, known, signal) {
    return call("GET", "/api/v1/terminal/inbox?" + query({ wait: wait, known: known }), this.opts({ signal: signal }));
  }
  download(id) {
    return call("GET", "/api/v1/terminal/documents/" + encodeURIComponent(id), this.opts());
  }
  acknowledge(id) {
    return call("POST", "/api/v1/terminal/documents/" + encodeURIComponent(id) + "/ack", this.opts());
  }
  acknowledgeMany(ids) {
    return call("POST", "/api/v1/terminal/documents/ack", this.opts({ body: { delivery_ids: ids } }));
  }
  sendResult(item) {
    if (item.made) return call("POST", "/api/v1/terminal/created", this.opts({ body: createdBody(item) }));
    return call("POST", "/api/v1/terminal/documents/" + encodeURIComponent(item.delivery_id) + "/results",
      this.opts({ body: { result_id: item.result_id, final: item.final, lines: item.lines } }));
  }
  processes() {
    return call("GET", "/api/v1/terminal/processes", this.opts());
  }
  catalog(since) {
    return call("GET", "/api/v1/terminal/catalog?" + query({ since: since }), this.opts());
  }
  createdStatus(made, resultId) {
    return call("GET", "/api/v1/terminal/created/" + encodeURIComponent(made.document_id) + "/results/" + encodeURIComponent(resultId), this.opts());
  }
}

export class LanApi {
  constructor(token, language) {
    this.token = token;
    this.language = language;
  }
  opts(extra) {
    return Object.assign({ token: this.token, language: this.language }, extra || {});
  }
  login(body) {
    return call("POST", "/api/v1/lan/login", this.opts({ body: body }));
  }
  logout() {
    return call("POST", "/api/v1/lan/logout", this.opts());
  }
  me() {
    return call("GET", "/api/v1/lan/me", this.opts());
  }
  documents() {
    return call("GET", "/api/v1/lan/documents", this.opts());
  }
  download(id) {
    return call("GET", "/api/v1/lan/documents/" + encodeURIComponent(id), this.opts());
  }
  take(id) {
    return call("POST", "/api/v1/lan/documents/" + encodeURIComponent(id) + "/take", this.opts());
  }
  release(id) {
    return call("POST", "/api/v1/lan/documents/" + encodeURIComponent(id) + "/release", this.opts());
  }
  sendResult(item) {
    if (item.made) return call("POST", "/api/v1/lan/created", this.opts({ body: createdBody(item) }));
    return call("POST", "/api/v1/lan/documents/" + encodeURIComponent(item.delivery_id) + "/results",
      this.opts({ body: { result_id: item.result_id, final: item.final, lines: item.lines } }));
  }
  processes() {
    return call("GET", "/api/v1/lan/processes", this.opts());
  }
  catalog(since) {
    return call("GET", "/api/v1/lan/catalog?" + query({ since: since }), this.opts());
  }
  createdStatus(made, resultId) {
    return call("GET", "/api/v1/lan/created/" + encodeURIComponent(made.document_id) + "/results/" + encodeURIComponent(resultId), this.opts());
  }
}

// A document started on this terminal: sent once, finished, with the id made here.
function createdBody(item) {
  var made = item.made;
  return {
    document_id: made.document_id, result_id: item.result_id, process: made.process,
    number: made.number, date: made.date, lines: item.lines,
  };
}
